"""Quizzes: a question bank per course, quizzes drawing N questions at random with shuffled options,
server-side grading, pass mark, attempt limit and optional time limit. A pass is credited in the ledger.

Correct answers never leave the server before an attempt is submitted: :func:`attempt_questions` returns
only texts and options in the drawn order; :func:`attempt_result` reveals them once the attempt is closed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from elearn import clock
from elearn.access import Role
from elearn.audit import services as audit
from elearn.courses import catalog
from elearn.courses.models import Course
from elearn.errors import Conflict, Forbidden, NotFound, ServiceError
from elearn.extensions import db, existing, rowcount
from elearn.ledger import services as ledger
from elearn.notify import services as notify
from elearn.orgs.models import User
from elearn.policy import POLICY, QUESTION_BANK, QUESTION_KINDS, QUIZ_ANSWERS_SHOWN
from elearn.quiz.models import Question, Quiz, QuizAttempt
from elearn.xapi import services as xapi

TRUE_FALSE = ("正确", "错误")  # stored for true/false questions; shown in the reader's language (option_texts)
MAX_OPTIONS = 8
OPTION_LETTERS = "ABCDEFGH"  # the options' names on the question form and in the import template


def option_texts(q: Question) -> list[str]:
    """The options as shown: a true/false question's two options in the reader's language."""
    if q.kind == "truefalse":
        return [pgettext("true/false option", "正确"), pgettext("true/false option", "错误")]
    return list(q.options)


# ---------------------------------------------------------------- the bank (lecturers)

def can_edit_bank(user: User, course: Course) -> bool:
    """The course's lecturer and site admins maintain its question bank and quizzes."""
    return user.is_authenticated and (user.role == Role.SITE_ADMIN
                                      or (user.role == Role.LECTURER and course.lecturer_id == user.id))


def require_bank(user: User, course: Course) -> None:
    if not can_edit_bank(user, course):
        raise NotFound(_("课程不存在。"))


def ticked_options(kind: str, rows: list[str], ticked: list[int]) -> tuple[list[str], list[int]]:
    """A question's options and correct indexes from a form of option rows (blank rows allowed anywhere, left
    out) and the rows ticked as correct. A true/false question's rows are its two fixed options.

    Raises:
        ServiceError: a ticked row is blank (``bad_correct``).
    """
    if kind == "truefalse":
        return list(TRUE_FALSE), sorted(set(ticked))
    options: list[str] = []
    correct: list[int] = []
    for position, text in enumerate(rows):
        text = (text or "").strip()
        if not text:
            if position in ticked:
                raise ServiceError(_("选项%(l)s勾选为正确答案，但没有填写内容。", l=OPTION_LETTERS[position]),
                                   "bad_correct")
            continue
        if position in ticked:
            correct.append(len(options))
        options.append(text)
    if any(not 0 <= position < len(rows) for position in ticked):
        raise ServiceError(_("正确答案须为有效的选项。"), "bad_correct")
    return options, correct


def check_question(kind: str, text: str, options: list[str], correct: list[int],
                    explanation: str = "") -> tuple[list[str], list[int]]:
    if kind not in QUESTION_KINDS:
        raise ServiceError(_("未知的题型。"), "bad_kind")
    if not (text or "").strip():
        raise ServiceError(_("请填写题目。"), "text_required")
    if len(text) > QUESTION_BANK.text_max_chars:
        raise ServiceError(_("题目不能超过 %(n)d 个字。", n=QUESTION_BANK.text_max_chars), "text_too_long")
    if len(explanation or "") > QUESTION_BANK.explanation_max_chars:
        raise ServiceError(_("解析不能超过 %(n)d 个字。", n=QUESTION_BANK.explanation_max_chars),
                           "explanation_too_long")
    if kind == "truefalse":
        options = list(TRUE_FALSE)
    options = [o.strip() for o in options if o and o.strip()]
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise ServiceError(_("选项须为 2–%(n)d 个。", n=MAX_OPTIONS), "bad_options")
    if any(len(o) > QUESTION_BANK.option_max_chars for o in options):
        raise ServiceError(_("每个选项不能超过 %(n)d 个字。", n=QUESTION_BANK.option_max_chars), "bad_options")
    if len(set(options)) != len(options):
        raise ServiceError(_("选项不能重复。"), "bad_options")
    correct = sorted(set(correct))
    if not correct:
        raise ServiceError(_("请勾选正确答案。"), "bad_correct")
    if any(not 0 <= i < len(options) for i in correct):
        raise ServiceError(_("正确答案须为有效的选项。"), "bad_correct")
    if kind in ("single", "truefalse") and len(correct) != 1:
        raise ServiceError(_("单选题和判断题只能有一个正确答案。"), "bad_correct")
    return options, correct


