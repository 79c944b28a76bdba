"""The training records admin API (``/api/v1/trainings``): offline and off-job training records of the
caller's subtree, listed and recorded by the same rules as the training pages (elearn.training.views)."""
from __future__ import annotations

from flask import Response
from flask_login import current_user

from elearn.auth import tokens
from elearn.http.api import api_blueprint, operation
from elearn.http.paging import envelope, etagged, fingerprint_etag, not_modified, page_model, paginate
from elearn.training import services as offline
from elearn.training.models import OfflineTraining
from elearn.training.schemas import TrainingCreate, TrainingOut, TrainingQuery, TrainingRecorded

bp = api_blueprint("training_api", __name__)


def _out(t: OfflineTraining, model: type[TrainingOut] = TrainingOut, **extra) -> TrainingOut:
    return model(id=t.id, organisation_id=t.organisation_id, title=t.title, organiser=t.organiser,
                 organiser_level=t.organiser_level, offjob=t.offjob, category=t.category,
                 innovative_theory=t.innovative_theory, starts_on=t.starts_on, ends_on=t.ends_on, days=t.days,
                 hours=t.hours, note=t.note, created_at=t.created_at, **extra)


@operation(bp, "/trainings", operation_id="listTrainings", query=TrainingQuery, response=page_model(TrainingOut),
           scope="admin", etag=True, invalid_code="bad_query", errors={404: "no such organisation within reach"},
           summary="Offline and off-job training records of the caller's subtree, newest first (admins)")
def list_trainings(query: TrainingQuery) -> Response:
    """Records are written once: max(created_at) and the count over the filters tell whether the page changed,
    before any row is read."""
    root = tokens.admin_reach(current_user)
    within = tokens.reachable_org(current_user, query.org) if query.org is not None else root
    stmt = offline.trainings_stmt(current_user, within)
    if query.offjob is not None:
        stmt = stmt.where(OfflineTraining.offjob.is_(query.offjob))
    if query.ended_from is not None:
        stmt = stmt.where(OfflineTraining.ends_on >= query.ended_from)
    if query.ended_to is not None:
        stmt = stmt.where(OfflineTraining.ends_on <= query.ended_to)
    etag = fingerprint_etag(stmt, OfflineTraining.created_at, current_user.id, within.id if within else None,
                            query.model_dump(mode="json"))
    if not_modified(etag):
        return etagged(None, etag)
    rows, total = paginate(stmt, query)
    return etagged(envelope(TrainingOut, [_out(t) for t in rows], query, total), etag)


@operation(bp, "/trainings", method="POST", operation_id="recordTraining", body=TrainingCreate,
           response=TrainingRecorded, scope="admin",
           errors={403: "an organisation or attendee outside the caller's subtree",
                   404: "no such organisation within reach"},
           summary="Record an offline or off-job training and credit its attendees (admins)")
def record_training(body: TrainingCreate) -> TrainingRecorded:
    """As the new-training page: attendees by username, within the caller's subtree (and the token's limit)."""
    org = tokens.reachable_org(current_user, body.organisation_id)
    attendees = offline.users_by_username(current_user, body.attendees)
    training = offline.record_training(
        current_user, organisation=org, title=body.title, organiser=body.organiser,
        organiser_level=body.organiser_level, offjob=body.offjob, category=body.category,
        innovative_theory=body.innovative_theory, starts_on=body.starts_on, ends_on=body.ends_on, days=body.days,
        hours=body.hours, attendees=attendees, note=body.note, within=tokens.organisation_limit())
    return _out(training, TrainingRecorded, attendees=len(attendees))  # type: ignore[return-value]
