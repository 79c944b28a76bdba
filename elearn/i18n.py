"""The interface language: which locale a request speaks, and formatting that follows it."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from babel.lists import format_list
from flask import current_app, has_request_context, session
from flask_babel import get_locale
from flask_login import current_user

from elearn import clock


def select_locale() -> str:
    """The user's remembered choice, then the session's, then Chinese (the default)."""
    if not has_request_context():
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    supported = current_app.config["ELEARN_LOCALES"]
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return str(current_user.locale)
    chosen = session.get("locale")
    if chosen in supported:
        return str(chosen)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def join_list(items: Iterable[object]) -> str:
    """Items as a list in the user's language, for messages: "甲、乙和丙" or "a, b, and c"."""
    texts = [str(i) for i in items]
    return format_list(texts, locale=get_locale() or "zh") if texts else ""


def local_time(dt: datetime | None, seconds: bool = False) -> str:
    """A stored (naive UTC) time in the site's time zone, for pages and exports; "" for none. (Also the
    ``localtime`` template filter.)"""
    if dt is None:
        return ""
    return clock.to_site(dt).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
