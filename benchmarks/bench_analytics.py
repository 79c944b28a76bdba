"""Analytics benchmark: the organisation dashboard for a committee covering 100,000 members.

Builds a temporary SQLite database (the embedded default) with a committee → towns → branches tree, the
members (about 1 % exempt, 3 % branch secretaries) and a year of study-hours ledger activity, bulk-inserted
with executemany, then ``summaries.rebuild_summaries()`` as after any bulk import. Then times the parts
computed live over the whole tree, the snapshot job, ``analytics.dashboard`` for the top committee and a town
(drill-down) from a current snapshot, from a stale one and live, the XLSX export job, and the page render
through the test client (charts included).

    python benchmarks/bench_analytics.py                     # 100,000 members
    python benchmarks/bench_analytics.py --members 10000     # quick run
    python benchmarks/bench_analytics.py --members 1000000 --no-parts   # the parts are in the snapshot job

After the full snapshot job it times the incremental ones: after one credit, after an hour of a busy site's
study (members of 1 % of the branches credited through ledger.credit), and the next day (the pace judged
again for everyone; completions per series copied but for the credited branches).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SEED = 20240601
RUNS = 3


def build(db, members: int, per_member: float, today: date) -> dict:
    from sqlalchemy import insert

    from elearn.courses.models import Course, Series, SeriesCourse
    from elearn.ledger.models import StudyCredit
    from elearn.orgs.models import Organisation, User

    rng = random.Random(SEED)
    conn = db.session.connection()
    towns, branches_per_town = 20, 25
    sectors = ["rural", "community", "government", "enterprise.soe", "institution.education"]
    orgs = [{"id": 1, "name": "市委", "kind": "committee", "sector": "government", "parent_id": None,
             "path": "/1/", "county_level_or_above": True}]
    branch_ids = []
    next_id = 2
    for t in range(towns):
        tid = next_id
        next_id += 1
        orgs.append({"id": tid, "name": f"镇党委{t + 1:02d}", "kind": "committee", "sector": sectors[t % 5],
                     "parent_id": 1, "path": f"/1/{tid}/", "county_level_or_above": False})
        for b in range(branches_per_town):
            bid = next_id
            next_id += 1
            orgs.append({"id": bid, "name": f"支部{t + 1:02d}-{b + 1:02d}", "kind": "branch",
                         "sector": sectors[t % 5], "parent_id": tid, "path": f"/1/{tid}/{bid}/",
                         "county_level_or_above": False})
            branch_ids.append(bid)
    conn.execute(insert(Organisation), orgs)
    users = [{"id": 1, "username": "bench-admin", "name": "管理员", "password_hash": "x", "role": "site_admin",
              "category": "member", "exempt": False, "organisation_id": 1, "active": True, "session_version": 1,
              "failed_logins": 0}]
    for i in range(2, members + 2):
        exempt = rng.random() < 0.01
        users.append({"id": i, "username": f"m{i}", "name": f"党员{i}", "password_hash": "x", "role": "member",
                      "category": "branch_secretary" if rng.random() < 0.03 else "member", "exempt": exempt,
                      "exempt_reason": "年老体弱" if exempt else None, "organisation_id": rng.choice(branch_ids),
                      "active": True, "session_version": 1, "failed_logins": 0})
    for chunk in range(0, len(users), 20_000):
        conn.execute(insert(User), users[chunk:chunk + 20_000])
    courses = [{"id": c, "title": f"课程{c}", "description": "", "category": "political_theory",
                "innovative_theory": c % 2 == 0, "declared_hours": 2.0, "lecturer_id": 1, "status": "approved"}
               for c in range(1, 41)]
    conn.execute(insert(Course), courses)
    conn.execute(insert(Series), [{"id": s, "title": f"专题{s}", "description": "", "required": s < 3,
                                   "published": True, "created_by_id": 1} for s in range(1, 9)])
    conn.execute(insert(SeriesCourse), [{"series_id": (c - 1) // 5 + 1, "course_id": c, "position": c % 5}
                                        for c in range(1, 41)])
    start = today - timedelta(days=365)
    rows, n = [], 0
    for uid in range(2, members + 2):
        org_id = users[uid - 1]["organisation_id"]
        k = max(0, int(rng.gauss(per_member, per_member / 3)))
        for c in rng.sample(range(1, 41), min(k, 40)):
            n += 1
            rows.append({"user_id": uid, "hours": 2.5, "kind": "course", "source_kind": "course", "source_id": c,
                         "course_id": c, "title": f"课程{c}", "category": "political_theory",
                         "innovative_theory": c % 2 == 0, "offjob": False, "county_level": False,
                         "credited_on": start + timedelta(days=rng.randrange(366)), "organisation_id": org_id})
        if len(rows) >= 50_000:
            conn.execute(insert(StudyCredit), rows)
            rows = []
    if rows:
        conn.execute(insert(StudyCredit), rows)
    db.session.commit()
    return {"orgs": len(orgs), "members": members, "credits": n}


def timed(fn, runs=RUNS):
    times, result = [], None
    for _i in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--per-member", type=float, default=12.0, help="mean ledger entries per member-year")
    parser.add_argument("--no-parts", action="store_true",
                        help="skip timing the snapshot's parts one by one (three runs each: long at 1,000,000)")
    parser.add_argument("--database-url", default="",
                        help="an EMPTY PostgreSQL database to use instead of a temporary SQLite file "
                             "(postgresql://user@host:port/db); its tables are dropped at the start")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-analytics-")
    os.environ["ELEARN_INSTANCE"] = tmp
    from elearn import create_app
    from elearn.extensions import db

    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app = create_app({"INSTANCE_PATH": tmp, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    today = date(2024, 12, 31)
    with app.app_context():
        print(f"database: {db.engine.dialect.name}")
        db.drop_all()
        db.create_all()
        t0 = time.perf_counter()
        sizes = build(db, args.members, args.per_member, today)
        build_s = time.perf_counter() - t0
        from elearn.ledger import summaries
        t0 = time.perf_counter()
        summaries.rebuild_summaries()  # the bulk insert bypassed ledger.credit, as an import would
        rebuild_s = time.perf_counter() - t0
        from sqlalchemy import select, text
        if db.engine.dialect.name == "postgresql":  # rows were inserted with their ids: move the sequences on
            for table in ("organisation", "user_account", "course", "series", "series_course", "study_credit"):
                db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT max(id) FROM {table}))"))
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        print(f"data: {sizes['orgs']} organisations, {sizes['members']:,} members, {sizes['credits']:,} ledger "
              f"entries (built in {build_s:.1f} s; summaries rebuilt in {rebuild_s:.1f} s)")

        from elearn.analytics import dashboard as analytics
        from elearn.analytics import exports as report_exports
        from elearn.analytics import queries
        from elearn.analytics import sources as snapshots
        from elearn.ledger.models import StudyCredit
        from elearn.orgs.models import Organisation, User
        admin = db.session.get(User, 1)
        top = db.session.get(Organisation, 1)
        town = db.session.get(Organisation, 2)
        scope = queries.Scope.of(top, today)
        print("computed live over the whole tree (what a snapshot job does):")
        parts = {"per-organisation sums": lambda: queries.org_bin_rows(scope),
                 "monthly trend": lambda: queries.monthly_rows(scope),
                 "completions per series": lambda: queries.series_org_rows(scope),
                 "at-risk list (first 50)": lambda: queries.at_risk_rows(scope, 50)}
        for name, fn in parts.items():
            if args.no_parts:
                break
            med, best, _r = timed(fn)
            print(f"  {name}: median {med * 1000:.0f} ms, best {best * 1000:.0f} ms")
        med, best, _r = timed(lambda: snapshots.fingerprint(today))
        print(f"  fingerprint (is a snapshot current?): median {med * 1000:.1f} ms")
        med, best, _r = timed(lambda: queries.member_count(top.path))
        print(f"  member count of the committee (live or snapshot?): median {med * 1000:.1f} ms")
        med, best, snap = timed(lambda: snapshots.take_snapshot(today=today), runs=1)
        print(f"snapshot job (whole tree, {snap.members:,} members, {snap.mode}): {med:.1f} s")

        med, best, d = timed(lambda: analytics.dashboard(admin, top, today))
        s = d["summary"]
        assert d["source"]["kind"] == "snapshot" and d["source"]["exact"]
        print(f"dashboard service, committee of {s['members']:,} members, current snapshot: median "
              f"{med * 1000:.0f} ms, best {best * 1000:.0f} ms  (on pace {s['on_pace_share'] * 100:.1f} %, at risk "
              f"{s['at_risk']:,}, {len(d['children'])} child organisations)")
        med, best, d = timed(lambda: analytics.dashboard(admin, town, today))
        print(f"dashboard service, one town of {d['summary']['members']:,} members, current snapshot: median "
              f"{med * 1000:.0f} ms, best {best * 1000:.0f} ms")
        # A credit lands: the snapshot is no longer exact.
        db.session.add(StudyCredit(user_id=2, hours=1.0, kind="reading", source_kind="reading", source_id=1,
                                   title="bench", credited_on=today, organisation_id=2 + 1))
        db.session.commit()
        med, best, d = timed(lambda: analytics.dashboard(admin, top, today))
        assert d["source"]["kind"] == "snapshot" and not d["source"]["exact"]
        print(f"dashboard service, committee, after a new credit (stale snapshot shown with its time): median "
              f"{med * 1000:.0f} ms, best {best * 1000:.0f} ms")
        med, best, d = timed(lambda: analytics.dashboard(admin, town, today))
        limit = app.config["ELEARN_ANALYTICS_LIVE_MEMBERS"]
        # A town under the live limit is computed live; above it (a million members make towns of 50,000) the
        # stale snapshot is shown, as for the committee.
        assert d["source"]["kind"] == ("live" if d["summary"]["members"] <= limit else "snapshot")
        how = f"computed live (under the live limit of {limit:,})" if d["source"]["kind"] == "live" \
            else f"stale snapshot (over the live limit of {limit:,})"
        print(f"dashboard service, one town of {d['summary']['members']:,} members, {how}: median "
              f"{med * 1000:.0f} ms, best {best * 1000:.0f} ms")
        med, best, snap = timed(lambda: snapshots.take_snapshot(today=today), runs=1)
        print(f"snapshot job after that credit ({snap.mode}, {snap.recomputed_orgs} of {sizes['orgs']} "
              f"organisations computed): {med:.1f} s")
        from elearn.ledger import services as ledger
        branch_ids = [o for (o,) in db.session.execute(select(Organisation.id).where(Organisation.kind == "branch")
                                                       .order_by(Organisation.id))]
        busy = random.Random(SEED + 1).sample(branch_ids, max(1, len(branch_ids) // 100))
        studying = db.session.execute(select(User).where(User.organisation_id.in_(busy)).order_by(User.id)
                                      .limit(2000)).scalars().all()
        t0 = time.perf_counter()
        for i, member in enumerate(studying):
            ledger.credit(member, kind="reading", source_kind="reading", source_id=100_000 + i, hours=1.5,
                          title="读本", category=None, innovative_theory=True, credited_on=today)
        db.session.commit()
        credit_s = time.perf_counter() - t0
        med, best, snap = timed(lambda: snapshots.take_snapshot(today=today), runs=1)
        print(f"snapshot job after {len(studying):,} members of {len(busy)} branches were credited ({credit_s:.1f} s "
              f"through ledger.credit): {snap.mode}, {snap.recomputed_orgs} organisations computed, {med:.1f} s")
        export = report_exports.ReportExport(kind="analytics", requested_by_id=1, organisation_id=1)
        db.session.add(export)
        db.session.commit()
        from unittest import mock
        real_export_rows = analytics.export_rows
        with mock.patch.object(analytics, "export_rows",
                               lambda actor, org, today_=None, progress=None: real_export_rows(
                                   actor, org, today, progress)):
            med, best, export = timed(lambda: report_exports.run_analytics_export(export.id), runs=1)
        print(f"export job (XLSX with all {export.rows:,} at-risk members, {export.size // 1024} KiB, from the "
              f"current snapshot): {med:.1f} s")
        med, best, snap = timed(lambda: snapshots.take_snapshot(today=today + timedelta(days=1)), runs=1)
        print(f"snapshot job the next day ({snap.mode}: the pace of every member judged again, completions per "
              f"series computed for {snap.recomputed_orgs} organisations): {med:.1f} s")
        med, best, snap = timed(lambda: snapshots.take_snapshot(today=today + timedelta(days=1), full=True), runs=1)
        print(f"the same, forced full (elearn analytics snapshot --full): {med:.1f} s")

        from elearn.auth import services as auth
        login = auth.start_session(admin, ip="127.0.0.1", user_agent="bench", remember=False).id  # a real sign-in

    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = login
        sess["_fresh"] = True
    from unittest import mock

    import elearn.analytics.dashboard as svc
    real = svc.dashboard
    with mock.patch.object(svc, "dashboard", lambda actor, org, today_=None: real(actor, org, today)):
        med, best, resp = timed(lambda: client.get("/analytics/?org=1"))
        assert resp.status_code == 200, (resp.status_code, resp.headers.get("Location"))
        print(f"dashboard page (GET /analytics/?org=1, {len(resp.data) // 1024} KiB HTML with SVG): "
              f"median {med * 1000:.0f} ms, best {best * 1000:.0f} ms")


if __name__ == "__main__":
    main()
