"""The community parts of other domains' pages, as plain data their views pass to the templates (the
templates run no queries): the course page's rating and bookmark, the lesson page's notes and questions, the
reading page's notes."""
from __future__ import annotations

from elearn.community import bookmarks, ratings
from elearn.courses.models import Course
from elearn.orgs.models import User
from elearn.policy import COMMUNITY


def course_panel(user: User, course: Course) -> dict:
    """What the course page shows of the community: the rating (average, count, my own, the form when I
    finished the course) and my bookmark."""
    return {"rating": ratings.rating_panel(user, course),
            "bookmarked": bookmarks.is_bookmarked(user, "course", course.id),
            "max_comment": COMMUNITY.comment_max_chars}
