"""Snapshots: the dashboard read from a snapshot of the whole tree equals the one computed live, for every
organisation; stale snapshots say so; a large subtree without one waits for the job."""
import random
from datetime import date, timedelta

import pytest

from elearn import clock
from elearn.analytics import dashboard as analytics
from elearn.analytics import exports as report_exports
from elearn.analytics import queries
from elearn.analytics import sources as snapshots
from elearn.analytics import tasks as analytics_tasks
from elearn.analytics.models import AnalyticsSnapshot, SnapshotRisk
from elearn.auth import services as auth
from elearn.auth import tokens
from elearn.courses import series as series_svc
from elearn.courses.models import Lesson
from elearn.extensions import db
from elearn.ledger import services as ledger
from elearn.ledger import summaries
from elearn.ledger.models import StudyCredit
from elearn.media.models import MediaAsset
from elearn.orgs import members as users
from elearn.orgs.models import Membership, User
from elearn.queue import get_huey

TODAY = date(2026, 7, 2)
COMPARED = ("summary", "direct", "children", "sectors", "histogram", "monthly", "series", "at_risk")


@pytest.fixture
def forest(make_org, make_user, make_course, make_lesson, publish):
    """Two trees (county → towns → branches, and a second county), 60 members with random categories,
    exemptions and ledger rows, two series of declared-hours and time-credited courses."""
    rng = random.Random(7)
    county = make_org("县委", sector="rural")
    towns = [make_org(f"镇{i}", parent=county, sector=("rural", "community")[i % 2]) for i in range(2)]
    branches = [make_org(f"支部{i}", kind="branch", parent=towns[i % 2], sector=towns[i % 2].sector)
                for i in range(4)]
    other = make_org("外县", sector="government")
    homes = [county, *towns, *branches, other]
    site = make_user("site", org=county, role="site_admin")
    members = []
    for i in range(60):  # straight to the table: nobody signs in, and hashing 60 passwords takes seconds
        exempt = rng.random() < 0.1
        members.append(User(username=f"m{i:02d}", name=f"党员{rng.randrange(20):02d}", password_hash="-",
                            role="member", organisation=rng.choice(homes), exempt=exempt,
                            category=rng.choice(["member", "member", "branch_secretary"]),
                            exempt_reason="年老体弱" if exempt else None))
    db.session.add_all(members)
    db.session.commit()
    declared = [make_course(title=f"D{i}", declared_hours=2) for i in range(3)]
    timed = make_course(title="T")
    lessons = [make_lesson(timed, f"L{i}", duration=60, position=i) for i in range(2)]
    series = [publish(declared[:2], sectors=["rural"], title="甲专题"),
              publish([declared[2], timed], sectors=["community"], title="乙专题")]
    n = 0
    for m in members:
        for _i in range(rng.randrange(6)):
            n += 1
            db.session.add(StudyCredit(user_id=m.id, hours=rng.choice([0.5, 0.6667, 2.335, 5, 20, 60]), kind="reading",
                                       source_kind="reading", source_id=n, title="r",
                                       innovative_theory=rng.random() < 0.5,
                                       credited_on=TODAY - timedelta(days=rng.randrange(900)) + timedelta(days=3),
                                       organisation_id=m.organisation_id))
        for c in rng.sample(declared, rng.randrange(4)):
            db.session.add(StudyCredit(user_id=m.id, hours=2, kind="course", source_kind="course", source_id=c.id,
                                       course_id=c.id, title=c.title, credited_on=TODAY - timedelta(days=9),
                                       organisation_id=m.organisation_id))
        for les in rng.sample(lessons, rng.randrange(3)):
            db.session.add(StudyCredit(user_id=m.id, hours=0.25, kind="lesson", source_kind="lesson",
                                       source_id=les.id, course_id=timed.id, title=les.title,
                                       credited_on=TODAY - timedelta(days=5), organisation_id=m.organisation_id))
    db.session.commit()
    return {"site": site, "orgs": [county, *towns, *branches, other], "members": members, "county": county,
            "series": series, "timed": timed}


