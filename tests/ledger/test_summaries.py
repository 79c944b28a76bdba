"""The analytics summaries follow the ledger exactly: every credit and correction, never a duplicate."""
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from elearn.extensions import db
from elearn.ledger import services as ledger
from elearn.ledger import summaries
from elearn.ledger.models import (
    MemberCourseProgress,
    MemberStudySummary,
    OrgMonthStudy,
    StudyCredit,
)


def _snapshot():
    def rows(model, key):
        cols = list(model.__table__.columns)
        return {tuple(r[:key]): tuple(round(x, 6) if isinstance(x, float) else x for x in r[key:])
                for r in db.session.execute(select(*cols)).all()}
    return (rows(MemberStudySummary, 1), rows(OrgMonthStudy, 2), rows(MemberCourseProgress, 2))


def _clear():
    for model in (StudyCredit, MemberStudySummary, OrgMonthStudy, MemberCourseProgress):
        db.session.execute(delete(model))
    db.session.commit()


credit_st = st.tuples(
    st.integers(0, 2),  # which member
    st.sampled_from([("lesson", "lesson"), ("course", "course"), ("quiz", "quiz"), ("reading", "reading")]),
    st.integers(1, 6),  # source id (repeats are duplicates the ledger refuses)
    st.sampled_from([0.5, 1.0, 2.25, 0.0]),
    st.booleans(),  # innovative theory
    st.dates(date(2023, 11, 1), date(2029, 2, 1)),  # around the cycle's edges
    st.sampled_from([None, 1, 2]),  # course
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(credit_st, max_size=25), st.data())
def test_summaries_equal_a_recount_after_random_credits(make_user, make_course, credits, data):
    _clear()
    members = getattr(make_user, "_made", None) or [make_user() for _i in range(3)]  # once per test
    make_user._made = members
    courses = {1: make_course(title="甲").id, 2: make_course(title="乙").id}
    for who, (kind, source_kind), source_id, hours, theory, on, course in credits:
        ledger.credit(members[who], kind=kind, source_kind=source_kind, source_id=source_id, hours=hours,
                      title="t", category=None, innovative_theory=theory, credited_on=on,
                      course_id=courses.get(course))
        if data.draw(st.booleans()):
            db.session.commit()
    db.session.commit()
    kept = _snapshot()
    summaries.rebuild_summaries()
    assert _snapshot() == kept


def test_a_duplicate_credit_changes_nothing(make_user):
    user = make_user()
    for _i in range(2):
        ledger.credit(user, kind="lesson", source_kind="lesson", source_id=7, hours=2.0, title="t", category=None,
                      innovative_theory=True, credited_on=date(2025, 3, 4))
    db.session.commit()
    s = db.session.get(MemberStudySummary, user.id)
    assert (s.hours, s.theory_hours, s.credits, s.last_credited_on) == (2.0, 2.0, 1, date(2025, 3, 4))
    m = db.session.get(OrgMonthStudy, (user.organisation_id, date(2025, 3, 1)))
    assert (m.hours, m.theory_hours) == (2.0, 2.0)


def test_a_credit_outside_the_cycle_counts_in_the_trend_not_the_cycle(make_user):
    user = make_user()
    ledger.credit(user, kind="quiz", source_kind="quiz", source_id=1, hours=3.0, title="t", category=None,
                  innovative_theory=False, credited_on=date(2023, 12, 31))
    db.session.commit()
    assert db.session.get(MemberStudySummary, user.id).hours == 0.0
    assert db.session.get(OrgMonthStudy, (user.organisation_id, date(2023, 12, 1))).hours == 3.0


def test_a_correction_takes_the_hours_back(make_user, make_org):
    org = make_org("支部")
    admin, member = make_user("adm", org=org, role="org_admin"), make_user("member1", org=org)
    ledger.credit(member, kind="quiz", source_kind="quiz", source_id=1, hours=4.0, title="t", category=None,
                  innovative_theory=True, credited_on=date(2025, 1, 1))
    ledger.credit(member, kind="quiz", source_kind="quiz", source_id=2, hours=1.5, title="t", category=None,
                  innovative_theory=False, credited_on=date(2025, 1, 2))
    db.session.commit()
    entry = db.session.execute(select(StudyCredit).where(StudyCredit.source_id == 1)).scalar_one()
    ledger.correct(admin, entry.id, "误录")
    s = db.session.get(MemberStudySummary, member.id)
    assert (s.hours, s.theory_hours, s.credits) == (1.5, 0.0, 3)
    kept = _snapshot()
    summaries.rebuild_summaries()
    assert _snapshot() == kept


def test_rebuild_command_recounts_rows_inserted_behind_the_ledger(make_user, runner):
    user = make_user()
    db.session.execute(StudyCredit.__table__.insert().values(
        user_id=user.id, hours=5.0, kind="quiz", source_kind="quiz", source_id=9, title="t",
        innovative_theory=False, offjob=False, county_level=False, credited_on=date(2025, 6, 1),
        organisation_id=user.organisation_id))  # a bulk import's core insert: no summary yet
    db.session.commit()
    assert db.session.get(MemberStudySummary, user.id) is None
    from elearn.analytics import cli as cli_analytics

    result = runner.invoke(args=["analytics", "rebuild"]) if "analytics" in runner.app.cli.commands else \
        runner.invoke(cli_analytics.rebuild_command)
    assert result.exit_code == 0, result.output
    assert "member_study_summary: 1" in result.output
    db.session.expire_all()
    assert db.session.get(MemberStudySummary, user.id).hours == 5.0
