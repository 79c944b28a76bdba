"""Home page and the member's own account pages."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn.policy import POLICY, REQUIREMENT_STATES
from elearn.services import requirements, series, tokens, users

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
        "main/home.html",
        user=user,
        series_list=series.home_listing(user),
        credit=status,
        credit_state_label=REQUIREMENT_STATES.get(status.state, status.state),
        org_chain=list(reversed(chain)),
        responsible=responsible if responsible.id != org.id else None,
        target_hours=None if user.exempt else POLICY.cycle_hours_for(user.category),
        policy_numbers=POLICY,
    )


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    """List, create and revoke one's API tokens. A new token is shown once."""
    new_token = None
    if request.method == "POST":
        from flask_wtf.csrf import validate_csrf  # noqa: F401  (CSRFProtect already checked the form)
        action = request.form.get("action")
        if action == "create":
            new_token = tokens.issue(current_user, request.form.get("name", "").strip() or "api")
            flash(_("令牌已创建，请立即复制保存，它只显示这一次。"), "success")
        elif action == "revoke":
            try:
                token_id = int(request.form.get("token_id", ""))
            except ValueError:
                flash(_("请求无效。"), "error")
            else:
                tokens.revoke(current_user, token_id)
                flash(_("令牌已吊销。"), "success")
                return redirect(url_for("main.api_tokens"))
    return render_template("main/tokens.html", tokens=tokens.list_for(current_user), new_token=new_token)


@bp.route("/healthz")
def healthz():
    """Liveness probe for load balancers: the database answers."""
    from sqlalchemy import text
    from elearn.extensions import db
    db.session.execute(text("select 1"))
    return {"status": "ok"}
