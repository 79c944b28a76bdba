"""Typed SQLAlchemy 2 models, one module per domain.

Columns holding personal data carry ``info={"personal": True}`` (data classification); see
:func:`personal_fields`.
"""
from elearn.models.audit import AuditEntry
from elearn.models.course import Course, Lesson, MediaAsset, Subtitle, UploadSession
from elearn.models.org import Organisation
from elearn.models.reading import CourseReading, Reading
from elearn.models.series import Series, SeriesCourse, SeriesTarget
from elearn.models.user import ApiToken, Membership, User
from elearn.models import analytics, planning, quiz, study  # noqa: F401,E402  (register their tables)

def personal_fields() -> dict[str, list[str]]:
    """Map table name → columns classified as personal data."""
    from elearn.extensions import db

    out: dict[str, list[str]] = {}
    for table in db.metadata.sorted_tables:
        cols = [c.name for c in table.columns if c.info.get("personal")]
        if cols:
            out[table.name] = cols
    return out


__all__ = ["AuditEntry", "Organisation", "User", "Membership", "ApiToken", "Course", "Lesson", "MediaAsset",
           "Subtitle", "UploadSession", "Series", "SeriesCourse", "SeriesTarget", "Reading", "CourseReading",
           "personal_fields"]
