"""Quiz pages: lecturers keep a course's question bank and quizzes; members take quizzes and see results."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from elearn.access import Role
from elearn.courses import catalog
from elearn.courses.models import Course
from elearn.courses.services import STUDIO_ROLES
from elearn.errors import NotFound, ServiceError
from elearn.extensions import db
from elearn.http.errors import status_for
from elearn.http.forms import Form
from elearn.policy import POLICY, QUESTION_BANK, QUESTION_KINDS, QUIZ_ANSWERS_SHOWN
from elearn.quiz import question_import
from elearn.quiz import services as quizzes
from elearn.quiz.models import Question, Quiz

bp = Blueprint("quiz", __name__, url_prefix="/quiz")

# Navigation entries: (endpoint, label, roles or None for everyone signed in).
NAV: list = [("quiz.index", _l("测验"), None)]


class QuestionForm(Form):
    """A question: its options typed one to a box and the correct ones ticked (``q-correct``: the ticked
    boxes' positions; ``q-truth`` for a true/false question), never typed as numbers. The option boxes and
    ticks are read from the request by position and checked by the quiz service."""

    kind = SelectField(_l("题型"))
    text = TextAreaField(_l("题目"), validators=[DataRequired(_l("请填写题目。")),
                                                 Length(max=QUESTION_BANK.text_max_chars)])
    # The option boxes are plain inputs ``q-options-0`` … ``q-options-7`` read by position (:func:`_option_rows`):
    # a blank box in between must keep the boxes after it in place, as their ticks refer to them.
    explanation = TextAreaField(_l("解析（作答后显示）"),
                                validators=[Optional(), Length(max=QUESTION_BANK.explanation_max_chars)])
    submit = SubmitField(_l("添加题目"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k, str(v)) for k, v in QUESTION_KINDS.items()]


class QuizForm(Form):
    title = StringField(_l("测验名称"), validators=[DataRequired(_l("请填写测验名称。")), Length(max=200)])
    question_count = IntegerField(_l("抽题数量"), default=10,
                                  validators=[DataRequired(_l("请填写抽题数量。")), NumberRange(1, 200)])
    pass_percent = IntegerField(_l("及格分（百分制）"), default=POLICY.quiz_default_pass_percent,
                                validators=[DataRequired(_l("请填写及格分。")), NumberRange(1, 100)])
    max_attempts = IntegerField(_l("最多作答次数"), default=POLICY.quiz_default_attempts,
                                validators=[DataRequired(_l("请填写作答次数。")), NumberRange(1, 100)])
    time_limit_minutes = IntegerField(_l("限时（分钟，可留空）"), validators=[Optional(), NumberRange(1, 600)])
    hours = DecimalField(_l("通过后计入学时"), default=POLICY.quiz_default_hours, places=2,
                         validators=[Optional(), NumberRange(0, 8)])
    show_answers = SelectField(_l("何时显示正确答案"), default="final")
    published = BooleanField(_l("发布（学员可见）"))
    submit = SubmitField(_l("保存测验"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.show_answers.choices = [(k, str(v)) for k, v in QUIZ_ANSWERS_SHOWN.items()]


def _course_for_bank(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or not quizzes.can_edit_bank(current_user, course):
        abort(404)
    return course


def _ticked(name: str) -> list[int]:
    """The positions ticked in the form's ``name`` boxes."""
    try:
        ticked = sorted({int(v) for v in request.form.getlist(name)})
    except ValueError:
        raise ServiceError(_("正确答案须为有效的选项。"), "bad_correct") from None
    if any(not 0 <= t < quizzes.MAX_OPTIONS for t in ticked):
        raise ServiceError(_("正确答案须为有效的选项。"), "bad_correct")
    return ticked


def _option_rows() -> list[str]:
    """The option boxes as submitted, by position (a blank box stays in its place)."""
    return [request.form.get(f"q-options-{i}", "") for i in range(quizzes.MAX_OPTIONS)]


def _question_fields(form: QuestionForm) -> dict:
    """A question's fields as the quiz service takes them (raises ServiceError for a bad tick or option)."""
    kind = form.kind.data
    options, correct = quizzes.ticked_options(kind, _option_rows(),
                                              _ticked("q-truth" if kind == "truefalse" else "q-correct"))
    return {"kind": kind, "text": form.text.data, "options": options, "correct": correct,
            "explanation": form.explanation.data}


def _form_ticks() -> dict:
    """The boxes ticked in the submitted form, to show them ticked again when the form comes back with errors."""
    return {"correct": set(request.form.getlist("q-correct")), "truth": set(request.form.getlist("q-truth")),
            "options": _option_rows()}


@bp.route("/")
@login_required
def index():
    """Members: the published quizzes of courses they may open. Lecturers: their courses' banks."""
    own = []
    if current_user.role in (Role.LECTURER, Role.SITE_ADMIN):
        stmt = select(Course).order_by(Course.title)
        if current_user.role == Role.LECTURER:
            stmt = stmt.where(Course.lecturer_id == current_user.id)
        own = list(db.session.execute(stmt.limit(200)).scalars())
    ids = catalog.visible_course_ids(current_user)
    available = []
    if ids:
        rows = db.session.execute(select(Quiz, Course).join(Course, Course.id == Quiz.course_id).where(
            Quiz.published.is_(True), Quiz.course_id.in_(ids)).order_by(Course.title, Quiz.id).limit(200)).all()
        available = [{"quiz": q, "course": c} for q, c in rows]
    return render_template("quiz/index.html", own=own, available=available)


@bp.route("/course/<int:course_id>/bank", methods=["GET", "POST"])
@login_required
def course_bank(course_id: int):
    """The question bank and quizzes of a course, with forms to add a question and a quiz."""
    course = _course_for_bank(course_id)
    form = QuestionForm(prefix="q")
    quiz_form = QuizForm(prefix="z")
    status = 200
    answer_errors: list[str] = []
    if request.method == "POST" and form.submit.data:
        if form.validate():
            try:
                quizzes.add_question(current_user, course, **_question_fields(form))
            except ServiceError as exc:
                answer_errors.append(exc.message)
                status = 400
            else:
                flash(_("已添加题目。"), "success")
                return redirect(url_for("quiz.course_bank", course_id=course.id))
        else:
            status = 400
    elif request.method == "POST" and quiz_form.submit.data:
        if quiz_form.validate():
            try:
                quizzes.save_quiz(current_user, course, title=quiz_form.title.data,
                                  question_count=quiz_form.question_count.data,
                                  pass_percent=quiz_form.pass_percent.data, max_attempts=quiz_form.max_attempts.data,
                                  time_limit_minutes=quiz_form.time_limit_minutes.data,
                                  hours=float(quiz_form.hours.data or 0), published=quiz_form.published.data,
                                  show_answers=quiz_form.show_answers.data)
            except ServiceError as exc:
                quiz_form.title.errors.append(exc.message)
                status = 400
            else:
                flash(_("已保存测验。"), "success")
                return redirect(url_for("quiz.course_bank", course_id=course.id))
        else:
            status = 400
    return render_template("quiz/bank.html", course=course, questions=quizzes.bank(course), form=form,
                           option_texts=quizzes.option_texts, answer_errors=answer_errors, ticks=_form_ticks(),
                           letters=quizzes.OPTION_LETTERS, studio=current_user.role in STUDIO_ROLES,
                           quiz_form=quiz_form, quizzes=quizzes.quizzes_of(course, published_only=False)), status


class QuestionImportForm(Form):
    file = FileField(_l("Excel（.xlsx）文件"), validators=[FileRequired(_l("请选择文件。"))],
                     render_kw={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})


@bp.route("/course/<int:course_id>/import", methods=["GET", "POST"])
@login_required
def import_questions(course_id: int):
    """Upload the XLSX template filled with questions: every row is added to the bank, or none, with a report
    of the refused rows by row number."""
    course = _course_for_bank(course_id)
    form = QuestionImportForm()
    result, status, error = None, 200, None
    if form.validate_on_submit():
        data = form.file.data.read(QUESTION_BANK.import_max_bytes + 1)
        try:
            result = question_import.import_questions(current_user, course, data)
        except ServiceError as exc:
            db.session.rollback()
            error, status = exc.message, status_for(exc)
        else:
            if result.ok:
                flash(_("已导入 %(n)d 道题目。", n=result.imported), "success")
                return redirect(url_for("quiz.course_bank", course_id=course.id))
            status = 422
    elif request.method == "POST":
        status = 400
    return render_template("quiz/import.html", course=course, form=form, result=result, error=error,
                           max_rows=QUESTION_BANK.import_max_rows,
                           max_kb=QUESTION_BANK.import_max_bytes // 1024), status


@bp.route("/course/<int:course_id>/import/template.xlsx")
@login_required
def import_template(course_id: int):
    """The question import template (headings, and a sheet of how to fill them in with examples)."""
    _course_for_bank(course_id)
    return Response(question_import.template_xlsx(str(get_locale() or "zh")[:2]),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=questions-template.xlsx"})


@bp.post("/question/<int:question_id>/retire")
@login_required
def retire(question_id: int):
    """Take a question out of the bank."""
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    _course_for_bank(question.course_id)
    quizzes.retire_question(current_user, question)
    flash(_("已移出题库。"), "success")
    return redirect(url_for("quiz.course_bank", course_id=question.course_id))


@bp.route("/question/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
def edit_question(question_id: int):
    """Change a question: its old version is retired (past attempts keep it) and the new one replaces it."""
    question = db.session.get(Question, question_id)
    if question is None or not question.active:
        abort(404)
    course = _course_for_bank(question.course_id)
    form = QuestionForm(prefix="q")
    form.submit.label.text = _("保存修改")
    ticks = _form_ticks()
    if request.method == "GET":
        form.kind.data, form.text.data, form.explanation.data = question.kind, question.text, question.explanation
        options = [] if question.kind == "truefalse" else list(question.options)
        ticks = {"correct" if question.kind != "truefalse" else "truth": {str(i) for i in question.correct},
                 "options": options + [""] * (quizzes.MAX_OPTIONS - len(options))}
    status = 200
    answer_errors: list[str] = []
    if request.method == "POST":
        if form.validate():
            try:
                quizzes.revise_question(current_user, question, **_question_fields(form))
            except ServiceError as exc:
                db.session.rollback()
                answer_errors.append(exc.message)
                status = 400
            else:
                flash(_("已修改题目。"), "success")
                return redirect(url_for("quiz.course_bank", course_id=course.id))
        else:
            status = 400
    return render_template("quiz/question_edit.html", course=course, form=form, question=question,
                           answer_errors=answer_errors, ticks=ticks, letters=quizzes.OPTION_LETTERS), status


@bp.route("/<int:quiz_id>")
@login_required
def overview(quiz_id: int):
    """A quiz's rules and the member's past attempts, with a button to start."""
    try:
        quiz = quizzes.get_quiz_for(current_user, quiz_id)
    except NotFound:
        abort(404)
    attempts = quizzes.attempts_of(current_user, quiz)
    return render_template("quiz/overview.html", quiz=quiz, course=db.session.get(Course, quiz.course_id),
                           attempts=attempts, left=max(0, quiz.max_attempts - len(attempts)),
                           passed=any(a.passed for a in attempts))


@bp.post("/<int:quiz_id>/start")
@login_required
def start(quiz_id: int):
    """Start (or resume) an attempt."""
    try:
        quiz = quizzes.get_quiz_for(current_user, quiz_id)
    except NotFound:
        abort(404)
    try:
        attempt = quizzes.start_attempt(current_user, quiz)
    except ServiceError as exc:
        if isinstance(exc, NotFound):
            abort(404)
        flash(exc.message, "error")
        return redirect(url_for("quiz.overview", quiz_id=quiz.id))
    return redirect(url_for("quiz.take", attempt_id=attempt.id))


@bp.route("/attempt/<int:attempt_id>", methods=["GET", "POST"])
@login_required
def take(attempt_id: int):
    """Answer the drawn questions; graded on the server when submitted."""
    try:
        attempt = quizzes.get_attempt_for(current_user, attempt_id)
    except NotFound:
        abort(404)
    if attempt.submitted_at is not None:
        return redirect(url_for("quiz.result", attempt_id=attempt.id))
    shown = quizzes.attempt_questions(attempt)
    chosen: dict[int, list[int]] = {}
    blank: list[int] = []
    if request.method == "POST":
        try:
            for q in shown:
                chosen[q.id] = [int(v) for v in request.form.getlist(f"q{q.id}")]
        except ValueError:
            flash(_("答案无效。"), "error")
        else:
            blank = [q.number for q in shown if not chosen[q.id]]
            if blank and request.form.get("confirm_blank") != "1":
                # Unanswered questions: ask first, keeping what was chosen (a blank answer scores nothing).
                return render_template("quiz/take.html", attempt=attempt, quiz=attempt.quiz, questions=shown,
                                       remaining=quizzes.remaining_seconds(attempt), chosen=chosen,
                                       blank=blank), 200
            try:
                quizzes.submit(current_user, attempt, chosen)
            except ServiceError as exc:
                flash(exc.message, "error")
            else:
                return redirect(url_for("quiz.result", attempt_id=attempt.id))
    return render_template("quiz/take.html", attempt=attempt, quiz=attempt.quiz, questions=shown,
                           remaining=quizzes.remaining_seconds(attempt), chosen=chosen, blank=[])


@bp.route("/attempt/<int:attempt_id>/result")
@login_required
def result(attempt_id: int):
    """Score, pass or fail, and what was right and wrong."""
    try:
        attempt = quizzes.get_attempt_for(current_user, attempt_id)
    except NotFound:
        abort(404)
    if attempt.submitted_at is None:
        return redirect(url_for("quiz.take", attempt_id=attempt.id))
    return render_template("quiz/result.html", attempt=attempt, quiz=attempt.quiz,
                           review=quizzes.attempt_result(attempt), shown=quizzes.answers_shown(attempt))
