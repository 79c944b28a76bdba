"""Form helpers shared by the pages: the submit routine of a page with a form, and a checkbox-list field."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import flash, redirect, request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto as _AUTO  # the 'no formdata given' marker Flask-WTF's Meta compares with
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.wrappers import Response
from wtforms import Field, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from elearn.errors import NotFound, ServiceError
from elearn.extensions import db
from elearn.http.errors import status_for

T = TypeVar("T")
SUBMIT_METHODS = ("POST", "PUT", "PATCH", "DELETE")  # what Flask-WTF counts as a submitted form


class Form(FlaskForm):
    """The base of the pages' forms: fields come from the submitted form (and its files) only. Flask-WTF would
    also read a JSON body into a form, where a body that is not an object (``1e999``, ``[[…]]``) fails; pages
    take form posts, JSON endpoints use payload schemas."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is not _AUTO or request.method not in SUBMIT_METHODS:
                return super().wrap_formdata(form, formdata)
            if request.files:
                return CombinedMultiDict((request.files, request.form))
            return request.form  # possibly empty: a post without form fields fills none


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


@dataclass
class Submission(Generic[T]):
    """What became of a form: ``response`` (a redirect) when the action succeeded, else the status the page
    is rendered with (200 before any POST, 400 for invalid input, the domain error's status otherwise)."""

    status: int = 200
    response: Response | None = None
    result: T | None = None


def submit(form: FlaskForm, action: Callable[[], T], *, done: Callable[[T], Response] | None = None,
           error_field: Field | None = None, not_found_status: int = 400) -> Submission[T]:
    """The routine of a page with a form. On POST: validate; run ``action``; on a domain error put its message
    on ``error_field`` (or the form) and answer with its status; on success return ``done(result)`` (usually
    flash and redirect). A NotFound raised by the action (a name typed in the form that does not exist)
    answers ``not_found_status``. Nothing happens on GET."""
    if request.method != "POST":
        return Submission()
    if not form.validate():
        return Submission(status=400)
    try:
        result = action()
    except ServiceError as exc:
        db.session.rollback()  # nothing half-done stays in the session the page is rendered from
        errors = error_field.errors if error_field is not None else form.form_errors
        errors.append(exc.message)
        status = not_found_status if isinstance(exc, NotFound) else status_for(exc)
        return Submission(status=status)
    return Submission(response=done(result) if done is not None else None, result=result)


def flash_and_redirect(message: str, url: str) -> Response:
    """The success of a form: say so on the next page."""
    flash(message, "success")
    return redirect(url)


def attempt(action: Callable[[], T], success: str | Callable[[T], str] | None = None) -> T | None:
    """Run a one-button action (no form to re-render): flash its success, or the domain error's message after
    rolling back. Returns the action's result, or None when it was refused."""
    try:
        result = action()
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return None
    if success is not None:
        flash(success(result) if callable(success) else success, "success")
    return result


def form_errors(form: FlaskForm) -> list[str]:
    """Every message of a validated form, for a flash."""
    out = [str(e) for e in form.form_errors]
    for name, errors in form.errors.items():
        if name is not None:  # form-level errors are listed under None too
            out.extend(str(e) for e in errors if not isinstance(e, dict | list))
    return out


