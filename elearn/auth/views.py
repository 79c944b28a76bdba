"""Login, logout, password change, language choice and the API tokens page."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user, user_loaded_from_cookie
from werkzeug.wrappers import Response

from elearn.access import ADMINS, has_role
from elearn.auth import passwords, reset, session_rules, tokens, two_factor, two_factor_views
from elearn.auth import services as auth
from elearn.auth.forms import ChangePasswordForm, LoginForm, ResetPasswordForm, ResetRequestForm
from elearn.errors import ServiceError
from elearn.extensions import limiter
from elearn.http.api import SCOPES
from elearn.http.errors import status_for
from elearn.http.forms import flash_and_redirect, submit
from elearn.http.schemas import int_arg
from elearn.orgs import members as users
from elearn.orgs import services as orgs
from elearn.orgs.models import User
from elearn.policy import LOGIN_LIMIT_PER_ADDRESS, LOGIN_LIMIT_PER_NAME, RESET

bp = Blueprint("auth", __name__)
# An expired password: nothing but changing it until it is changed.
bp.before_app_request(session_rules.password_change_gate)
# Every page with a new-password field shows the rules as they are in the policy.
bp.app_context_processor(lambda: {"password_rules": passwords.rules_summary})


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("main.home")


def _refused(response) -> bool:
    """Only refused sign-ins count against the limits: a meeting room of members behind one address, all
    signing in at once, is never throttled; a guesser is."""
    return response.status_code >= 400


def _typed_name() -> str:
    return "login-name:" + (request.form.get("username") or "").strip().lower()[:80]


@bp.route("/auth/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT_PER_ADDRESS, methods=["POST"], deduct_when=lambda response: _refused(response))
@limiter.limit(LOGIN_LIMIT_PER_NAME, key_func=_typed_name, methods=["POST"],
               deduct_when=lambda response: _refused(response))
def login():
    """Log in with username and password; "remember me" keeps a long-lived cookie."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = auth.authenticate(form.username.data, form.password.data)
        except ServiceError as exc:
            form.password.errors.append(exc.message)
            status = status_for(exc) if status_for(exc) in (401, 403, 429) else 400
        else:
            next_url = _safe_next(request.args.get("next"))
            # A second factor (or its enrolment) comes before any login session exists.
            return two_factor_views.second_step(user, remember=form.remember.data, next_url=next_url) \
                or complete_sign_in(user, remember=form.remember.data, next_url=next_url)
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


def complete_sign_in(user: User, *, remember: bool, next_url: str) -> Response:
    """Every factor given (the password, and the second factor where there is one): the login session starts,
    the cookies are set, and the previous sign-in is shown."""
    row = auth.start_session(user, ip=request.remote_addr, user_agent=request.user_agent.string,
                             remember=remember)
    login_user(user, remember=row.remember)  # never for admins (session_rules)
    session.permanent = True
    two_factor_views.flash_previous_sign_in(user)
    if row.password_change_required:
        flash(_("您正在使用管理员设置的临时密码，请先修改密码。") if reset.must_change(user)
              else _("您的密码已过期，请先修改密码。"), "error")
        return redirect(url_for("auth.change_password"))
    return redirect(_safe_next(next_url))