def comparable(d):
    return {k: d[k] for k in COMPARED}


def test_snapshot_equals_live_for_every_organisation(forest):
    site = forest["site"]
    live = {o.id: analytics.dashboard(site, o, today=TODAY) for o in forest["orgs"]}
    assert all(d["source"]["kind"] == "live" for d in live.values())
    assert sum(live[forest["county"].id]["summary"][k] for k in ("on_pace", "exempt")) > 0
    assert live[forest["county"].id]["summary"]["at_risk"] > 0
    assert any(s["completed"] for s in live[forest["county"].id]["series"])

    snap = snapshots.take_snapshot(today=TODAY)
    assert snap.status == "ready" and snap.progress == 100
    assert snap.members == queries.member_count("/") >= 60  # lecturers count too, in organisations of their own
    for org in forest["orgs"]:
        d = analytics.dashboard(site, org, today=TODAY)
        assert d["source"] == {"kind": "snapshot", "taken_at": snap.finished_at, "exact": True}
        assert comparable(d) == comparable(live[org.id]), org.name


def test_full_at_risk_list_from_snapshot_equals_live(forest):
    site, county = forest["site"], forest["county"]
    live = analytics.at_risk_members(site, county, TODAY)
    assert len(live) > analytics.ANALYTICS.at_risk_limit // 10
    snapshots.take_snapshot(today=TODAY)
    assert analytics.at_risk_members(site, county, TODAY) == live


def test_stale_snapshot_is_shown_as_such_for_large_subtrees_and_small_ones_are_live(app, forest):
    site, county = forest["site"], forest["county"]
    snapshots.take_snapshot(today=TODAY)
    before = analytics.dashboard(site, county, today=TODAY)["summary"]["hours"]
    m = forest["members"][0]
    db.session.add(StudyCredit(user_id=m.id, hours=7, kind="reading", source_kind="reading", source_id=99_999,
                               title="新", credited_on=TODAY, organisation_id=m.organisation_id))
    db.session.commit()
    # Small subtree (under the live limit): exact figures at once.
    live = analytics.dashboard(site, county, today=TODAY)
    assert live["source"]["kind"] == "live" and live["summary"]["hours"] == pytest.approx(before + 7)
    # Large subtree: the snapshot, marked stale; a new one is not requested minutes after the last.
    app.config["ELEARN_ANALYTICS_LIVE_MEMBERS"] = 0
    stale = analytics.dashboard(site, county, today=TODAY)
    assert stale["source"]["kind"] == "snapshot" and stale["source"]["exact"] is False
    assert stale["summary"]["hours"] == pytest.approx(before)
    assert db.session.query(AnalyticsSnapshot).count() == 1
    # Refreshed (jobs run inline here): exact again, with the new hours.
    assert snapshots.request_snapshot(TODAY).status == "ready"
    fresh = analytics.dashboard(site, county, today=TODAY)
    assert fresh["source"]["exact"] is True and fresh["summary"]["hours"] == pytest.approx(before + 7)


def test_large_subtree_without_snapshot_waits_for_the_job(app, forest):
    site, county = forest["site"], forest["county"]
    app.config["ELEARN_ANALYTICS_LIVE_MEMBERS"] = 0
    huey = get_huey()
    huey.immediate = False  # keep jobs queued, as with a worker that has not picked them up yet
    try:
        d = analytics.dashboard(site, county, today=TODAY)
        assert "summary" not in d and d["pending"].status == "queued"
        again = analytics.dashboard(site, county, today=TODAY)
        assert again["pending"].id == d["pending"].id  # one snapshot queued, not one per view
        (task,) = huey.pending()
        assert task.name == analytics_tasks.analytics_snapshot.name
        huey.execute(task)
    finally:
        huey.immediate = True
    d = analytics.dashboard(site, county, today=TODAY)
    assert d["source"] == {"kind": "snapshot", "taken_at": d["source"]["taken_at"], "exact": True}
    assert d["summary"]["members"] > 0


