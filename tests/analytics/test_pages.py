import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from elearn import clock
from elearn.analytics import exports as report_exports
from elearn.analytics.models import ReportExport
from elearn.audit.models import AuditEntry
from elearn.extensions import db
from elearn.ledger.models import StudyCredit
from elearn.policy import ANALYTICS
from elearn.queue import get_huey
from elearn.storage import get_storage


@pytest.fixture
def tree(make_org, make_user):
    county = make_org("县委", sector="rural")
    town = make_org("镇党委", parent=county)
    branch = make_org("东村支部", kind="branch", parent=town)
    other = make_org("外县", sector="community")
    p = {"county": county, "town": town, "branch": branch, "other": other,
         "site": make_user("site", org=county, role="site_admin"),
         "townadmin": make_user("townadmin", org=town, role="org_admin"),
         "member": make_user("member1", org=branch, name="东村党员"),
         "outsider": make_user("outsider", org=other, name="外县党员")}
    db.session.add(StudyCredit(user_id=p["member"].id, hours=12.5, kind="lesson", source_kind="lesson", source_id=1,
                               title="t", innovative_theory=True, credited_on=clock.site_today(),
                               organisation_id=branch.id))
    db.session.commit()
    return p


def test_member_gets_403(client, auth, tree):
    auth.login("member1")
    assert client.get("/analytics/").status_code == 403
    assert client.post("/analytics/exports").status_code == 403
    assert client.get("/analytics/snapshot.json").status_code == 403


