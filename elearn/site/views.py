"""The home page (who I am, where I belong, what the plan asks of me) and the health check."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import text

from elearn.courses import series
from elearn.extensions import db
from elearn.ledger import requirements
from elearn.orgs import members as users
from elearn.policy import POLICY, REQUIREMENT_STATES
from elearn.search import services as search

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def home():
    """The signed-in user's home: who they are, where they belong, what the plan asks of them."""
    user = current_user
    org = user.organisation
    chain = []
    node = org
    while node is not None:
        chain.append(node.name)
        node = node.parent
    responsible = users.responsible_org(user)
    status = requirements.status(user)
    return render_template(
        "site/home.html",
        user=user,
        series_list=series.home_listing(user),
        credit=status,
        credit_state_label=REQUIREMENT_STATES.get(status.state, status.state),
        org_chain=list(reversed(chain)),
        responsible=responsible if responsible.id != org.id else None,
        target_hours=None if user.exempt else POLICY.cycle_hours_for(user.category),
        policy_numbers=POLICY,
    )


@bp.route("/healthz")
def healthz():
    """Liveness probe for load balancers: the database answers. Names the search backend in use (whoosh, the
    embedded default, or PostgreSQL), so an operator can tell which one a node runs."""
    db.session.execute(text("select 1"))
    return {"status": "ok", "search": "postgresql" if search.uses_database() else "whoosh"}