def test_a_snapshot_abandoned_by_a_dead_worker_does_not_block_a_new_one(forest):
    dead = AnalyticsSnapshot(status="running", as_of=TODAY, progress=30,
                             started_at=clock.now_utc() - timedelta(minutes=analytics.ANALYTICS
                                                                       .snapshot_timeout_minutes + 1))
    db.session.add(dead)
    db.session.commit()
    dead_id = dead.id
    assert snapshots.pending_snapshot() is None
    snap = snapshots.request_snapshot(TODAY)
    assert snap.id != dead_id and snap.status == "ready"
    assert [s.id for s in db.session.query(AnalyticsSnapshot)] == [snap.id]  # the dead one pruned


def test_periodic_refresh_only_when_needed_and_changed(app, forest):
    assert snapshots.refresh_if_changed(TODAY) is None  # every subtree is small enough to compute live
    app.config["ELEARN_ANALYTICS_LIVE_MEMBERS"] = 10
    first = snapshots.refresh_if_changed(TODAY)
    assert first is not None and first.status == "ready"
    assert snapshots.refresh_if_changed(TODAY) is None  # nothing changed
    m = forest["members"][1]
    db.session.add(StudyCredit(user_id=m.id, hours=1, kind="reading", source_kind="reading", source_id=88_888,
                               title="x", credited_on=TODAY, organisation_id=m.organisation_id))
    db.session.commit()
    second = snapshots.refresh_if_changed(TODAY)
    assert second is not None and second.id != first.id


def test_snapshot_command_stores_a_current_snapshot(forest, runner):
    result = runner.invoke(args=["analytics", "snapshot"])
    assert result.exit_code == 0, result.output
    snap = snapshots.latest_snapshot()
    assert f"snapshot {snap.id}: {queries.member_count('/')} members" in result.output
    assert snap.fingerprint == snapshots.fingerprint(snap.as_of)


def test_an_exact_snapshot_is_read_not_recomputed(forest, monkeypatch):
    site, county = forest["site"], forest["county"]
    snapshots.take_snapshot(today=TODAY)

    def no_live_computation(*_a, **_k):
        raise AssertionError("the dashboard judged members live although the snapshot is current")
    monkeypatch.setattr(queries, "judged", no_live_computation)
    monkeypatch.setattr(snapshots, "series_org_rows", no_live_computation)
    d = analytics.dashboard(site, county, today=TODAY)
    assert d["source"]["kind"] == "snapshot" and d["summary"]["members"] > 0 and d["at_risk"]


def _change_exempt(f):
    m = next(m for m in f["members"] if not m.exempt)
    users.update(f["site"], m, exempt=True, exempt_reason="长期患病")


def _change_category(f):
    m = next(m for m in f["members"] if m.category == "member" and not m.exempt)
    users.update(f["site"], m, category="branch_secretary")


def _deactivate(f):
    users.update(f["site"], f["members"][3], active=False)


def _transfer(f):
    m = f["members"][4]
    other = next(o for o in f["orgs"] if o.id != m.organisation_id and o.parent_id is not None)
    users.transfer(f["site"], m, other, on=TODAY)


def _unpublish(f):
    series_svc.unpublish(f["site"], f["series"][0])


def _video_ready(f):
    # A third lesson of the time-credited course becomes playable: who finished the course changes.
    lesson = Lesson(course=f["timed"], title="L2", position=2)
    db.session.add(lesson)
    db.session.commit()
    asset = MediaAsset(lesson_id=lesson.id, uploaded_by_id=f["timed"].lecturer_id, status="transcoding",
                       duration_s=60)
    db.session.add(asset)
    db.session.commit()
    asset.status, lesson.asset_id = "ready", asset.id
    db.session.commit()


