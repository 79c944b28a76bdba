"""The ledger's hash chain: a row edited, removed or added behind the app's back is found by ``elearn ledger
verify``, which names the first broken entry; rewriting the chain after an edit is caught by the signed
checkpoints, and deleting those by their copy outside the database."""
import itertools
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from elearn import clock
from elearn.audit.models import AuditEntry
from elearn.extensions import db
from elearn.ledger import chain
from elearn.ledger import services as ledger
from elearn.ledger.models import LedgerChain, LedgerCheckpoint, StudyCredit
from elearn.orgs.models import User


def _credit(user, source_id, hours=1.0, kind="lesson"):
    return ledger.credit(user, kind=kind, source_kind=kind, source_id=source_id, hours=hours, title=f"第{source_id}讲",
                         category="political_theory", innovative_theory=True)


@pytest.fixture
def ledger_rows(make_user):
    """Seven credits of two members through the ledger service, the fourth source credited twice."""
    a, b = make_user(), make_user()
    for n in range(1, 5):
        assert _credit(a, n, hours=0.25 * n)
    assert not _credit(a, 4)  # a duplicate takes no place on the chain
    for n in range(1, 4):
        assert _credit(b, n)
    db.session.commit()
    return list(db.session.execute(select(StudyCredit).order_by(StudyCredit.chain_seq)).scalars())


def _verify(runner):
    result = runner.invoke(args=["ledger", "verify"])
    return result.exit_code, result.output


def _tamper(sql, **params):
    """A direct database edit, as someone with the database password but not the app would make it."""
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)
    db.session.expire_all()


def test_an_intact_ledger_verifies(runner, ledger_rows):
    assert [r.chain_seq for r in ledger_rows] == list(range(1, 8))
    assert ledger_rows[0].prev_hash == chain.GENESIS
    assert all(r.prev_hash == p.entry_hash for p, r in itertools.pairwise(ledger_rows))
    code, output = _verify(runner)
    assert code == 0 and "ledger intact: 7 entries" in output
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "ledger.verify")).scalar() is not None


@pytest.mark.parametrize("sql", [
    "UPDATE study_credit SET hours = 99 WHERE id = :id",
    "UPDATE study_credit SET credited_on = '2025-01-01' WHERE id = :id",
    "UPDATE study_credit SET source_id = 77 WHERE id = :id",
    "UPDATE study_credit SET title = '伪造' WHERE id = :id",
])
def test_a_row_edited_in_the_database_is_found(runner, ledger_rows, sql):
    victim = ledger_rows[5]
    _tamper(sql, id=victim.id)
    code, output = _verify(runner)
    assert code == 1
    assert "LEDGER BROKEN (content)" in output and f"first broken entry: id {victim.id}, position 6" in output
    broken = db.session.execute(select(AuditEntry).where(AuditEntry.action == "ledger.broken")).scalar_one()
    assert broken.after["entry_id"] == victim.id


def test_removed_and_added_rows_are_found(runner, ledger_rows):
    _tamper("DELETE FROM study_credit WHERE id = :id", id=ledger_rows[2].id)
    assert "LEDGER BROKEN (gap)" in _verify(runner)[1]
    db.session.execute(text("DELETE FROM study_credit"))
    db.session.commit()
    assert "LEDGER BROKEN (head)" in _verify(runner)[1]  # every row gone, the head remembers seven


def test_the_last_row_removed_and_a_row_slipped_in_are_found(runner, ledger_rows, make_user):
    _tamper("DELETE FROM study_credit WHERE id = :id", id=ledger_rows[-1].id)
    code, output = _verify(runner)
    assert code == 1 and "LEDGER BROKEN (head)" in output
    _tamper("UPDATE ledger_chain SET seq = 6, head_hash = :h", h=ledger_rows[-2].entry_hash)
    assert _verify(runner)[0] == 0
    cols = "user_id, hours, kind, source_kind, source_id, title, innovative_theory, offjob, county_level, " \
           "credited_on, organisation_id, created_at"
    _tamper(f"INSERT INTO study_credit ({cols}) SELECT user_id, 40, kind, source_kind, 999, title, "
            "innovative_theory, offjob, county_level, credited_on, organisation_id, created_at FROM study_credit "
            "WHERE id = :id", id=ledger_rows[0].id)
    assert "LEDGER BROKEN (unchained): 1 entries are outside the chain" in _verify(runner)[1]


