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