def _drop_course_from_series(f):
    # Removed from the collection: the row goes as an orphan, not through session.delete().
    series = f["series"][1]
    series.items.remove(next(i for i in series.items if i.course_id == f["timed"].id))
    db.session.commit()


def _rename(f):
    # A name is shown in the at-risk list and orders its ties.
    first = analytics.at_risk_members(f["site"], f["county"], TODAY)[0]
    users.update(f["site"], db.session.get(User, first["id"]), name="新名字")


def _join_late(f):
    # The pace counts from the member's joining day (the start of their first home membership).
    first = analytics.at_risk_members(f["site"], f["county"], TODAY)[0]
    db.session.add(Membership(user_id=first["id"], organisation_id=first["organisation_id"], kind="home",
                              started_on=TODAY - timedelta(days=20)))
    db.session.commit()


def _correct_credit(f):
    entry = next(e for e in ledger.entries(f["members"][5]) if e.hours > 0)
    ledger.correct(f["site"], entry.id, "误记")  # dated as the entry: the figures as of TODAY lose its hours


@pytest.mark.parametrize("change", [_change_exempt, _change_category, _deactivate, _transfer, _unpublish,
                                    _video_ready, _drop_course_from_series, _rename, _join_late, _correct_credit])
def test_every_change_that_moves_figures_makes_the_snapshot_inexact(forest, change):
    site, county = forest["site"], forest["county"]
    snap = snapshots.take_snapshot(today=TODAY)
    before = comparable(analytics.dashboard(site, county, today=TODAY))
    figures_unchanged = change(forest)
    assert snap.fingerprint != snapshots.fingerprint(TODAY), change.__name__
    live = analytics.dashboard(site, county, today=TODAY)
    assert live["source"]["kind"] == "live", change.__name__
    assert (comparable(live) == before) == bool(figures_unchanged), change.__name__
    # A correction is a ledger row: only its member's organisation is computed again; the rest move the version.
    assert snapshots.take_snapshot(today=TODAY).mode == ("incremental" if change is _correct_credit else "full")
    again = analytics.dashboard(site, county, today=TODAY)
    assert again["source"]["exact"] and comparable(again) == comparable(live), change.__name__


def test_changes_that_do_not_move_figures_keep_the_snapshot_exact(forest, make_course):
    site, county = forest["site"], forest["county"]
    snap = snapshots.take_snapshot(today=TODAY)
    m = forest["members"][0]
    auth.set_password(site, m, "Another-passw0rd")
    users.update(site, m, phone="13800000000", email="m@example.cn")
    users.set_locale(m, "en")
    tokens.issue(site, "报表")
    report_exports.request_analytics_export(site, county)
    make_course(title="未发布的新课", lecturer=forest["timed"].lecturer)
    assert snapshots.fingerprint(TODAY) == snap.fingerprint
    d = analytics.dashboard(site, county, today=TODAY)
    assert d["source"] == {"kind": "snapshot", "taken_at": snap.finished_at, "exact": True}


def test_a_snapshot_of_other_rules_is_never_shown(app, forest, monkeypatch):
    site, county = forest["site"], forest["county"]
    snapshots.take_snapshot(today=TODAY)
    monkeypatch.setattr(snapshots, "ALGORITHM_VERSION", snapshots.ALGORITHM_VERSION + 1)
    app.config["ELEARN_ANALYTICS_LIVE_MEMBERS"] = 0
    assert snapshots.latest_snapshot() is None
    d = analytics.dashboard(site, county, today=TODAY)  # a new snapshot is computed (inline here)
    assert d["source"]["exact"] and snapshots.latest_snapshot().policy_hash == snapshots.policy_hash()