def test_org_admin_sees_only_subtree(client, auth, tree):
    auth.login("townadmin")
    page = client.get("/analytics/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "镇党委" in html and "东村支部" in html and "<svg" in html
    assert "东村党员" in html  # 12.5 h is behind pace: listed at risk
    assert client.get(f"/analytics/?org={tree['branch'].id}").status_code == 200
    assert client.get(f"/analytics/?org={tree['county'].id}").status_code == 404
    assert client.get(f"/analytics/?org={tree['other'].id}").status_code == 404
    assert client.post(f"/analytics/exports?org={tree['other'].id}").status_code == 404
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline scripts (CSP); the charts are plain SVG


def test_export_xlsx_by_job_with_progress_page(client, auth, tree):
    auth.login("site")
    r = client.post(f"/analytics/exports?org={tree['county'].id}")
    assert r.status_code == 302
    page_url = r.headers["Location"]
    export = db.session.execute(select(ReportExport)).scalar_one()
    assert page_url.endswith(f"/analytics/exports/{export.id}")
    # Jobs run inline in tests: the page and its JSON already say ready, with the download link.
    status = client.get(page_url + "?format=json").get_json()
    assert status["status"] == "ready" and status["progress"] == 100 and status["rows"] == 2
    html = client.get(page_url).get_data(as_text=True)
    assert status["download_url"] in html and 'data-poll="' in html
    r = client.get(status["download_url"])
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in r.headers["Content-Disposition"]
    data = r.data
    r.close()  # the file is streamed from storage
    wb = load_workbook(io.BytesIO(data), read_only=True)
    assert len(wb.sheetnames) == 7
    summary = list(wb[wb.sheetnames[0]].iter_rows(values_only=True))
    assert summary[1][0] == "县委" and summary[1][1] == 2 and summary[1][7] == 12.5
    at_risk = list(wb[wb.sheetnames[-1]].iter_rows(values_only=True))
    assert [row[1] for row in at_risk[1:]] == ["townadmin", "member1"]  # furthest behind first
    entry = db.session.execute(select(AuditEntry).filter_by(action="analytics.export")).scalar_one()
    assert entry.actor_id == tree["site"].id and entry.after["organisation_id"] == tree["county"].id
    fetched = db.session.execute(select(AuditEntry).filter_by(action="analytics.export.download")).scalar_one()
    assert fetched.actor_id == tree["site"].id and fetched.object_id == export.id
    # The dashboard lists the export; only its requester can open or download it.
    assert f"/analytics/exports/{export.id}" in client.get(f"/analytics/?org={tree['county'].id}").get_data(
        as_text=True)
    client.post("/auth/logout")
    auth.login("townadmin")
    assert client.get(page_url).status_code == 404
    assert client.get(status["download_url"]).status_code == 404


def test_exports_expire_with_their_files(app, client, auth, tree):
    auth.login("townadmin")
    client.post("/analytics/exports")
    export = db.session.execute(select(ReportExport)).scalar_one()
    path = get_storage().path(export.storage_key)
    assert path.exists()
    assert report_exports.expire_exports(now=export.created_at + timedelta(hours=1)) == 0
    later = export.created_at + timedelta(hours=ANALYTICS.export_keep_hours, minutes=1)
    assert report_exports.expire_exports(now=later) == 1
    assert not path.exists() and db.session.scalar(select(func.count()).select_from(ReportExport)) == 0


def test_large_subtree_shows_snapshot_progress_then_figures(app, client, auth, tree):
    app.config["ELEARN_ANALYTICS_LIVE_MEMBERS"] = 0
    huey = get_huey()
    huey.immediate = False
    try:
        auth.login("site")
        html = client.get(f"/analytics/?org={tree['county'].id}").get_data(as_text=True)
        assert "正在生成统计" in html and 'data-poll="/analytics/snapshot.json"' in html and "js/poll.js" in html
        assert client.get("/analytics/snapshot.json").get_json()["status"] == "queued"
        for task in huey.pending():
            huey.execute(task)
    finally:
        huey.immediate = True
    assert client.get("/analytics/snapshot.json").get_json()["status"] == "ready"
    html = client.get(f"/analytics/?org={tree['county'].id}").get_data(as_text=True)
    assert "东村党员" in html and "数据更新于" in html and "此后没有新的变化" in html


def test_refresh_button_queues_a_snapshot_only_when_figures_changed(app, client, auth, tree):
    from elearn.analytics.models import AnalyticsSnapshot
    auth.login("member1")
    assert client.post("/analytics/snapshot").status_code == 403
    client.post("/auth/logout")
    auth.login("townadmin")
    client.post("/analytics/snapshot")
    # A small site: every dashboard is live, no snapshot needed.
    assert db.session.scalar(select(func.count()).select_from(AnalyticsSnapshot)) == 0
    app.config["ELEARN_ANALYTICS_LIVE_MEMBERS"] = 0
    assert client.post("/analytics/snapshot", csrf=False).status_code == 400  # CSRF token required
    assert client.post("/analytics/snapshot").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(AnalyticsSnapshot)) == 1  # computed (inline in tests)
    assert client.get("/analytics/snapshot.json").get_json()["status"] == "ready"
    client.post("/analytics/snapshot")
    assert db.session.scalar(select(func.count()).select_from(AnalyticsSnapshot)) == 1  # still exact: nothing to do
    db.session.add(StudyCredit(user_id=tree["member"].id, hours=1, kind="lesson", source_kind="lesson",
                               source_id=2, title="t", credited_on=clock.site_today(),
                               organisation_id=tree["branch"].id))
    db.session.commit()
    client.post("/analytics/snapshot")
    # The last one finished moments ago: not yet.
    assert db.session.scalar(select(func.count()).select_from(AnalyticsSnapshot)) == 1
    snap = db.session.execute(select(AnalyticsSnapshot)).scalar_one()
    snap.finished_at = clock.now_utc() - timedelta(minutes=ANALYTICS.snapshot_every_minutes + 1)
    db.session.commit()
    client.post("/analytics/snapshot")
    assert db.session.scalar(select(func.count()).select_from(AnalyticsSnapshot).filter_by(status="ready")) == 2


def test_pending_page_reports_a_failed_snapshot(app, client, auth, tree):
    from elearn.analytics import sources as snapshots
    from elearn.analytics.models import AnalyticsSnapshot
    app.config["ELEARN_ANALYTICS_LIVE_MEMBERS"] = 0
    now = clock.now_utc()
    db.session.add(AnalyticsSnapshot(status="failed", as_of=clock.site_today(), started_at=now,
                                     finished_at=now, policy_hash=snapshots.policy_hash(), error="boom"))
    db.session.commit()
    auth.login("site")
    html = client.get("/analytics/").get_data(as_text=True)
    assert "正在生成统计" in html and "失败" in html
    assert client.get("/analytics/snapshot.json").get_json()["status"] == "failed"
    assert db.session.scalar(select(func.count()).select_from(AnalyticsSnapshot)) == 1
