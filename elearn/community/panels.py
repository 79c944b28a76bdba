"""The community parts of other domains' pages, as plain data their views pass to the templates (the
templates run no queries): the course page's rating and bookmark, the lesson page's notes and questions, the
reading page's notes."""
from __future__ import annotations

from elearn.community import bookmarks, discussion, notes, ratings
from elearn.courses.models import Course, Lesson
from elearn.orgs.models import User
from elearn.policy import COMMUNITY
from elearn.readings.models import Reading


def course_panel(user: User, course: Course) -> dict:
    """What the course page shows of the community: the rating (average, count, my own, the form when I
    finished the course) and my bookmark."""
    return {"rating": ratings.rating_panel(user, course),
            "bookmarked": bookmarks.is_bookmarked(user, "course", course.id),
            "max_comment": COMMUNITY.comment_max_chars}


def lesson_panel(user: User, lesson: Lesson) -> dict:
    """The lesson page's notes (mine, in the order of the video), questions with their threads, bookmark."""
    return {"notes": [notes.note_row(n) for n in notes.lesson_notes(user, lesson)],
            "threads": discussion.threads(user, lesson.id),
            "lecturer": discussion.is_course_lecturer(user, lesson),
            "bookmarked": bookmarks.is_bookmarked(user, "lesson", lesson.id),
            "max_note": COMMUNITY.note_max_chars, "max_post": COMMUNITY.post_max_chars}


def reading_panel(user: User, reading: Reading, paragraphs: list[tuple[str, str]]) -> dict:
    """The reader's notes by paragraph anchor, the paragraphs one may note (anchor, opening words), and the
    bookmark."""
    return {"notes": {anchor: [notes.note_row(n) for n in found]
                      for anchor, found in notes.reading_notes(user, reading).items()},
            "paragraphs": [(anchor, text[:24]) for anchor, text in paragraphs],
            "bookmarked": bookmarks.is_bookmarked(user, "reading", reading.id),
            "max_note": COMMUNITY.note_max_chars}


def studio_panel(course: Course) -> dict:
    """The lecturer's studio course page: questions waiting for an answer."""
    return {"waiting_questions": discussion.waiting_questions(course)}
