"""The member's credits summary (``/api/v1/me/credits``)."""
from __future__ import annotations

from flask_login import current_user

from elearn.http.api import api_blueprint, operation
from elearn.ledger import requirements
from elearn.ledger import services as ledger
from elearn.ledger.schemas import Credits

bp = api_blueprint("ledger_api", __name__)


@operation(bp, "/me/credits", operation_id="getMyCredits", response=Credits,
           summary="My study hours against the cycle's requirements")
def my_credits() -> Credits:
    """The requirement status of the current member and their ledger entries in the cycle."""
    summary = requirements.status(current_user)
    out = summary.as_dict()
    out["entries"] = [{
        "id": r.id, "credited_on": r.credited_on, "kind": r.kind, "title": r.title, "hours": r.hours,
        "category": r.category, "innovative_theory": r.innovative_theory, "offjob": r.offjob,
        "county_level": r.county_level} for r in ledger.rows(current_user, summary.cycle_start, summary.cycle_end)]
    return Credits.model_validate(out)