@bp.route("/auth/logout", methods=["POST"])
@login_required
def logout():
    """Log out (POST only, so a link on another site cannot log a member out): the server-side session ends,
    so a copied cookie dies too."""
    auth.end_session(current_user.login_session_id)
    logout_user()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/auth/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; other sessions and remember-cookies stop working."""
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            auth.change_password(current_user, form.current.data, form.new.data,
                                 revoke_tokens=form.revoke_tokens.data)
        except ServiceError as exc:
            form.new.errors.append(exc.message) if exc.code != "bad_current_password" \
                else form.current.errors.append(exc.message)
            status = 400
        else:
            flash(_("密码已修改，其他设备上的登录已结束。"), "success")
            return redirect(url_for("main.home"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/password.html", form=form), status


def _typed_email() -> str:
    return "reset-email:" + (request.form.get("email") or "").strip().lower()[:200]


@bp.route("/auth/reset", methods=["GET", "POST"])
@limiter.limit(RESET.limit_per_address, methods=["POST"])
@limiter.limit(RESET.limit_per_email, key_func=_typed_email, methods=["POST"])
def reset_request():
    """Forgot password: by e-mail when the site sends e-mail (the same answer for every address, known or
    not), else the page says to ask an org admin."""
    form = ResetRequestForm()
    if not reset.by_email_available():
        return render_template("auth/reset_request.html", form=None), 200
    if form.validate_on_submit():
        reset.request_by_email(form.email.data)
        flash(_("如果该邮箱属于本站的账号，重置密码的链接已发送到该邮箱，%(m)d 分钟内有效。没有收到时请查看垃圾邮件，"
                "或联系所在组织的管理员。", m=RESET.link_minutes), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/auth/reset/<token>", methods=["GET", "POST"])
@limiter.limit(RESET.limit_per_address, methods=["POST"])
def reset_password(token: str):
    """The e-mailed link: choose a new password (once; the link then opens nothing)."""
    try:
        user = reset.user_for_token(token)
    except ServiceError as exc:
        return render_template("auth/reset_password.html", form=None, error=exc.message), 400
    form = ResetPasswordForm()
    done = submit(form, lambda: reset.complete_by_email(token, form.new.data), error_field=form.new,
                  done=lambda _user: flash_and_redirect(_("密码已重置，请用新密码登录。"), url_for("auth.login")))
    if done.response is not None:
        return done.response
    return render_template("auth/reset_password.html", form=form, username=user.username, error=None), done.status


@bp.route("/auth/locale/<locale>", methods=["POST"])
def set_locale(locale: str):
    """Switch the interface language; remembered on the account when logged in."""
    if locale not in current_app.config["ELEARN_LOCALES"]:
        flash(_("不支持的语言。"), "error")
    else:
        session["locale"] = locale
        if current_user.is_authenticated:
            users.set_locale(current_user, locale)
    return redirect(_safe_next(request.form.get("next")))


def _chosen_scopes() -> list[str] | tuple[str, ...]:
    """The scopes ticked on the token form; a form without the scope fieldset (older clients) gets the defaults,
    an unticked fieldset none (refused with a message)."""
    if "scope_fieldset" not in request.form:
        return tokens.DEFAULT_SCOPES
    return request.form.getlist("scope")


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    """List, create and revoke one's API tokens. A new token is shown once."""
    new_token = None
    if request.method == "POST":
        action = request.form.get("action")
        if action == "create" and not two_factor.may_use_api_tokens(current_user):
            flash(_("请先启用两步验证，再创建 API 令牌。"), "error")
        elif action == "create":
            try:
                org_id = int_arg(request.form, "organisation_id")
                limit = orgs.managed_org(current_user, org_id) if org_id is not None else None
                new_token = tokens.issue(current_user, request.form.get("name", "").strip() or "api",
                                         scopes=_chosen_scopes(), organisation=limit)
            except ServiceError as exc:
                flash(exc.message, "error")
            else:
                flash(_("令牌已创建，请立即复制保存，它只显示这一次。"), "success")
        elif action == "revoke":
            token_id = int_arg(request.form, "token_id")
            if token_id is None:
                flash(_("请求无效。"), "error")
            else:
                tokens.revoke(current_user, token_id)
                flash(_("令牌已吊销。"), "success")
                return redirect(url_for("auth.api_tokens"))
    is_admin = has_role(current_user, *ADMINS)
    return render_template("auth/tokens.html", tokens=tokens.list_for(current_user), new_token=new_token,
                           scopes=[s for s in SCOPES if s != "admin" or is_admin], default_scopes=tokens.DEFAULT_SCOPES,
                           org_choices=orgs.managed_org_choices(current_user) if is_admin else [],
                           scope_labels={"read": _("读取"), "study": _("学习上报"), "admin": _("管理")})


@bp.route("/account/sessions", methods=["GET", "POST"])
@login_required
def sessions():
    """The browsers signed in to my account (device, address, last seen); sign one out, or all but this one."""
    if request.method == "POST":
        if request.form.get("action") == "everywhere":
            n = auth.end_sessions(current_user, current_user, "everywhere", keep=current_user.login_session_id)
            flash(_("已在其他 %(n)d 台设备上退出。", n=n), "success")
        else:
            only = request.form.get("session", "")[:64]
            if only and only != current_user.login_session_id:
                auth.end_sessions(current_user, current_user, "revoked", only=only)
                flash(_("已在该设备上退出。"), "success")
        return redirect(url_for("auth.sessions"))
    rows = [{"id": s.id, "device": device_label(s.user_agent), "ip": s.ip, "created_at": s.created_at,
             "last_seen_at": s.last_seen_at, "remember": s.remember, "current": s.id == current_user.login_session_id}
            for s in auth.sessions_of(current_user)]
    return render_template("auth/sessions.html", sessions=rows)


def device_label(user_agent: str) -> str:
    """A short name of the browser and system a User-Agent string announces (for people, not for rules)."""
    ua = user_agent or ""
    browser = next((name for key, name in (("MicroMessenger", "微信"), ("Edg/", "Edge"), ("Chrome/", "Chrome"),
                                            ("Firefox/", "Firefox"), ("Safari/", "Safari")) if key in ua), "")
    system = next((name for key, name in (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
                                           ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux"))
                   if key in ua), "")
    return " · ".join(p for p in (browser, system) if p) or (ua[:60] or _("未知设备"))


@user_loaded_from_cookie.connect
def _rotate_remembered(_app: object, user: object, **_extra: object) -> None:
    """A browser came back with its remember-me cookie: give it a fresh session and a fresh cookie."""
    if isinstance(user, User) and auth.rotate_session(user) is not None:
        session["_user_id"] = user.login_session_id
        session["_remember"] = "set"  # flask-login writes the new remember-me cookie after this request
