"""The ledger is append-only and a database constraint makes double credit impossible."""
import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from elearn.extensions import db
from elearn.models.study import StudyCredit
from elearn.services import NotFound, ServiceError, ledger


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