def add_question(actor: User, course: Course, *, kind: str, text: str, options: list[str], correct: list[int],
                 explanation: str = "") -> Question:
    require_bank(actor, course)
    options, correct = check_question(kind, text, options, correct, explanation)
    q = Question(course_id=course.id, kind=kind, text=text.strip(), options=options, correct=correct,
                 explanation=(explanation or "").strip(), active=True)
    db.session.add(q)
    db.session.flush()
    audit.record(actor, "quiz.question.add", q, after={"course_id": course.id, "kind": kind})
    db.session.commit()
    return q


def revise_question(actor: User, question: Question, *, kind: str, text: str, options: list[str],
                    correct: list[int], explanation: str = "") -> Question:
    """Change a question of the bank: the old version is retired and a new one takes its place, so attempts
    that drew the old one keep showing what their members answered. Returns the new version."""
    course = existing(Course, question.course_id)
    require_bank(actor, course)
    options, correct = check_question(kind, text, options, correct, explanation)
    before = {"kind": question.kind, "text": question.text, "options": question.options,
              "correct": question.correct, "explanation": question.explanation}
    # Retired only if still active, in one statement: a second save of the same form (a double click) finds
    # nothing to retire and adds nothing.
    retired = rowcount(db.session.execute(
        update(Question).where(Question.id == question.id, Question.active.is_(True))
        .values(active=False).execution_options(synchronize_session=False)))
    if retired != 1:
        db.session.rollback()
        raise Conflict(_("该题已移出题库，不能修改。"), "retired")
    new = Question(course_id=course.id, kind=kind, text=text.strip(), options=options, correct=correct,
                   explanation=(explanation or "").strip(), active=True)
    db.session.add(new)
    db.session.flush()
    audit.record(actor, "quiz.question.revise", new, before=dict(before, id=question.id), after={
        "kind": new.kind, "text": new.text, "options": new.options, "correct": new.correct,
        "explanation": new.explanation})
    db.session.commit()
    return new


def retire_question(actor: User, question: Question) -> None:
    """Take a question out of the bank (past attempts keep it)."""
    require_bank(actor, existing(Course, question.course_id))
    question.active = False
    audit.record(actor, "quiz.question.retire", question)
    db.session.commit()


def bank(course: Course) -> list[Question]:
    return list(db.session.execute(select(Question).where(
        Question.course_id == course.id, Question.active.is_(True)).order_by(Question.id)).scalars())


