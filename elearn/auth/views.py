"""Login, logout, password change, language choice and the API tokens page."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from elearn.auth import services as auth
from elearn.auth import tokens
from elearn.auth.forms import ChangePasswordForm, LoginForm
from elearn.errors import ServiceError
from elearn.http.errors import status_for
from elearn.orgs import members as users

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("main.home")


@bp.route("/auth/login", methods=["GET", "POST"])
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
            login_user(user, remember=form.remember.data)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/auth/logout", methods=["POST"])
@login_required
def logout():
    """Log out (POST only, so a link on another site cannot log a member out)."""
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
            auth.change_password(current_user, form.current.data, form.new.data)
        except ServiceError as exc:
            form.new.errors.append(exc.message) if exc.code != "bad_current_password" \
                else form.current.errors.append(exc.message)
            status = 400
        else:
            # The session's id embeds the old version; log in again under the new one.
            login_user(current_user._get_current_object(), remember=False)
            flash(_("密码已修改。"), "success")
            return redirect(url_for("main.home"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/password.html", form=form), status


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
                return redirect(url_for("auth.api_tokens"))
    return render_template("auth/tokens.html", tokens=tokens.list_for(current_user), new_token=new_token)