def test_a_replaced_snapshot_stays_readable_for_a_while(forest):
    first = snapshots.take_snapshot(today=TODAY)
    ids = [first.id] + [snapshots.take_snapshot(today=TODAY).id for _i in range(2)]
    # Replaced just now: a request that chose the first one may still be reading it.
    assert [s.id for s in db.session.query(AnalyticsSnapshot).order_by(AnalyticsSnapshot.id)] == ids
    assert db.session.query(SnapshotRisk).filter_by(snapshot_id=first.id).count() > 0
    later = clock.now_utc() - timedelta(minutes=analytics.ANALYTICS.snapshot_every_minutes + 1)
    for snap in db.session.query(AnalyticsSnapshot):
        snap.finished_at = later
    db.session.commit()
    assert snapshots.prune_snapshots() == 1
    assert [s.id for s in db.session.query(AnalyticsSnapshot).order_by(AnalyticsSnapshot.id)] == ids[1:]
    assert db.session.query(SnapshotRisk).filter_by(snapshot_id=first.id).count() == 0


def test_a_job_whose_snapshot_was_abandoned_and_removed_does_nothing(forest):
    snap = AnalyticsSnapshot(status="queued", as_of=TODAY, policy_hash=snapshots.policy_hash(),
                                       started_at=clock.now_utc() - timedelta(hours=2))
    db.session.add(snap)
    db.session.commit()
    snap_id = snap.id
    assert snapshots.prune_snapshots() == 1
    assert snapshots.take_snapshot(snap_id) is None
    assert db.session.query(AnalyticsSnapshot).count() == 0


def test_a_failed_snapshot_is_reported_and_not_retried_at_once(app, forest):
    site, county = forest["site"], forest["county"]
    app.config["ELEARN_ANALYTICS_LIVE_MEMBERS"] = 0
    failed = AnalyticsSnapshot(status="failed", as_of=TODAY, policy_hash=snapshots.policy_hash(),
                                         started_at=clock.now_utc(), finished_at=clock.now_utc(),
                                         error="OperationalError: disk I/O error")
    db.session.add(failed)
    db.session.commit()
    d = analytics.dashboard(site, county, today=TODAY)
    assert "summary" not in d and d["pending"].status == "failed"
    assert db.session.query(AnalyticsSnapshot).count() == 1  # no new job minutes after a failure
    assert snapshots.refresh_now() is None


def test_the_data_version_moves_at_commit_and_not_for_a_rollback(forest):
    from elearn.analytics.models import AnalyticsDataVersion

    def version():
        return db.session.get(AnalyticsDataVersion, 1).n if db.session.get(AnalyticsDataVersion, 1) else 0

    start = version()
    m = forest["members"][7]
    m.exempt, m.exempt_reason = (not m.exempt), "x"
    db.session.flush()
    db.session.rollback()
    assert version() == start
    m = db.session.get(User, m.id)
    m.category = "branch_secretary" if m.category == "member" else "member"
    db.session.flush()  # flushed early, bumped only when committing
    db.session.commit()
    assert version() == start + 1
    m.phone = "13900000000"
    db.session.commit()
    assert version() == start + 1


def test_rebuilding_the_summaries_makes_snapshots_stale(forest):
    snap = snapshots.take_snapshot(today=TODAY)
    summaries.rebuild_summaries()
    assert snapshots.fingerprint(TODAY) != snap.fingerprint


# -- incremental snapshots: only the organisations credited since the last one are computed ----------------------

def _members_of(f, org):
    return [m for m in f["members"] if m.organisation_id == org.id and not m.exempt]


def _study(members, source_base: int, hours: float = 30, on: date = TODAY):
    """Members credited through the ledger as a reading would be, and a declared-hours course finished."""
    for i, m in enumerate(members):
        ledger.credit(m, kind="reading", source_kind="reading", source_id=source_base + i, hours=hours, title="读本",
                      category=None, innovative_theory=True, credited_on=on)
    db.session.commit()


def _finish_series_course(f, members):
    course_id = f["series"][0].items[0].course_id
    for m in members:
        ledger.credit(m, kind="course", source_kind="course", source_id=course_id, course_id=course_id, hours=2,
                      title="D0", category=None, innovative_theory=False, credited_on=TODAY)
    db.session.commit()