def save_quiz(actor: User, course: Course, quiz: Quiz | None = None, *, title: str, question_count: int,
              pass_percent: int, max_attempts: int, time_limit_minutes: int | None, hours: float,
              published: bool, show_answers: str = "final") -> Quiz:
    """Create or change a quiz of ``course``. Publishing needs enough active questions in the bank."""
    require_bank(actor, course)
    if quiz is not None and quiz.course_id != course.id:
        raise NotFound(_("测验不存在。"))
    if not (title or "").strip():
        raise ServiceError(_("请填写测验名称。"), "title_required")
    if not 1 <= question_count <= 200:
        raise ServiceError(_("题目数量须为 1–200。"), "bad_count")
    if not 1 <= pass_percent <= 100:
        raise ServiceError(_("及格分须为 1–100。"), "bad_pass")
    if not 1 <= max_attempts <= 100:
        raise ServiceError(_("作答次数须为 1–100。"), "bad_attempts")
    if time_limit_minutes is not None and not 1 <= time_limit_minutes <= 600:
        raise ServiceError(_("限时须为 1–600 分钟。"), "bad_time")
    if not 0 <= hours <= 8:
        raise ServiceError(_("学时须为 0–8。"), "bad_hours")
    if show_answers not in QUIZ_ANSWERS_SHOWN:
        raise ServiceError(_("请选择何时显示正确答案。"), "bad_show_answers")
    if published and len(bank(course)) < question_count:
        raise ServiceError(_("题库中有效题目不足 %(n)d 道，不能发布。", n=question_count), "bank_too_small")
    quiz = quiz or Quiz(course_id=course.id)
    quiz.title, quiz.question_count, quiz.pass_percent = title.strip(), question_count, pass_percent
    quiz.max_attempts, quiz.hours, quiz.published = max_attempts, round(hours, 2), published
    quiz.time_limit_s = time_limit_minutes * 60 if time_limit_minutes else None
    quiz.show_answers = show_answers
    db.session.add(quiz)
    db.session.flush()
    audit.record(actor, "quiz.save", quiz, after={"title": quiz.title, "published": published})
    db.session.commit()
    return quiz


def quizzes_of(course: Course, published_only: bool = True) -> list[Quiz]:
    stmt = select(Quiz).where(Quiz.course_id == course.id).order_by(Quiz.id)
    if published_only:
        stmt = stmt.where(Quiz.published.is_(True))
    return list(db.session.execute(stmt).scalars())


# ---------------------------------------------------------------- members

def get_quiz_for(user: User, quiz_id: int) -> Quiz:
    """A quiz the user may take (published, course visible) or edit; NotFound otherwise."""
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None:
        raise NotFound(_("测验不存在。"))
    course = existing(Course, quiz.course_id)
    if can_edit_bank(user, course):
        return quiz
    if not quiz.published or not catalog.can_view_course(user, course):
        raise NotFound(_("测验不存在。"))
    return quiz


def attempts_of(user: User, quiz: Quiz) -> list[QuizAttempt]:
    return list(db.session.execute(select(QuizAttempt).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user.id).order_by(QuizAttempt.number)).scalars())


def _close_if_expired(attempt: QuizAttempt, now: datetime) -> bool:
    if attempt.submitted_at is None and attempt.deadline is not None \
            and now > attempt.deadline + timedelta(seconds=POLICY.quiz_time_grace_s):
        attempt.submitted_at = now
        attempt.expired = True
        attempt.score_percent = 0.0
        attempt.passed = False
        attempt.answers = {}
        xapi.quiz_graded(existing(User, attempt.user_id), attempt.quiz, attempt)  # failed, as expired
        return True
    return False


def start_attempt(user: User, quiz: Quiz, *, rng: random.Random | None = None,
                  now: datetime | None = None) -> QuizAttempt:
    """The member's open attempt, or a new one with N questions drawn at random and options shuffled."""
    now = now or clock.now_utc()
    rng = rng or random.SystemRandom()
    quiz = get_quiz_for(user, quiz.id)
    if not quiz.published:
        raise Conflict(_("测验尚未发布。"), "not_published")
    past = attempts_of(user, quiz)
    for a in past:
        if _close_if_expired(a, now):
            db.session.commit()
    open_ = [a for a in past if a.submitted_at is None]
    if open_:
        return open_[0]
    if any(a.passed for a in past):
        raise Conflict(_("您已通过该测验。"), "already_passed")
    if len(past) >= quiz.max_attempts:
        raise Conflict(_("作答次数已用完。"), "no_attempts_left")
    questions = bank(existing(Course, quiz.course_id))
    if len(questions) < quiz.question_count:
        raise Conflict(_("题库题目不足，请联系讲师。"), "bank_too_small")
    drawn = []
    for q in rng.sample(questions, quiz.question_count):
        order = list(range(len(q.options)))
        if q.kind != "truefalse":
            rng.shuffle(order)
        drawn.append({"q": q.id, "order": order})
    attempt = QuizAttempt(quiz_id=quiz.id, user_id=user.id, number=len(past) + 1, drawn=drawn, started_at=now,
                          deadline=now + timedelta(seconds=quiz.time_limit_s) if quiz.time_limit_s else None)
    db.session.add(attempt)
    try:
        db.session.commit()
    except IntegrityError:  # the same member started twice at once: use the one that won
        db.session.rollback()
        return next(a for a in attempts_of(user, quiz) if a.submitted_at is None)
    return attempt


