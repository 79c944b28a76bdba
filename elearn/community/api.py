"""The community in the JSON API (``/api/v1``): my notes and bookmarks, the questions under a lesson (list,
ask, answer or reply, report) and course ratings, under the same rules as the pages (a lesson, reading or
course out of reach is a 404; posts and reports are rate-limited per user)."""
from __future__ import annotations

from dataclasses import asdict

from flask import Response
from flask_login import current_user

from elearn.community import bookmarks, discussion, notes, ratings
from elearn.community.models import StudyNote
from elearn.community.schemas import (
    BookmarkList,
    BookmarkOut,
    BookmarkState,
    LessonNoteIn,
    NoteList,
    NoteOut,
    PostIn,
    PostOut,
    RatingIn,
    RatingOut,
    ReadingNoteIn,
    ReportIn,
    ReportOut,
    ThreadList,
)
from elearn.courses.models import Course
from elearn.errors import NotFound
from elearn.extensions import db, limiter
from elearn.http.api import api_blueprint, operation, per_user
from elearn.policy import COMMUNITY

bp = api_blueprint("community_api", __name__)

_NOT_FOUND = {404: "no such thing the caller may open"}


def _note(note: StudyNote) -> NoteOut:
    return NoteOut(**asdict(notes.note_row(note)))


@operation(bp, "/notes", operation_id="listMyNotes", response=NoteList,
           summary="My notes, by course (lesson and time) then reading (paragraph)")
def list_notes() -> NoteList:
    """Every note of mine; nobody else's are ever listed."""
    return NoteList(items=[NoteOut(**asdict(r)) for r in notes.my_notes(current_user)])


@operation(bp, "/lessons/<int:lesson_id>/notes", method="POST", operation_id="addLessonNote", body=LessonNoteIn,
           response=NoteOut, errors=_NOT_FOUND, summary="A note at a moment of a lesson I may watch")
def add_lesson_note(lesson_id: int, body: LessonNoteIn) -> NoteOut:
    return _note(notes.add_lesson_note(current_user, lesson_id, body.position_s, body.text))


@operation(bp, "/readings/<int:reading_id>/notes", method="POST", operation_id="addReadingNote",
           body=ReadingNoteIn, response=NoteOut, errors=_NOT_FOUND,
           summary="A note on a paragraph of a reading I may open")
def add_reading_note(reading_id: int, body: ReadingNoteIn) -> NoteOut:
    return _note(notes.add_reading_note(current_user, reading_id, body.paragraph, body.text))


@operation(bp, "/notes/<int:note_id>", method="DELETE", operation_id="deleteNote", errors=_NOT_FOUND,
           summary="Delete one of my notes")
def delete_note(note_id: int) -> Response:
    notes.delete_note(current_user, note_id)
    return Response(status=204)


@operation(bp, "/bookmarks", operation_id="listMyBookmarks", response=BookmarkList,
           summary="My bookmarks of courses, lessons and readings I may still open, newest first")
def list_bookmarks() -> BookmarkList:
    return BookmarkList(items=[BookmarkOut(kind=b.kind, id=b.target_id, title=b.title, context=b.context)  # type: ignore[arg-type]
                               for b in bookmarks.my_bookmarks(current_user)])


@operation(bp, "/bookmarks/<kind>/<int:target_id>", method="PUT", operation_id="addBookmark",
           response=BookmarkState, errors=_NOT_FOUND, summary="Bookmark a course, lesson or reading (kind)")
def add_bookmark(kind: str, target_id: int) -> BookmarkState:
    return BookmarkState(kind=kind, id=target_id, bookmarked=bookmarks.set_bookmark(current_user, kind,
                                                                                     target_id, True))


@operation(bp, "/bookmarks/<kind>/<int:target_id>", method="DELETE", operation_id="removeBookmark",
           response=BookmarkState, errors=_NOT_FOUND, summary="Remove a bookmark")
def remove_bookmark(kind: str, target_id: int) -> BookmarkState:
    return BookmarkState(kind=kind, id=target_id, bookmarked=bookmarks.set_bookmark(current_user, kind,
                                                                                     target_id, False))


def _post_out(view: discussion.PostView) -> PostOut:
    return PostOut(id=view.id, kind=view.kind, author=view.author, body=view.body,  # type: ignore[arg-type]
                   hidden=view.hidden, answered=view.answered, created_at=view.created_at,
                   children=[_post_out(c) for c in view.children])


@operation(bp, "/lessons/<int:lesson_id>/questions", operation_id="listLessonQuestions", response=ThreadList,
           errors=_NOT_FOUND, summary="The questions under a lesson, newest first, with answers and replies")
def list_questions(lesson_id: int) -> ThreadList:
    return ThreadList(items=[_post_out(t) for t in discussion.threads(current_user, lesson_id)])


@operation(bp, "/lessons/<int:lesson_id>/questions", method="POST", operation_id="askQuestion", body=PostIn,
           response=PostOut, errors={**_NOT_FOUND, 429: "too many posts"},
           summary="Ask a question under a lesson I may see")
@limiter.limit(COMMUNITY.post_limit_per_user, key_func=per_user)
def ask(lesson_id: int, body: PostIn) -> PostOut:
    post = discussion.ask(current_user, lesson_id, body.body)
    return _post_out(discussion.threads(current_user, post.lesson_id)[0])


@operation(bp, "/posts/<int:post_id>/responses", method="POST", operation_id="respondToQuestion", body=PostIn,
           response=PostOut, errors={**_NOT_FOUND, 429: "too many posts"},
           summary="Answer (the course's lecturer) or reply to a question")
@limiter.limit(COMMUNITY.post_limit_per_user, key_func=per_user)
def respond(post_id: int, body: PostIn) -> PostOut:
    post = discussion.respond(current_user, post_id, body.body)
    return PostOut(id=post.id, kind=post.kind, author=post.author.name, body=post.body,  # type: ignore[arg-type]
                   hidden=False, answered=False, created_at=post.created_at.isoformat(timespec="minutes"))


@operation(bp, "/posts/<int:post_id>/report", method="POST", operation_id="reportPost", body=ReportIn,
           response=ReportOut, errors={**_NOT_FOUND, 429: "too many reports"},
           summary="Report a post to its moderators")
@limiter.limit(COMMUNITY.report_limit_per_user, key_func=per_user)
def report(post_id: int, body: ReportIn) -> ReportOut:
    return ReportOut(reported=discussion.report(current_user, post_id, body.reason))


def _rating(course_id: int) -> RatingOut:
    course = bookmarks.target_visible(current_user, "course", course_id)
    assert isinstance(course, Course)
    panel = ratings.rating_panel(current_user, course)
    return RatingOut(course_id=course.id, average=panel.average, count=panel.count, may_rate=panel.may_rate,
                     stars=panel.stars, comment=panel.comment)


@operation(bp, "/courses/<int:course_id>/rating", operation_id="getCourseRating", response=RatingOut,
           errors=_NOT_FOUND, summary="A course's average rating and count, and mine")
def get_rating(course_id: int) -> RatingOut:
    return _rating(course_id)


@operation(bp, "/courses/<int:course_id>/rating", method="PUT", operation_id="rateCourse", body=RatingIn,
           response=RatingOut, errors={**_NOT_FOUND, 403: "not finished yet (or the token lacks the scope)"},
           summary="Rate a course I have finished (1–5 stars); re-rating replaces my rating")
def rate(course_id: int, body: RatingIn) -> RatingOut:
    course = db.session.get(Course, course_id)
    if course is None:
        raise NotFound("course not found")
    ratings.rate_course(current_user, course, body.stars, body.comment)
    return _rating(course_id)