@pytest.fixture
def computed(monkeypatch):
    """Which organisations each part of a snapshot was computed for (None: every one)."""
    seen: dict[str, list] = {"org_bin_rows": [], "series_org_rows": [], "at_risk_rows": []}
    for name in seen:
        real = getattr(snapshots, name)

        def spy(scope, *args, _real=real, _name=name):
            seen[_name].append(scope.orgs)
            return _real(scope, *args)
        monkeypatch.setattr(snapshots, name, spy)
    return seen


def test_a_snapshot_after_study_computes_only_the_credited_organisation_and_equals_live(forest, computed):
    site, county = forest["site"], forest["county"]
    first = snapshots.take_snapshot(today=TODAY)
    assert (first.mode, first.recomputed_orgs) == ("full", len(queries.org_states()))
    before = {o.id: comparable(analytics.dashboard(site, o, today=TODAY)) for o in forest["orgs"]}
    branch = next(o for o in forest["orgs"] if o.kind == "branch" and len(_members_of(forest, o)) >= 2)
    _study(_members_of(forest, branch), 10_000)
    _finish_series_course(forest, _members_of(forest, branch))
    live = {o.id: comparable(analytics.dashboard(site, o, today=TODAY)) for o in forest["orgs"]}
    live_risk = analytics.at_risk_members(site, county, TODAY)
    assert live[county.id] != before[county.id] and live[branch.id]["summary"] != before[branch.id]["summary"]
    assert live[county.id]["series"] != before[county.id]["series"]
    for seen in computed.values():
        seen.clear()

    snap = snapshots.take_snapshot(today=TODAY)
    assert (snap.mode, snap.base_id, snap.recomputed_orgs) == ("incremental", first.id, 1)
    assert computed == {"org_bin_rows": [(branch.id,)], "series_org_rows": [(branch.id,)],
                        "at_risk_rows": [(branch.id,)]}  # nobody else was judged again
    assert snap.members == queries.member_count("/")
    for org in forest["orgs"]:
        d = analytics.dashboard(site, org, today=TODAY)
        assert d["source"] == {"kind": "snapshot", "taken_at": snap.finished_at, "exact": True}
        assert comparable(d) == live[org.id], org.name
    assert analytics.at_risk_members(site, county, TODAY) == live_risk  # the merged list in the whole tree's order


def test_nothing_credited_since_copies_every_row(forest, computed):
    site, county = forest["site"], forest["county"]
    snapshots.take_snapshot(today=TODAY)
    live = comparable(analytics.dashboard(site, county, today=TODAY))
    for seen in computed.values():
        seen.clear()
    snap = snapshots.take_snapshot(today=TODAY)
    assert (snap.mode, snap.recomputed_orgs) == ("incremental", 0)
    assert computed == {"org_bin_rows": [], "series_org_rows": [], "at_risk_rows": []}
    assert comparable(analytics.dashboard(site, county, today=TODAY)) == live


def test_the_next_day_copies_completions_and_judges_the_pace_of_everyone_again(forest, computed):
    site = forest["site"]
    snapshots.take_snapshot(today=TODAY)
    branch = next(o for o in forest["orgs"] if o.kind == "branch" and _members_of(forest, o))
    _finish_series_course(forest, _members_of(forest, branch))
    later = TODAY + timedelta(days=2)  # the forest has credits dated up to three days ahead: they now count
    live = {o.id: comparable(analytics.dashboard(site, o, today=later)) for o in forest["orgs"]}
    live_risk = analytics.at_risk_members(site, forest["county"], later)
    for seen in computed.values():
        seen.clear()
    snap = snapshots.take_snapshot(today=later)
    assert snap.mode == "incremental"
    assert computed == {"org_bin_rows": [None], "series_org_rows": [(branch.id,)], "at_risk_rows": [None]}
    for org in forest["orgs"]:
        d = analytics.dashboard(site, org, today=later)
        assert d["source"]["exact"] and comparable(d) == live[org.id], org.name
    assert analytics.at_risk_members(site, forest["county"], later) == live_risk