def get_attempt_for(user: User, attempt_id: int) -> QuizAttempt:
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.user_id != user.id:
        raise NotFound(_("作答记录不存在。"))
    return attempt


@dataclass(frozen=True)
class ShownQuestion:
    """A question as the member sees it while answering: no answers."""

    id: int
    number: int
    kind: str
    text: str
    options: list[str]  # in the drawn order; answers refer to positions in this list


def _questions(attempt: QuizAttempt) -> dict[int, Question]:
    ids = [d["q"] for d in attempt.drawn]
    return {q.id: q for q in db.session.execute(select(Question).where(Question.id.in_(ids))).scalars()}


def attempt_questions(attempt: QuizAttempt) -> list[ShownQuestion]:
    qs = _questions(attempt)
    return [ShownQuestion(id=d["q"], number=i + 1, kind=qs[d["q"]].kind, text=qs[d["q"]].text,
                          options=[option_texts(qs[d["q"]])[k] for k in d["order"]])
            for i, d in enumerate(attempt.drawn)]


def submit(user: User, attempt: QuizAttempt, answers: dict[int, list[int]],
           now: datetime | None = None) -> QuizAttempt:
    """Grade ``answers`` (question id → chosen positions in the shown order). Late beyond the time limit (plus
    a short grace) counts as expired with no score. A pass credits the quiz's hours once."""
    now = now or clock.now_utc()
    if attempt.user_id != user.id:
        raise NotFound(_("作答记录不存在。"))
    if attempt.submitted_at is not None:
        raise Conflict(_("该次作答已提交。"), "already_submitted")
    quiz: Quiz = attempt.quiz
    if _close_if_expired(attempt, now):
        db.session.commit()
        return attempt
    # Claim the attempt: of parallel submissions of one attempt (a script trying several answer sets at once)
    # exactly one is graded; the others change nothing. Claim, grade and credit share one transaction.
    claimed = rowcount(db.session.execute(update(QuizAttempt).where(
        QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None)).values(submitted_at=now)))
    if claimed != 1:
        db.session.rollback()
        raise Conflict(_("该次作答已提交。"), "already_submitted")
    qs = _questions(attempt)
    stored: dict[str, list[int]] = {}
    right = 0
    for d in attempt.drawn:
        q = qs[d["q"]]
        chosen = answers.get(q.id, [])
        if any(not isinstance(p, int) or not 0 <= p < len(d["order"]) for p in chosen):
            db.session.rollback()  # the claim too: a malformed answer changes nothing
            raise ServiceError(_("答案无效。"), "bad_answer")
        if q.kind in ("single", "truefalse") and len(chosen) > 1:
            db.session.rollback()
            raise ServiceError(_("单选题和判断题只能选一个答案。"), "bad_answer")
        original = sorted({d["order"][p] for p in chosen})
        stored[str(q.id)] = original
        if original == sorted(q.correct):
            right += 1
    attempt.answers = stored
    attempt.submitted_at = now
    attempt.score_percent = round(100.0 * right / len(attempt.drawn), 1)
    attempt.passed = attempt.score_percent >= quiz.pass_percent
    if attempt.passed:
        course = existing(Course, quiz.course_id)
        ledger.credit(user, kind="quiz", source_kind="quiz", source_id=quiz.id, hours=quiz.hours,
                      title=f"{course.title} · {quiz.title}", category=course.category,
                      innovative_theory=course.innovative_theory, course_id=course.id, credited_on=clock.site_date(now))
    xapi.quiz_graded(user, quiz, attempt)
    notify.notify(user, "quiz_graded", _("测验已评分：%(t)s", t=quiz.title),
                  _("得分 %(s).1f 分，已通过。", s=attempt.score_percent) if attempt.passed
                  else _("得分 %(s).1f 分，未通过。", s=attempt.score_percent),
                  link=f"/quiz/attempt/{attempt.id}/result", dedupe_key=f"quiz.attempt:{attempt.id}", commit=False)
    db.session.commit()
    return attempt


