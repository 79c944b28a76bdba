"""The ledger is append-only and a database constraint makes double credit impossible."""
import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from elearn.errors import NotFound, ServiceError
from elearn.extensions import db
from elearn.ledger import services as ledger
from elearn.ledger.models import StudyCredit


def _credit(user, source_id=1, hours=1.0, **kw):
    return ledger.credit(user, kind=kw.pop("kind", "lesson"), source_kind=kw.pop("source_kind", "lesson"),
                         source_id=source_id, hours=hours, title="第一讲", category="political_theory",
                         innovative_theory=True, **kw)


def test_credit_is_idempotent_per_source(make_user):
    user = make_user()
    assert _credit(user) is True
    assert _credit(user) is False
    db.session.commit()
    assert ledger.total_hours(user) == 1.0
    assert _credit(user, source_kind="quiz", kind="quiz") is True  # another source kind
    db.session.commit()
    assert ledger.total_hours(user) == 2.0


def test_database_constraint_refuses_a_duplicate(make_user):
    user = make_user()
    _credit(user)
    db.session.commit()
    row = db.session.execute(select(StudyCredit)).scalar_one()
    values = {c.name: getattr(row, c.name) for c in StudyCredit.__table__.columns if c.name not in ("id",)}
    with pytest.raises(IntegrityError):
        db.session.execute(insert(StudyCredit).values(**values))
    db.session.rollback()


def test_rows_cannot_be_updated_or_deleted(make_user):
    user = make_user()
    _credit(user)
    db.session.commit()
    row = db.session.execute(select(StudyCredit)).scalar_one()
    row.hours = 99
    with pytest.raises(ValueError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.execute(select(StudyCredit)).scalar_one())
    with pytest.raises(ValueError):
        db.session.flush()
    db.session.rollback()
    assert ledger.total_hours(user) == 1.0


def test_organisation_at_the_time_is_kept(make_user, make_org):
    org = make_org()
    user = make_user(org=org)
    _credit(user)
    db.session.commit()
    assert ledger.entries(user)[0].organisation_id == org.id


def test_correction_is_a_negative_entry_by_an_admin_of_the_member(make_user, make_org):
    org, elsewhere = make_org(), make_org()
    user = make_user(org=org)
    admin = make_user(org=org, role="org_admin")
    stranger = make_user(org=elsewhere, role="org_admin")
    _credit(user, hours=2)
    db.session.commit()
    entry = ledger.entries(user)[0]
    with pytest.raises(NotFound):
        ledger.correct(stranger, entry.id, "录错了")
    with pytest.raises(ServiceError):
        ledger.correct(admin, entry.id, " ")
    fix = ledger.correct(admin, entry.id, "录错了")
    assert fix.hours == -2 and fix.kind == "correction"
    assert ledger.total_hours(user) == 0
    with pytest.raises(ServiceError):
        ledger.correct(admin, entry.id, "再来一次")
    assert len(ledger.entries(user)) == 2


def test_zero_hours_and_unknown_kinds(make_user):
    user = make_user()
    assert _credit(user, hours=0) is False
    with pytest.raises(ServiceError):
        _credit(user, kind="bogus")


def test_a_correction_counts_in_the_year_and_organisation_of_the_entry(make_user, make_org):
    from datetime import date

    from elearn.ledger import requirements
    from elearn.ledger.models import OrgMonthStudy
    from elearn.orgs import members as users
    county = make_org("县委")
    old_home, new_home = make_org("老支部", parent=county), make_org("新支部", parent=county)
    secretary = make_user(org=old_home, category="branch_secretary")
    admin = make_user(org=county, role="org_admin")
    ledger.credit(secretary, kind="offline", source_kind="offline_training", source_id=7, hours=40,
                  title="误记的脱产培训", category="political_theory", innovative_theory=False, offjob=True,
                  county_level=True, credited_on=date(2025, 5, 1))
    ledger.credit(secretary, kind="course", source_kind="course", source_id=9, hours=2, title="课程",
                  category="political_theory", innovative_theory=True, course_id=None, credited_on=date(2025, 6, 1))
    db.session.commit()
    users.transfer(admin, secretary, new_home)
    wrong = next(e for e in ledger.entries(secretary) if e.hours == 40)
    fix = ledger.correct(admin, wrong.id, "未参加")
    assert fix.credited_on == date(2025, 5, 1) and fix.organisation_id == old_home.id
    y2025 = next(y for y in requirements.status(secretary, today=date(2026, 3, 1)).years if y.year == 2025)
    assert y2025.offjob_county_hours == 0 and y2025.hours == 2
    may = db.session.get(OrgMonthStudy, (old_home.id, date(2025, 5, 1)))
    assert may.hours == 0 and db.session.get(OrgMonthStudy, (new_home.id, date(2025, 5, 1))) is None


def test_a_corrected_course_no_longer_counts_as_finished(make_user, make_org, make_course):
    from datetime import date

    from elearn.ledger import summaries
    from elearn.ledger.models import MemberCourseProgress
    org = make_org()
    member, admin = make_user(org=org), make_user(org=org, role="org_admin")
    course = make_course(declared_hours=2)
    ledger.credit(member, kind="course", source_kind="course", source_id=course.id, hours=2, title=course.title,
                  category="political_theory", innovative_theory=True, course_id=course.id,
                  credited_on=date(2025, 6, 1))
    db.session.commit()
    assert db.session.get(MemberCourseProgress, (member.id, course.id)).whole == 1
    ledger.correct(admin, ledger.entries(member)[0].id, "误记")
    assert db.session.get(MemberCourseProgress, (member.id, course.id)).whole == 0
    summaries.rebuild_summaries()  # a recount agrees: the corrected credit does not finish the course
    row = db.session.get(MemberCourseProgress, (member.id, course.id))
    assert row is None or row.whole == 0


def test_an_admin_of_the_member_only_cannot_correct_hours_credited_elsewhere(make_user, make_org):
    from datetime import date

    from elearn.errors import Forbidden
    from elearn.orgs import members as users
    county = make_org("县委")
    a, b = make_org("甲支部", parent=county), make_org("乙支部", parent=county)
    member = make_user(org=a)
    admin_b = make_user(org=b, role="org_admin")
    ledger.credit(member, kind="reading", source_kind="reading", source_id=3, hours=1, title="阅读",
                  category=None, innovative_theory=False, credited_on=date(2025, 6, 1))
    db.session.commit()
    users.transfer(make_user(org=county, role="site_admin"), member, b)
    with pytest.raises(Forbidden):
        ledger.correct(admin_b, ledger.entries(member)[0].id, "不是我们登记的")
    assert ledger.total_hours(member) == 1