def test_a_credit_landing_while_a_snapshot_is_computed_is_in_the_next_one(forest, monkeypatch):
    site, county = forest["site"], forest["county"]
    snapshots.take_snapshot(today=TODAY)
    branch = next(o for o in forest["orgs"] if o.kind == "branch" and _members_of(forest, o))
    real_states = snapshots.org_states

    def states_then_a_credit():
        states = real_states()  # read, then a member is credited before the rows are computed
        _study(_members_of(forest, branch)[:1], 20_000, hours=50)
        return states
    monkeypatch.setattr(snapshots, "org_states", states_then_a_credit)
    racing = snapshots.take_snapshot(today=TODAY)
    monkeypatch.undo()
    assert racing.mode == "incremental" and racing.fingerprint != snapshots.fingerprint(TODAY)
    assert analytics.dashboard(site, county, today=TODAY, allow_stale=False)["source"]["kind"] == "live"
    live = {o.id: comparable(analytics.dashboard(site, o, today=TODAY)) for o in forest["orgs"]}

    again = snapshots.take_snapshot(today=TODAY)  # the branch's state moved since the racing snapshot read it
    assert (again.mode, again.base_id, again.recomputed_orgs) == ("incremental", racing.id, 1)
    for org in forest["orgs"]:
        d = analytics.dashboard(site, org, today=TODAY)
        assert d["source"]["exact"] and comparable(d) == live[org.id], org.name


def test_an_account_change_or_many_changed_organisations_recompute_the_whole_tree(forest, monkeypatch, runner):
    from dataclasses import replace
    snapshots.take_snapshot(today=TODAY)
    _change_exempt(forest)  # the data version moves: no earlier snapshot is a base
    assert snapshots.take_snapshot(today=TODAY).mode == "full"
    monkeypatch.setattr(snapshots, "ANALYTICS", replace(snapshots.ANALYTICS, incremental_max_share=0.1))
    _study([m for o in forest["orgs"][1:4] for m in _members_of(forest, o)], 30_000)
    assert snapshots.take_snapshot(today=TODAY).mode == "full"  # 3 of 8 organisations changed: over the share
    monkeypatch.undo()
    result = runner.invoke(args=["analytics", "snapshot", "--full"])
    assert result.exit_code == 0 and ", full, " in result.output, result.output
    result = runner.invoke(args=["analytics", "snapshot"])
    assert result.exit_code == 0 and "incremental from" in result.output and " 0 organisations computed" \
        in result.output, result.output


def test_a_base_removed_before_its_rows_were_copied_fails_the_job_rather_than_losing_rows(forest, monkeypatch):
    from elearn.analytics.models import SnapshotOrgRow, SnapshotOrgState, SnapshotSeriesRow
    base = snapshots.take_snapshot(today=TODAY)
    _study(_members_of(forest, next(o for o in forest["orgs"] if _members_of(forest, o))), 40_000)
    real = snapshots.at_risk_rows

    def base_pruned_meanwhile(scope, limit):
        rows = real(scope, limit)
        for model in (SnapshotOrgRow, SnapshotSeriesRow, SnapshotRisk, SnapshotOrgState):
            db.session.query(model).filter_by(snapshot_id=base.id).delete()
        db.session.query(AnalyticsSnapshot).filter_by(id=base.id).delete()
        db.session.commit()
        return rows
    monkeypatch.setattr(snapshots, "at_risk_rows", base_pruned_meanwhile)
    with pytest.raises(RuntimeError, match="was removed before it was copied"):
        snapshots.take_snapshot(today=TODAY)
    assert snapshots.latest_snapshot() is None  # nothing incomplete is shown
    assert db.session.query(AnalyticsSnapshot).one().status == "failed"