def _rewrite_chain_after(rows, index):
    """What a careful attacker does after an edit: recompute every hash from the edit on, and the head."""
    db.session.expire_all()
    prev = rows[index - 1].entry_hash if index else chain.GENESIS
    for row in db.session.execute(select(StudyCredit).order_by(StudyCredit.chain_seq)).scalars().all()[index:]:
        values = {name: getattr(row, name) for name in chain.CONTENT_FIELDS}
        new = chain.entry_hash_of(values, row.chain_seq, prev, row.hash_alg)
        _tamper("UPDATE study_credit SET prev_hash = :p, entry_hash = :h WHERE id = :id", p=prev, h=new, id=row.id)
        prev = new
    _tamper("UPDATE ledger_chain SET head_hash = :h", h=prev)


def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint_and_its_copy(app, runner, ledger_rows):
    assert runner.invoke(args=["ledger", "checkpoint"]).output.strip() == "checkpoint of entry 7 signed"
    assert chain.checkpoint() is None  # nothing new to sign
    _tamper("UPDATE study_credit SET hours = 40 WHERE id = :id", id=ledger_rows[3].id)
    _rewrite_chain_after(ledger_rows, 3)
    code, output = _verify(runner)
    assert code == 1 and "LEDGER BROKEN (checkpoint)" in output and f"id {ledger_rows[-1].id}" in output

    # The checkpoints rewritten too (the attacker has no signing key: forged ones fail) or deleted: the copy
    # outside the database still names the head that was signed.
    _tamper("UPDATE ledger_checkpoint SET entry_hash = :h", h=db.session.get(LedgerChain, 1).head_hash)
    assert "invalid signature" in _verify(runner)[1]
    _tamper("DELETE FROM ledger_checkpoint")
    code, output = _verify(runner)
    assert code == 1 and "LEDGER BROKEN (anchor)" in output
    anchors = Path(app.config["ELEARN_LEDGER_ANCHOR_FILE"]).read_text().splitlines()
    assert json.loads(anchors[-1])["seq"] == 7


def test_sm3_entries_verify_beside_sha256_ones(app, runner, make_user):
    user = make_user()
    _credit(user, 1)
    app.config["ELEARN_LEDGER_HASH"] = "sm3"
    _credit(user, 2)
    db.session.commit()
    rows = db.session.execute(select(StudyCredit).order_by(StudyCredit.chain_seq)).scalars().all()
    assert [r.hash_alg for r in rows] == ["sha256", "sm3"]
    assert rows[1].entry_hash == chain.digest("sm3", chain.canonical(
        {n: getattr(rows[1], n) for n in chain.CONTENT_FIELDS}, 2, rows[0].entry_hash))
    assert _verify(runner)[0] == 0
    _tamper("UPDATE study_credit SET hours = 3 WHERE id = :id", id=rows[1].id)
    assert "LEDGER BROKEN (content)" in _verify(runner)[1]


def test_entries_added_through_the_orm_are_chained_with_their_defaults(runner, make_user):
    user = make_user()
    for n in range(3):  # one flush of three rows; offjob and county_level left to their column defaults
        db.session.add(StudyCredit(user_id=user.id, hours=0.6667, kind="reading", source_kind="reading",
                                   source_id=n, title="材料", credited_on=clock.site_today(),
                                   organisation_id=user.organisation_id))
    db.session.commit()
    assert _verify(runner)[0] == 0


def test_parallel_credits_keep_one_unbroken_chain(app, runner, make_user):
    """Eight workers credit at the same moment: every entry gets its own position, none is lost."""
    users = [make_user() for _ in range(8)]
    ids = [u.id for u in users]
    db.session.remove()
    barrier = threading.Barrier(len(ids))
    errors = []

    def work(user_id):
        with app.app_context():
            try:
                barrier.wait()
                user = db.session.get(User, user_id)
                for n in range(4):
                    _credit(user, n)
                    db.session.commit()
            except Exception as exc:
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seqs = db.session.execute(select(StudyCredit.chain_seq).order_by(StudyCredit.chain_seq)).scalars().all()
    assert seqs == list(range(1, 33))
    assert db.session.execute(select(func.count()).select_from(LedgerCheckpoint)).scalar_one() == 0
    assert _verify(runner)[0] == 0


def test_entries_from_before_the_chain_are_sealed_by_the_upgrade_step(runner, ledger_rows):
    _tamper("UPDATE study_credit SET chain_seq = NULL, prev_hash = NULL, entry_hash = NULL, hash_alg = NULL")
    _tamper("DELETE FROM ledger_chain")
    assert "LEDGER BROKEN (unchained): 7 entries" in _verify(runner)[1]
    assert runner.invoke(args=["ledger", "seal"]).output.strip() == "7 entries appended to the chain"
    assert _verify(runner)[0] == 0
