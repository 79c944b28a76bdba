"""The one extra upload right of the media pipeline: a branch's secretary (or deputy, or an admin over the branch)
uploads the recording of *their own branch's* party lecture — its lesson only, not courses in general.

Kept apart from :mod:`elearn.branch.lectures` so that :mod:`elearn.courses.services` can ask it without an
import cycle (the lecture service itself builds on the course services).
"""
from __future__ import annotations

from sqlalchemy import select

from elearn.branch.lecture_models import PartyLecture
from elearn.branch.officers import may_manage_branch
from elearn.courses.models import Course
from elearn.extensions import db
from elearn.orgs.models import User


def may_upload_recording(user: User, course: Course) -> bool:
    """True when ``course`` is a party lecture's recording course and ``user`` may run that lecture's branch."""
    lecture = db.session.execute(
        select(PartyLecture).where(PartyLecture.course_id == course.id)).scalar_one_or_none()
    return lecture is not None and may_manage_branch(user, lecture.organisation)
