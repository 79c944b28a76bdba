"""Pages of two-factor sign-in: the second step after the password, enrolment (QR code and secret), the
account page (recovery codes, disabling) and a higher admin's reset; and the rule that holds a half-signed-in
browser on those pages.

Half-signed-in (password right, second factor not yet given) is only a mark in the signed session cookie: the
user id, when the password was given, "remember me" and where to go next. No login session exists until the
second factor is given (elearn.auth.services.start_session is called only then), and the mark lapses after
``policy.TWO_FACTOR.pending_seconds``."""
from __future__ import annotations

from calendar import timegm
from typing import Any

import segno
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from elearn import clock
from elearn.access import admin_required
from elearn.auth import two_factor
from elearn.errors import ServiceError
from elearn.extensions import db, limiter
from elearn.http.errors import json_error, status_for
from elearn.http.forms import Form
from elearn.i18n import local_time
from elearn.orgs.models import User
from elearn.policy import TWO_FACTOR

bp = Blueprint("two_factor", __name__)

_PENDING = "two_factor_pending"
# What a half-signed-in browser may still open: its own steps, the sign-in page (to start over as someone
# else), the language switch, static files and the health check.
_OPEN_ENDPOINTS = {"two_factor.verify", "two_factor.enrol", "two_factor.cancel", "auth.login", "auth.logout",
                   "auth.set_locale", "static", "main.healthz"}


class CodeForm(Form):
    code = StringField(_l("验证码"), validators=[DataRequired(_l("请填写验证码。")), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false",
                                  "autofocus": True})
    submit = SubmitField(_l("验证"))


