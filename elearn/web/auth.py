"""Login, logout, password change and language choice."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from elearn.services import ServiceError, users
from elearn.web.forms import ChangePasswordForm, LoginForm

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with username and password; "remember me" keeps a long-lived cookie."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = users.authenticate(form.username.data, form.password.data)
        except ServiceError as exc:
            form.password.errors.append(exc.message)
            status = exc.status if exc.status in (401, 403, 429) else 400
        else:
            login_user(user, remember=form.remember.data)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out (POST only, so a link on another site cannot log a member out)."""
    logout_user()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; other sessions and remember-cookies stop working."""
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            users.change_password(current_user, form.current.data, form.new.data)
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


@bp.route("/locale/<locale>", methods=["POST"])
def set_locale(locale: str):
    """Switch the interface language; remembered on the account when logged in."""
    from flask import current_app
    if locale not in current_app.config["ELEARN_LOCALES"]:
        flash(_("不支持的语言。"), "error")
    else:
        session["locale"] = locale
        if current_user.is_authenticated:
            users.set_locale(current_user, locale)
    return redirect(_safe_next(request.form.get("next")))
