"""Questions under a lesson: asked by whoever may see the lesson (elearn.courses.catalog), answered by the
course's lecturer (the asker is notified), replied to by members; any reader reports a post; the course's
lecturer, an admin over the author's organisation and site admins hide and unhide posts (audited) and clear
reports. A hidden post stays: its moderators and its author still read it, everyone else sees "已隐藏".

A lesson out of the reader's reach answers "not found" everywhere here, never "forbidden": ids stay secret.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.community.models import DiscussionPost, PostReport
from elearn.community.text import clean_text
from elearn.courses.catalog import can_view_lesson
from elearn.courses.models import Course, Lesson
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.extensions import db
from elearn.notify.services import notify
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.policy import COMMUNITY


def _lesson(user: User, lesson_id: int) -> Lesson:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or not can_view_lesson(user, lesson):
        raise NotFound(_("课时不存在。"))
    return lesson


def visible_post(user: User, post_id: int) -> DiscussionPost:
    """A post of a lesson ``user`` may see; NotFound otherwise (and for a hidden one they may not read)."""
    post = db.session.get(DiscussionPost, post_id)
    # an admin over the author moderates even a lesson outside their own audience
    if post is None or not (can_view_lesson(user, post.lesson) or may_moderate(user, post)):
        raise NotFound(_("讨论帖不存在。"))
    if post.hidden_at is not None and not may_read_hidden(user, post):
        raise NotFound(_("讨论帖不存在。"))
    return post


def is_course_lecturer(user: User, lesson: Lesson) -> bool:
    return getattr(user, "is_authenticated", False) and lesson.course.lecturer_id == user.id


def may_moderate(user: User, post: DiscussionPost) -> bool:
    """The course's lecturer, an admin over the author's organisation, a site admin."""
    if not getattr(user, "is_authenticated", False) or not user.active:
        return False
    if user.role == Role.SITE_ADMIN or is_course_lecturer(user, post.lesson):
        return True
    return orgs.can_manage(user, post.author.organisation)


def may_read_hidden(user: User, post: DiscussionPost) -> bool:
    return post.author_id == user.id or may_moderate(user, post)


def ask(user: User, lesson_id: int, body: object) -> DiscussionPost:
    """A question under a lesson ``user`` may see."""
    lesson = _lesson(user, lesson_id)
    text = clean_text(body, COMMUNITY.post_max_chars)
    post = DiscussionPost(lesson_id=lesson.id, author_id=user.id, kind="question", body=text,
                          created_at=clock.now_utc())
    db.session.add(post)
    db.session.commit()
    return post


def respond(user: User, question_id: int, body: object) -> DiscussionPost:
    """An answer (by the course's lecturer: the asker is told) or a reply (by anyone else who may see the
    lesson) to a question."""
    question = visible_post(user, question_id)
    if question.parent_id is not None:
        raise ServiceError(_("只能回复问题本身。"), "not_a_question")
    if question.hidden_at is not None:
        raise ServiceError(_("该问题已隐藏，不能再回复。"), "hidden")
    text = clean_text(body, COMMUNITY.post_max_chars)
    now = clock.now_utc()
    lecturer = is_course_lecturer(user, question.lesson)
    post = DiscussionPost(lesson_id=question.lesson_id, parent_id=question.id, author_id=user.id,
                          kind="answer" if lecturer else "reply", body=text, created_at=now)
    db.session.add(post)
    if lecturer and question.answered_at is None:
        question.answered_at = now
    db.session.flush()
    if lecturer and question.author_id != user.id:
        lesson = question.lesson
        # notify commits the session (the answer with it)
        notify(question.author, "question_answered", _("讲师回答了您的问题：%(t)s", t=lesson.title),
               text[:200], link=f"/learn/lessons/{lesson.id}#post-{question.id}")
    else:
        db.session.commit()
    return post


def report(user: User, post_id: int, reason: object = "") -> bool:
    """Report a post to its moderators; False when ``user`` had already reported it (counted once)."""
    post = visible_post(user, post_id)
    text = clean_text(reason, COMMUNITY.report_reason_max_chars, required=False)
    seen = db.session.execute(select(PostReport).where(
        PostReport.post_id == post.id, PostReport.reporter_id == user.id)).scalar()
    if seen is not None and seen.resolved_at is None:
        return False
    if seen is not None:
        seen.resolved_at, seen.reason, seen.created_at = None, text, clock.now_utc()
    else:
        db.session.add(PostReport(post_id=post.id, reporter_id=user.id, reason=text, created_at=clock.now_utc()))
    db.session.execute(update(DiscussionPost).where(DiscussionPost.id == post.id)
                       .values(reports=DiscussionPost.reports + 1))
    db.session.commit()
    return True


def _moderated(user: User, post_id: int) -> DiscussionPost:
    post = visible_post(user, post_id)
    if not may_moderate(user, post):
        raise Forbidden(_("只有课程讲师和管理员可以管理讨论帖。"), "not_moderator")
    return post


def _resolve_reports(post: DiscussionPost, now: datetime) -> None:
    db.session.execute(update(PostReport).where(PostReport.post_id == post.id, PostReport.resolved_at.is_(None))
                       .values(resolved_at=now))
    post.reports = 0


def set_hidden(user: User, post_id: int, hidden: bool) -> DiscussionPost:
    """Hide or unhide a post (its reports are settled by hiding); audited."""
    post = _moderated(user, post_id)
    now = clock.now_utc()
    if hidden and post.hidden_at is None:
        post.hidden_at, post.hidden_by_id = now, user.id
        _resolve_reports(post, now)
        audit.record(user, "community.post_hidden", post, after={"lesson_id": post.lesson_id})
    elif not hidden and post.hidden_at is not None:
        post.hidden_at, post.hidden_by_id = None, None
        audit.record(user, "community.post_unhidden", post, after={"lesson_id": post.lesson_id})
    db.session.commit()
    return post


def dismiss_reports(user: User, post_id: int) -> DiscussionPost:
    """The post stays as it is; its open reports are settled (audited)."""
    post = _moderated(user, post_id)
    _resolve_reports(post, clock.now_utc())
    audit.record(user, "community.reports_dismissed", post, after={"lesson_id": post.lesson_id})
    db.session.commit()
    return post


# --- reading -----------------------------------------------------------------------------------------------

@dataclass
class PostView:
    """A post as ``viewer`` sees it: ``body`` is None when it is hidden from them."""

    id: int
    kind: str
    author: str
    body: str | None
    created_at: str
    hidden: bool
    may_moderate: bool
    mine: bool
    answered: bool = False
    lesson_id: int = 0
    children: list[PostView] = field(default_factory=list)


def _view(viewer: User, post: DiscussionPost, moderator: bool) -> PostView:
    shown = post.hidden_at is None or moderator or post.author_id == viewer.id
    return PostView(id=post.id, kind=post.kind, author=post.author.name, body=post.body if shown else None,
                    created_at=clock.to_site(post.created_at).strftime("%Y-%m-%d %H:%M"),
                    hidden=post.hidden_at is not None, may_moderate=moderator, mine=post.author_id == viewer.id,
                    answered=post.answered_at is not None, lesson_id=post.lesson_id)


def threads(viewer: User, lesson_id: int) -> list[PostView]:
    """The questions under a lesson ``viewer`` may see, newest first, each with its answers and replies in
    order (two queries)."""
    lesson = _lesson(viewer, lesson_id)
    questions = list(db.session.execute(select(DiscussionPost).where(
        DiscussionPost.lesson_id == lesson.id, DiscussionPost.parent_id.is_(None))
        .order_by(DiscussionPost.created_at.desc(), DiscussionPost.id.desc())).scalars())
    if not questions:
        return []
    children = list(db.session.execute(select(DiscussionPost).where(
        DiscussionPost.parent_id.in_([q.id for q in questions]))
        .order_by(DiscussionPost.created_at, DiscussionPost.id)).scalars())
    lecturer = is_course_lecturer(viewer, lesson) or viewer.role == Role.SITE_ADMIN
    out = {q.id: _view(viewer, q, lecturer or may_moderate(viewer, q)) for q in questions}
    for c in children:
        out[c.parent_id or 0].children.append(_view(viewer, c, lecturer or may_moderate(viewer, c)))
    return list(out.values())


def waiting_questions(course: Course) -> int:
    """Questions on ``course``'s lessons waiting for the lecturer's answer (not hidden)."""
    return db.session.execute(select(func.count(DiscussionPost.id)).join(Lesson, Lesson.id == DiscussionPost.lesson_id)
                              .where(Lesson.course_id == course.id, DiscussionPost.parent_id.is_(None),
                                     DiscussionPost.answered_at.is_(None),
                                     DiscussionPost.hidden_at.is_(None))).scalar_one()


@dataclass(frozen=True)
class QueueRow:
    post: PostView
    lesson_title: str
    course_title: str
    reasons: list[str]
    count: int


def moderation_queue(user: User) -> list[QueueRow]:
    """Reported posts ``user`` moderates, most reported first: a site admin's all, a lecturer's on their
    courses, an org admin's by authors in their subtree."""
    stmt = (select(DiscussionPost).join(Lesson, Lesson.id == DiscussionPost.lesson_id)
            .join(Course, Course.id == Lesson.course_id).where(DiscussionPost.reports > 0))
    if user.role != Role.SITE_ADMIN:
        places = [Course.lecturer_id == user.id]
        if user.role == Role.ORG_ADMIN:
            authors = select(User.id).join(Organisation, Organisation.id == User.organisation_id).where(
                Organisation.path.startswith(user.organisation.path))
            places.append(DiscussionPost.author_id.in_(authors))
        stmt = stmt.where(or_(*places))
    posts = list(db.session.execute(stmt.order_by(DiscussionPost.reports.desc(), DiscussionPost.id)
                                    .limit(COMMUNITY.page_size)).scalars())
    reasons: dict[int, list[str]] = {}
    if posts:
        for pid, reason in db.session.execute(select(PostReport.post_id, PostReport.reason).where(
                PostReport.post_id.in_([p.id for p in posts]), PostReport.resolved_at.is_(None))):
            if reason:
                reasons.setdefault(pid, []).append(reason)
    return [QueueRow(_view(user, p, True), p.lesson.title, p.lesson.course.title, reasons.get(p.id, []), p.reports)
            for p in posts]


def course_questions(user: User, course: Course) -> list[tuple[Lesson, PostView]]:
    """For the course's lecturer (and site admins): its questions still waiting for an answer, oldest first."""
    if not (user.role == Role.SITE_ADMIN or course.lecturer_id == user.id):
        raise NotFound(_("课程不存在。"))
    rows = db.session.execute(
        select(DiscussionPost, Lesson).join(Lesson, Lesson.id == DiscussionPost.lesson_id)
        .where(Lesson.course_id == course.id, DiscussionPost.parent_id.is_(None),
               DiscussionPost.answered_at.is_(None), DiscussionPost.hidden_at.is_(None))
        .order_by(DiscussionPost.created_at, DiscussionPost.id).limit(COMMUNITY.page_size)).all()
    return [(lesson, _view(user, post, True)) for post, lesson in rows]