@dataclass(frozen=True)
class ReviewedOption:
    text: str
    chosen: bool
    correct: bool | None  # None while the quiz keeps its answers to itself


@dataclass(frozen=True)
class ReviewedQuestion:
    number: int
    kind: str
    text: str
    options: list[ReviewedOption]
    right: bool | None  # None while the quiz keeps its answers to itself
    explanation: str


def _quiz_allows(quiz: Quiz, user_id: int) -> bool:
    """``quiz``'s own setting for the member: after each attempt; after a pass or the last attempt allowed
    ("final", the default); or never."""
    if quiz.show_answers == "never":
        return False
    if quiz.show_answers == "each":
        return True
    past = db.session.execute(select(QuizAttempt.passed, QuizAttempt.submitted_at).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user_id)).all()
    return any(passed for passed, _at in past) or (
        len(past) >= quiz.max_attempts and all(at is not None for _p, at in past))


def answers_shown(attempt: QuizAttempt) -> bool:
    """Whether the member may now see the correct answers of ``attempt``. Every quiz of a course draws from
    the course's one bank, so answers shown by one quiz would answer the others: they show only when every
    published quiz of the course allows it for this member (its own setting)."""
    if attempt.submitted_at is None:
        return False
    quiz: Quiz = attempt.quiz
    siblings = quizzes_of(existing(Course, quiz.course_id))
    return all(_quiz_allows(q, attempt.user_id) for q in {quiz, *siblings})


def attempt_result(attempt: QuizAttempt) -> list[ReviewedQuestion]:
    """The member's answers to a submitted attempt, and — when :func:`answers_shown` — what was right."""
    if attempt.submitted_at is None:
        raise Conflict(_("提交后才能查看结果。"), "not_submitted")
    reveal = answers_shown(attempt)
    qs = _questions(attempt)
    out = []
    for i, d in enumerate(attempt.drawn):
        q = qs[d["q"]]
        chosen = set((attempt.answers or {}).get(str(q.id), []))
        texts = option_texts(q)
        out.append(ReviewedQuestion(
            number=i + 1, kind=q.kind, text=q.text,
            options=[ReviewedOption(text=texts[k], chosen=k in chosen, correct=(k in q.correct) if reveal else None)
                     for k in d["order"]],
            right=(sorted(chosen) == sorted(q.correct)) if reveal else None,
            explanation=q.explanation if reveal else ""))
    return out


def remaining_seconds(attempt: QuizAttempt, now: datetime | None = None) -> int | None:
    if attempt.deadline is None:
        return None
    return max(0, int((attempt.deadline - (now or clock.now_utc())).total_seconds()))


def attempt_count(user: User, quiz: Quiz) -> int:
    return db.session.execute(select(func.count()).select_from(QuizAttempt).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user.id)).scalar_one()


__all__ = [
    "Forbidden",
    "add_question",
    "attempt_questions",
    "attempt_result",
    "bank",
    "get_attempt_for",
    "get_quiz_for",
    "quizzes_of",
    "remaining_seconds",
    "retire_question",
    "save_quiz",
    "start_attempt",
    "submit",
]