class EnrolForm(Form):
    code = StringField(_l("验证器显示的 6 位验证码"), validators=[DataRequired(_l("请填写验证码。")), Length(max=10)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"})
    submit = SubmitField(_l("完成启用"))


class ProofForm(Form):
    """A change to the factor: a current code or the password."""

    code = StringField(_l("当前验证码"), validators=[Length(max=10)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    password = PasswordField(_l("或者：密码"), render_kw={"autocomplete": "current-password"})


# -- the half-signed-in state -------------------------------------------------------------------------------

def _epoch() -> int:
    return timegm(clock.now_utc().utctimetuple())


def _pending() -> dict[str, Any] | None:
    mark = session.get(_PENDING)
    return mark if isinstance(mark, dict) and isinstance(mark.get("uid"), int) else None


def _pending_user() -> User | None:
    """The user of a half-signed-in browser whose mark has not lapsed; a lapsed mark is dropped (with a word)."""
    mark = _pending()
    if mark is None:
        return None
    user = db.session.get(User, mark["uid"])
    if user is None or not user.active or _epoch() - int(mark.get("at", 0)) > TWO_FACTOR.pending_seconds:
        session.pop(_PENDING, None)
        flash(_("验证已超时，请重新输入密码登录。"), "info")
        return None
    return user


def second_step(user: User, *, remember: bool, next_url: str) -> Response | None:
    """After the right password: where a user with a second factor (or one who must enrol first) goes next;
    None when the password is all the user needs (then the caller signs them in)."""
    enrolled, enrol = two_factor.is_enabled(user), two_factor.must_enrol(user)
    if not enrolled and not enrol:
        return None
    session[_PENDING] = {"uid": user.id, "at": _epoch(), "remember": bool(remember), "next": next_url}
    return redirect(url_for("two_factor.verify" if enrolled else "two_factor.enrol"))


def _finish(user: User) -> Response:
    """The second factor is given: the real sign-in (login session, cookies) happens now."""
    # Imported here: elearn.auth.views imports this module for the second step.
    from elearn.auth.views import complete_sign_in
    mark = session.pop(_PENDING, None) or {}
    return complete_sign_in(user, remember=bool(mark.get("remember")), next_url=str(mark.get("next") or "/"))


def flash_previous_sign_in(user: User) -> None:
    """"上次登录：<time> · <address>" of the sign-in before this one (from its login session), if any."""
    before = two_factor.previous_sign_in(user, current=user.login_session_id)
    if before is not None:
        flash(_("上次登录：%(time)s · %(ip)s", time=local_time(before.created_at), ip=before.ip or "—"), "info")


@bp.before_app_request
def hold_half_signed_in() -> ResponseReturnValue | None:
    """A half-signed-in browser, or a signed-in user who must enrol (a role that requires it, a reset factor),
    gets nothing but the steps: pages redirect there, the API answers 403. Bearer tokens are their own factor."""
    if request.endpoint in _OPEN_ENDPOINTS or request.headers.get("Authorization"):
        return None
    target = None
    if _pending() is not None:
        user = _pending_user()
        if user is None:
            target = url_for("auth.login")
        else:
            target = url_for("two_factor.verify" if two_factor.is_enabled(user) else "two_factor.enrol")
    elif current_user.is_authenticated and two_factor.is_required(current_user) \
            and not two_factor.is_enabled(current_user):
        # (Only roles that require it are looked up: a member's request costs no query. A reset member's
        # sessions end with the reset, so their next sign-in goes through second_step.)
        target = url_for("two_factor.enrol")
    if target is None:
        return None
    if request.path.startswith("/api/"):
        return json_error(403, "two_factor_required", _("请先完成两步验证。"))
    return redirect(target)


def _account_key() -> str:
    mark = _pending()
    who = mark["uid"] if mark else (current_user.get_id() if current_user.is_authenticated else "")
    return f"two-factor:{who}"


def _refused(response: Response) -> bool:
    return response.status_code >= 400


# -- pages ------------------------------------------------------------------------------------------------

@bp.route("/auth/two-factor", methods=["GET", "POST"])
@limiter.limit(TWO_FACTOR.limit_per_address, methods=["POST"], deduct_when=_refused)
@limiter.limit(TWO_FACTOR.limit_per_account, key_func=_account_key, methods=["POST"], deduct_when=_refused)
def verify():
    """The second step of signing in: a code from the authenticator app, or a recovery code."""
    user = _pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if not two_factor.is_enabled(user):
        return redirect(url_for("two_factor.enrol"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            used = two_factor.verify_sign_in(user, form.code.data)
        except ServiceError as exc:
            form.code.errors.append(exc.message)
            status = status_for(exc) if status_for(exc) in (401, 403) else 400
        else:
            if used == "recovery":
                flash(_("您用了一个恢复码登录，还剩 %(n)d 个。手机找回前请妥善保管其余的恢复码。",
                        n=two_factor.recovery_codes_left(user)), "info")
            return _finish(user)
    elif request.method == "POST":
        status = 400
    return render_template("auth/two_factor_verify.html", form=form, username=user.username), status


def _qr_svg(uri: str) -> Markup:
    # Inline SVG made on the server: the secret never goes to a QR service; light modules stay white so a
    # phone reads it in a dark theme too.
    svg = segno.make(uri, error="m").svg_inline(scale=4, omitsize=True, dark="#000", light="#fff",
                                                svgclass="qr-code", title=_("两步验证二维码"))
    return Markup(svg)  # segno writes the markup and escapes the URI and title in it


@bp.route("/auth/two-factor/enrol", methods=["GET", "POST"])
@limiter.limit(TWO_FACTOR.limit_per_address, methods=["POST"], deduct_when=_refused)
@limiter.limit(TWO_FACTOR.limit_per_account, key_func=_account_key, methods=["POST"], deduct_when=_refused)
def enrol():
    """Enrolment: scan the QR code (or type the secret) into an authenticator app, then give one of its codes;
    the recovery codes are shown once on success."""
    half = _pending() is not None
    user = _pending_user() if half else (current_user if current_user.is_authenticated else None)
    if user is None:
        return redirect(url_for("auth.login"))
    if two_factor.is_enabled(user):
        return redirect(url_for("two_factor.verify") if half else url_for("two_factor.account"))
    form = EnrolForm()
    status = 200
    if request.method == "POST" and request.form.get("action") == "restart":  # (CSRF checked for every POST)
        two_factor.enrolment_secret(user, fresh=True)
        return redirect(url_for("two_factor.enrol"))
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_enrolment(user, form.code.data)
        except ServiceError as exc:
            form.code.errors.append(exc.message)
            status = 400
        else:
            done = _finish(user) if half else redirect(url_for("two_factor.account"))
            flash(_("两步验证已启用。"), "success")
            return render_template("auth/two_factor_codes.html", codes=codes, next_url=done.location), 200
    elif request.method == "POST":
        status = 400
    secret = two_factor.enrolment_secret(user)
    return render_template("auth/two_factor_enrol.html", form=form, half=half, required=two_factor.is_required(user),
                           qr=_qr_svg(two_factor.provisioning_uri(user, secret)),
                           secret=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4))), status


@bp.route("/auth/two-factor/cancel", methods=["POST"])
def cancel():
    """Give up the half-finished sign-in (the password will be asked again)."""
    session.pop(_PENDING, None)
    return redirect(url_for("auth.login"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def account():
    """My second factor: on or off, recovery codes left; regenerate the codes, or turn it off (where allowed)."""
    form = ProofForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        action = request.form.get("action")
        try:
            if action == "regenerate":
                codes = two_factor.regenerate_codes(current_user, code=form.code.data or "",
                                                    password=form.password.data or "")
                flash(_("已生成新的恢复码，旧的恢复码全部作废。"), "success")
                return render_template("auth/two_factor_codes.html", codes=codes,
                                       next_url=url_for("two_factor.account"))
            if action == "disable":
                two_factor.disable(current_user, code=form.code.data or "", password=form.password.data or "")
                flash(_("两步验证已关闭。"), "success")
                return redirect(url_for("two_factor.account"))
        except ServiceError as exc:
            form.code.errors.append(exc.message)
            status = status_for(exc) if status_for(exc) == 403 else 400
    elif request.method == "POST":
        status = 400
    return render_template("auth/two_factor_account.html", form=form, enabled=two_factor.is_enabled(current_user),
                           required=two_factor.is_required(current_user),
                           codes_left=two_factor.recovery_codes_left(current_user)), status


@bp.route("/admin/members/<int:user_id>/two-factor/reset", methods=["POST"])
@admin_required
def reset(user_id: int):
    """A higher admin resets a member's second factor (lost device): they enrol again at their next sign-in."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    two_factor.reset(current_user, user)  # Forbidden outside the admin's scope: the site's 403 page
    flash(_("已重置 %(name)s 的两步验证，其登录已全部结束；下次登录时须重新启用。", name=user.name), "success")
    return redirect(url_for("admin.member", user_id=user.id))
