"""A course's learner statistics for its lecturer (the studio's 学习情况 page): learners who started and who
completed it, their average coverage, the quiz pass rate and the questions waiting for an answer.

Every figure is one aggregate query whatever the number of learners (no loop over members):

- a *learner* is anyone other than the course's lecturer with watched time on one of its playable lessons
  (a lesson with a ready video); *started* counts them;
- *completed*: learners who completed every playable lesson (what credits a declared-hours course);
- *coverage* of a learner: the watched share of the course's playable minutes (each lesson's watched time
  capped at its length), averaged over the learners who started;
- *quiz pass rate*: of the members with a submitted attempt at one of the course's quizzes, the share who passed
  one; per quiz likewise;
- questions waiting: :func:`elearn.community.discussion.waiting_questions`.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, distinct, func, select

from elearn.community import discussion
from elearn.courses.models import Course, Lesson
from elearn.extensions import db
from elearn.media.models import MediaAsset
from elearn.quiz.models import Quiz, QuizAttempt
from elearn.study.models import WatchProgress


@dataclass(frozen=True)
class QuizFigures:
    quiz_id: int
    title: str
    published: bool
    attempted: int  # members with a submitted attempt
    passed: int  # members who passed

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.attempted if self.attempted else None


@dataclass(frozen=True)
class CourseLearnerStats:
    playable_lessons: int
    started: int
    completed: int
    average_coverage: float | None  # 0..1 over the learners who started; None when nobody has
    quiz_attempted: int  # members with a submitted attempt at any quiz of the course
    quiz_passed: int  # members who passed at least one
    quizzes: list[QuizFigures]
    waiting_questions: int

    @property
    def quiz_pass_rate(self) -> float | None:
        return self.quiz_passed / self.quiz_attempted if self.quiz_attempted else None


def _playable(course: Course):
    """The course's lessons with a ready video, with their lengths in seconds."""
    return (select(Lesson.id.label("lesson_id"), MediaAsset.duration_s.label("duration_s"))
            .join(MediaAsset, MediaAsset.id == Lesson.asset_id)
            .where(Lesson.course_id == course.id, MediaAsset.status == "ready", MediaAsset.duration_s > 0)
            .subquery("playable"))


def course_learner_stats(course: Course) -> CourseLearnerStats:
    """The figures of ``course`` (see the module's docstring); five queries."""
    playable = _playable(course)
    lessons, total_s = db.session.execute(
        select(func.count(playable.c.lesson_id), func.coalesce(func.sum(playable.c.duration_s), 0.0))).one()
    capped = case((WatchProgress.watched_s > playable.c.duration_s, playable.c.duration_s),
                  else_=WatchProgress.watched_s)
    per_learner = (select(WatchProgress.user_id,
                          func.sum(capped).label("watched_s"),
                          func.count(WatchProgress.completed_at).label("completed_lessons"))
                   .join(playable, playable.c.lesson_id == WatchProgress.lesson_id)
                   .where(WatchProgress.watched_s > 0, WatchProgress.user_id != course.lecturer_id)
                   .group_by(WatchProgress.user_id)).subquery("per_learner")
    started, completed, watched = db.session.execute(select(
        func.count(per_learner.c.user_id),
        func.coalesce(func.sum(case((per_learner.c.completed_lessons >= lessons, 1), else_=0)), 0),
        func.coalesce(func.sum(per_learner.c.watched_s), 0.0))).one()
    average = (float(watched) / float(total_s) / started) if started and total_s else None

    attempts = (select(QuizAttempt.quiz_id, QuizAttempt.user_id, QuizAttempt.passed)
                .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
                .where(Quiz.course_id == course.id, QuizAttempt.submitted_at.is_not(None),
                       QuizAttempt.user_id != course.lecturer_id)).subquery("attempts")
    passed_user = case((attempts.c.passed.is_(True), attempts.c.user_id), else_=None)
    rows = db.session.execute(
        select(Quiz.id, Quiz.title, Quiz.published, func.count(distinct(attempts.c.user_id)),
               func.count(distinct(passed_user)))
        .outerjoin(attempts, attempts.c.quiz_id == Quiz.id).where(Quiz.course_id == course.id)
        .group_by(Quiz.id, Quiz.title, Quiz.published).order_by(Quiz.id)).all()
    attempted_all, passed_all = db.session.execute(
        select(func.count(distinct(attempts.c.user_id)), func.count(distinct(passed_user)))).one()
    return CourseLearnerStats(
        playable_lessons=int(lessons), started=int(started), completed=int(completed) if lessons else 0,
        average_coverage=average, quiz_attempted=int(attempted_all), quiz_passed=int(passed_all),
        quizzes=[QuizFigures(quiz_id=i, title=t, published=p, attempted=int(a), passed=int(n))
                 for i, t, p, a, n in rows],
        waiting_questions=discussion.waiting_questions(course))
