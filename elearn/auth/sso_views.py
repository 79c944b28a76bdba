"""Pages of sign-in through a provider (elearn.auth.sso): leaving for the provider and coming back, the account
page where a member links or unlinks a provider, and the admins' switch of local passwords per organisation.

Coming back signs in through the same steps as a password: the second factor where the role requires it
(two_factor_views.second_step), then the login session with its rules and its audit entry
(views.complete_sign_in)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from elearn.access import admin_required
from elearn.auth import sso, two_factor_views
from elearn.auth.views import _safe_next, complete_sign_in
from elearn.errors import ServiceError
from elearn.extensions import db, limiter
from elearn.http.errors import status_for
from elearn.http.schemas import int_arg
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation
from elearn.policy import LOGIN_LIMIT_PER_ADDRESS

bp = Blueprint("sso", __name__)
bp.record_once(lambda state: sso.init_app(state.app))  # the providers' settings checked at start-up
# The sign-in page shows a button per configured provider.
bp.app_context_processor(lambda: {"sign_in_providers": lambda: list(sso.providers().values())})

_PENDING = "sso_pending"


def _callback_url(pid: str) -> str:
    return url_for("sso.callback", pid=pid, _external=True)


def _error_page(exc: ServiceError, provider: sso.Provider | None = None) -> tuple[str, int]:
    status = 502 if isinstance(exc, sso.ProviderUnavailable) else status_for(exc)
    return render_template("auth/sso_error.html", message=exc.message, provider=provider), status


def _leave_for(p: sso.Provider, **mark: Any) -> Response | tuple[str, int]:
    try:
        url, pending = sso.begin(p, _callback_url(p.id))
    except ServiceError as exc:
        return _error_page(exc, p)
    session[_PENDING] = {**pending, **mark}
    return redirect(url)


@bp.route("/auth/sso/<pid>")
def start(pid: str):
    """Leave for provider ``pid`` to sign in there; it sends the browser back to :func:`callback`."""
    try:
        p = sso.provider(pid)
    except ServiceError:
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return _leave_for(p, intent="login", next=_safe_next(request.args.get("next")))


@bp.route("/auth/sso/<pid>/callback")
# Each return may cost a request to the provider: refused ones count like refused passwords.
@limiter.limit(LOGIN_LIMIT_PER_ADDRESS, deduct_when=lambda response: response.status_code >= 400)
def callback(pid: str):
    """Back from provider ``pid`` with a ticket (CAS) or a code (OIDC): checked, then signed in or linked. The
    session's mark is used once: the same return again is refused."""
    try:
        p = sso.provider(pid)
    except ServiceError:
        abort(404)
    pending = session.pop(_PENDING, None)
    pending = pending if isinstance(pending, dict) else None
    args = {k: v for k, v in request.args.items() if isinstance(v, str)}
    try:
        assertion = sso.finish(p, pending, args, _callback_url(p.id))
        if pending and pending.get("intent") == "link":
            if not current_user.is_authenticated or current_user.id != pending.get("uid"):
                raise ServiceError(_("登录状态已变化，请重新登录后再关联。"), "sso_state")
            sso.link(current_user, assertion)
            flash(_("已关联%(name)s。", name=p.label), "success")
            return redirect(url_for("sso.account"))
        if current_user.is_authenticated:
            return redirect(url_for("main.home"))
        user = sso.resolve(assertion)
    except ServiceError as exc:
        return _error_page(exc, p)
    next_url = str((pending or {}).get("next") or url_for("main.home"))
    return two_factor_views.second_step(user, remember=False, next_url=next_url) \
        or complete_sign_in(user, remember=False, next_url=next_url)


@bp.route("/account/sign-in", methods=["GET", "POST"])
@login_required
def account():
    """My accounts at the sign-in providers: link one (by signing in there) or unlink it."""
    if request.method == "POST":
        pid = request.form.get("provider", "")[:40]
        try:
            p = sso.provider(pid)
            if request.form.get("action") == "link":
                return _leave_for(p, intent="link", uid=current_user.id)
            sso.unlink(current_user, p.id)
        except ServiceError as exc:
            flash(exc.message, "error")
        else:
            flash(_("已解除与%(name)s的关联。", name=p.label), "success")
        return redirect(url_for("sso.account"))
    off_at = sso.passwords_off_at(current_user.organisation)
    return render_template("auth/sso_account.html", links=sso.links_of(current_user),
                           password_allowed=sso.password_allowed(current_user),
                           off_at=off_at.name if off_at is not None else None)


@bp.route("/admin/sign-in", methods=["GET", "POST"])
@admin_required
def organisations():
    """Local passwords on or off per organisation of my subtree (off holds for the organisations below)."""
    if request.method == "POST":
        org_id = int_arg(request.form, "org_id")
        org = db.session.get(Organisation, org_id) if org_id is not None else None
        if org is None:
            flash(_("请求无效。"), "error")
        else:
            off = request.form.get("off") == "1"
            try:
                sso.set_local_passwords(current_user, org, off=off)
            except ServiceError as exc:
                flash(exc.message, "error")
                return redirect(url_for("sso.organisations"))
            flash(_("已关闭“%(org)s”及其下级组织的本地密码登录。", org=org.name) if off
                  else _("已恢复“%(org)s”的本地密码登录。", org=org.name), "success")
        return redirect(url_for("sso.organisations"))
    managed = orgs.managed_orgs(current_user)
    # Off above the admin's own organisation (one query), or at an organisation of the list above this one.
    above = sso.passwords_off_at(current_user.organisation) is not None
    off_ids = {o.id for o in managed if o.local_passwords_off}
    rows = [{"id": o.id, "name": o.name, "depth": o.depth, "off": o.local_passwords_off,
             "inherited": not o.local_passwords_off and (above or any(
                 i in off_ids for i in sso.path_ids(o) if i != o.id))} for o in managed]
    return render_template("auth/sso_organisations.html", orgs=rows, configured=bool(sso.providers()))
