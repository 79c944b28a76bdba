"""Domain errors: what services raise when a rule refuses an operation.

Services know nothing of HTTP; :mod:`elearn.http.errors` maps each kind to a status code. ``code`` is
machine-readable (it appears in JSON errors), ``message`` is for people, in their language.
"""
from __future__ import annotations


class ServiceError(Exception):
    """A rule refused the operation (the request was invalid)."""

    default_code = "invalid"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = str(message)
        self.code = code or self.default_code


class NotFound(ServiceError):
    """No such thing within the actor's reach (also answered for things they may not know exist)."""

    default_code = "not_found"

    def __init__(self, message: str = "not found", code: str | None = None):
        super().__init__(message, code)


class Forbidden(ServiceError):
    """The actor may see this but not do that."""

    default_code = "forbidden"

    def __init__(self, message: str = "forbidden", code: str | None = None):
        super().__init__(message, code)


class NotAuthenticated(ServiceError):
    """Wrong credentials, or none."""

    default_code = "unauthorized"


class Conflict(ServiceError):
    """The operation contradicts the current state (already filed, taken, exists, moved on)."""

    default_code = "conflict"


class TooLarge(ServiceError):
    """The input is larger than a rule allows."""

    default_code = "too_large"


class TooManyAttempts(ServiceError):
    """Too many attempts in a short time; try again later."""

    default_code = "too_many"


class OutOfSpace(ServiceError):
    """Storage is full; nothing was written."""

    default_code = "out_of_space"


class Busy(ServiceError):
    """Too many concurrent changes of the same thing; the client may simply retry."""

    default_code = "busy"
