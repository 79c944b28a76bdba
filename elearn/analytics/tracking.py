"""Change tracking for snapshots: a data version bumped in the same transaction as any change to the accounts,
series, lessons and playable videos the figures depend on, so a snapshot can tell whether it is still exact."""
from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from elearn.analytics.models import AnalyticsDataVersion
from elearn.extensions import db, dialect_insert

# Attributes whose change moves the figures (besides ledger rows, which the fingerprint counts itself). A
# member's name orders ties in the at-risk list.
_TRACKED = {
    "User": ("organisation_id", "active", "role", "category", "exempt", "name"),
    "Membership": ("user_id", "kind", "started_on"),  # the first home membership's start: the pace's first day
    "Series": ("published",),
    "SeriesCourse": ("series_id", "course_id"),
    "Lesson": ("asset_id", "course_id"),
    "MediaAsset": ("status",),
}
_FLAG = "analytics_data_changed"


def _moves_figures(state, added_or_deleted: bool) -> bool:
    name = state.class_.__name__
    attrs = _TRACKED.get(name)
    if attrs is None:
        return False
    if name == "MediaAsset":
        # A video matters when it becomes or stops being ready (a lesson switching to it is tracked too); an
        # expired old value is unknown, so any change of it counts.
        history = state.attrs.status.history
        old_unknown = not history.deleted and not added_or_deleted
        return "ready" in (*history.added, *history.deleted) or (old_unknown and history.has_changes())
    if added_or_deleted:
        return True
    return any(state.attrs[a].history.has_changes() for a in attrs)


def _note_changes(session, flush_context) -> None:
    """Session hook (after each flush; the flush's states and attribute histories are still there): remember,
    without writing anything yet, that an account, series, series course, lesson or video status the figures
    depend on was added, changed or removed (rows deleted as orphans of a collection included)."""
    if session.info.get(_FLAG):
        return
    added = {inspect(o) for o in session.new}
    for state, (isdelete, listonly) in flush_context.states.items():
        if not listonly and _moves_figures(state, isdelete or state in added):
            session.info[_FLAG] = True
            return


def bump_data_version(session=None) -> None:
    """Count one change of the data the figures depend on, in the session's transaction. Called at commit for
    ORM changes (:func:`_bump_before_commit`); call it after writing tracked tables with Core statements."""
    session = session or db.session
    t = AnalyticsDataVersion.__table__
    conn = session.connection()
    stmt = dialect_insert(conn)(t).values(id=1, n=1)
    conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.id], set_={"n": t.c.n + 1}))


def _bump_before_commit(session) -> None:
    """At commit, not at the first flush: the version row's lock is then held only while committing (a long
    import flushing its first member early would otherwise block every other admin change)."""
    session.flush()
    if session.info.pop(_FLAG, False):
        bump_data_version(session)


def _transaction_ended(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction, however it ended (commit, rollback, close)
        session.info.pop(_FLAG, None)


def init_tracking() -> None:
    """Install the session hooks (idempotent; called when the app is built)."""
    if not event.contains(Session, "after_flush", _note_changes):
        event.listen(Session, "after_flush", _note_changes)
        event.listen(Session, "before_commit", _bump_before_commit)
        event.listen(Session, "after_transaction_end", _transaction_ended)
