"""Services: every write and every rule lives here; the only layer that commits."""


class ServiceError(Exception):
    """A rule refused the operation. ``code`` is machine-readable, the message is for people."""

    status = 400

    def __init__(self, message: str, code: str = "invalid", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        if status is not None:
            self.status = status


class NotFound(ServiceError):
    status = 404

    def __init__(self, message: str = "not found"):
        super().__init__(message, "not_found", 404)


class Forbidden(ServiceError):
    status = 403

    def __init__(self, message: str = "forbidden"):
        super().__init__(message, "forbidden", 403)


def join_list(items) -> str:
    """Items as a list in the user's language, for messages: "甲、乙和丙" or "a, b, and c"."""
    from babel.lists import format_list
    from flask_babel import get_locale

    items = [str(i) for i in items]
    return format_list(items, locale=get_locale() or "zh") if items else ""
