"""Training-needs surveys (教育培训需求调研): an org admin builds a survey, publishes it to the members of
their subtree (by current membership, as every fan-out: elearn.notify.audience), and closes it; each member
answers once; the publisher and the admins above see the results and export them.

Every answer is checked here, whoever sends it (the page or the API): the question belongs to the survey,
option indices are in range, a single choice is one option, required questions are answered, a text is within
``SURVEY.text_answer_max_chars``, the survey is open today and the member in its audience. One response per
survey and member is a database constraint: a second or concurrent submission is refused and changes nothing.
"""
from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError

from elearn import clock
from elearn.audit import services as audit
from elearn.branch import survey_tasks
from elearn.branch.survey_models import QUESTION_KINDS, Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from elearn.errors import Conflict, NotFound, ServiceError
from elearn.extensions import ID_MAX, db
from elearn.notify import audience as audiences
from elearn.notify.audience import Message
from elearn.orgs import services as orgs
from elearn.orgs.models import Organisation, User
from elearn.policy import SURVEY
from elearn.spreadsheets import xlsx_row

SURVEY_FIELDS = ["organisation_id", "title", "intro", "status", "opens_on", "closes_on", "anonymous"]
# An answer as submitted: option indices for a choice question, text for a text question.
Answer = Sequence[int] | str


# -- reading ---------------------------------------------------------------------------------------------------

def is_open(survey: Survey, today: date | None = None) -> bool:
    """Open for answers today: published, not closed, not past its closing day."""
    day = today or clock.site_today()
    return survey.status == "open" and (survey.closes_on is None or day <= survey.closes_on)


def shown_status(survey: Survey) -> str:
    """draft, open or closed as the pages show it (an open survey past its closing day is closed)."""
    return "closed" if survey.status == "open" and not is_open(survey) else survey.status


def manage(actor: User, survey_id: int) -> Survey:
    """A survey of an organisation the actor manages (the publisher's admins and those above)."""
    survey = db.session.get(Survey, survey_id) if 0 < survey_id <= ID_MAX else None
    if survey is None or not orgs.can_manage(actor, survey.organisation):
        raise NotFound(_("调研不存在。"))
    return survey


def managed_surveys(actor: User) -> list[Survey]:
    """Surveys of the organisations the actor manages, newest first."""
    stmt = (select(Survey).join(Organisation, Organisation.id == Survey.organisation_id)
            .order_by(Survey.id.desc()))
    root = orgs.admin_root(actor)
    if root is not None:
        stmt = stmt.where(Organisation.path.startswith(root.path, autoescape=True))
    elif not orgs.managed_orgs(actor):
        return []
    return list(db.session.execute(stmt).scalars())


def audience_stmt(survey: Survey) -> Select:
    """User ids of the survey's audience: members belonging now to the publisher's subtree."""
    return audiences.members_where(audiences.in_subtree(survey.organisation))


def audience_size(survey: Survey) -> int:
    return db.session.execute(select(func.count()).select_from(audience_stmt(survey).subquery())).scalar_one()


def in_audience(user: User, survey: Survey) -> bool:
    return db.session.execute(audience_stmt(survey).where(User.id == user.id)).first() is not None


def _member_orgs(user: User) -> list[Organisation]:
    """The organisations ``user`` belongs to now (home and open inflow memberships)."""
    found = {user.organisation_id: user.organisation}
    for m in user.memberships:
        if m.ended_on is None:
            found.setdefault(m.organisation_id, m.organisation)
    return list(found.values())


def _above(orgs_: list[Organisation]) -> list[int]:
    """Ids of these organisations and every one above them (their paths hold their ancestors' ids)."""
    return sorted({int(p) for o in orgs_ for p in o.path.strip("/").split("/") if p})


def surveys_for_member(user: User) -> list[dict[str, Any]]:
    """Open surveys whose audience holds ``user``, each with whether they have answered, newest first."""
    if not getattr(user, "is_authenticated", False) or not user.active:
        return []
    today = clock.site_today()
    rows = db.session.execute(
        select(Survey).where(Survey.organisation_id.in_(_above(_member_orgs(user))), Survey.status == "open",
                             or_(Survey.closes_on.is_(None), Survey.closes_on >= today))
        .order_by(Survey.opens_on.desc(), Survey.id.desc())).scalars().all()
    answered = set(db.session.execute(select(SurveyResponse.survey_id).where(
        SurveyResponse.user_id == user.id, SurveyResponse.survey_id.in_([s.id for s in rows]))).scalars())
    return [{"survey": s, "answered": s.id in answered} for s in rows if in_audience(user, s)]


def for_member(user: User, survey_id: int) -> Survey:
    """A published survey whose audience holds ``user`` (others are not confirmed to exist)."""
    survey = db.session.get(Survey, survey_id) if 0 < survey_id <= ID_MAX else None
    if survey is None or survey.status == "draft" or not in_audience(user, survey):
        raise NotFound(_("调研不存在。"))
    return survey


def has_answered(user: User, survey: Survey) -> bool:
    return db.session.execute(select(SurveyResponse.id).where(
        SurveyResponse.survey_id == survey.id, SurveyResponse.user_id == user.id)).first() is not None


def citable(org: Organisation) -> list[Survey]:
    """Published surveys of ``org`` or an organisation above it: the ones a plan of ``org`` may cite."""
    return list(db.session.execute(select(Survey).where(
        Survey.organisation_id.in_(_above([org])), Survey.status != "draft")
        .order_by(Survey.opens_on.desc(), Survey.id.desc())).scalars())


# -- building (drafts only) ------------------------------------------------------------------------------------

def _text(value: str | None, limit: int, required_message: str | None, code: str) -> str:
    text = (value or "").strip()
    if required_message and not text:
        raise ServiceError(required_message, code)
    if len(text) > limit:
        raise ServiceError(_("内容过长（最多 %(n)d 字）。", n=limit), "too_long")
    return text


def _check_closes_on(closes_on: date | None) -> None:
    if closes_on is not None and closes_on < clock.site_today():
        raise ServiceError(_("截止日期不能早于今天。"), "bad_dates")


def save(actor: User, survey: Survey | None, *, organisation: Organisation, title: str, intro: str = "",
         anonymous: bool = False, closes_on: date | None = None) -> Survey:
    """Create (``survey`` None) or edit a survey; once published only its title, intro and closing day change."""
    orgs.require_manage(actor, organisation)
    title = _text(title, 200, _("请填写调研标题。"), "title_required")
    intro = _text(intro, 4000, None, "intro")
    _check_closes_on(closes_on)
    before = audit.snapshot(survey, SURVEY_FIELDS) if survey is not None else None
    if survey is None:
        survey = Survey(organisation=organisation, created_by_id=actor.id, status="draft")
        db.session.add(survey)
    else:
        orgs.require_manage(actor, survey.organisation)
        if survey.status != "draft" and (survey.organisation_id != organisation.id
                                         or survey.anonymous != bool(anonymous)):
            raise Conflict(_("调研已发布，不能再更改发布组织或匿名设置。"), "published")
        if survey.status == "closed":
            raise Conflict(_("调研已结束。"), "closed")
    survey.organisation, survey.title, survey.intro = organisation, title, intro
    survey.anonymous, survey.closes_on = bool(anonymous), closes_on
    db.session.flush()
    audit.record(actor, "survey.create" if before is None else "survey.update", survey, before=before,
                 after=audit.snapshot(survey, SURVEY_FIELDS))
    db.session.commit()
    return survey


def _draft(actor: User, survey: Survey) -> None:
    orgs.require_manage(actor, survey.organisation)
    if survey.status != "draft":
        raise Conflict(_("调研已发布，题目不能再修改。"), "published")


def _clean_question(kind: str, text: str, options: Sequence[str]) -> tuple[str, list[str]]:
    if kind not in QUESTION_KINDS:
        raise ServiceError(_("未知的题型。"), "bad_kind")
    text = _text(text, SURVEY.question_max_chars, _("请填写题目。"), "text_required")
    if kind == "text":
        return text, []
    cleaned = [o.strip() for o in options if o and o.strip()]
    if len(cleaned) < 2:
        raise ServiceError(_("选择题至少要有两个选项。"), "few_options")
    if len(cleaned) > SURVEY.max_options:
        raise ServiceError(_("选项最多 %(n)d 个。", n=SURVEY.max_options), "many_options")
    if any(len(o) > SURVEY.option_max_chars for o in cleaned):
        raise ServiceError(_("选项过长（最多 %(n)d 字）。", n=SURVEY.option_max_chars), "too_long")
    if len(set(cleaned)) != len(cleaned):
        raise ServiceError(_("选项不能重复。"), "duplicate_options")
    return text, cleaned


def add_question(actor: User, survey: Survey, *, kind: str, text: str, options: Sequence[str] = (),
                 required: bool = True) -> SurveyQuestion:
    _draft(actor, survey)
    if len(survey.questions) >= SURVEY.max_questions:
        raise ServiceError(_("题目最多 %(n)d 道。", n=SURVEY.max_questions), "many_questions")
    text, cleaned = _clean_question(kind, text, options)
    position = max([q.position for q in survey.questions] + [-1]) + 1
    question = SurveyQuestion(survey=survey, kind=kind, text=text, options=cleaned, required=bool(required),
                              position=position)
    db.session.add(question)
    db.session.commit()
    return question


def question_of(survey: Survey, question_id: int) -> SurveyQuestion:
    for q in survey.questions:
        if q.id == question_id:
            return q
    raise NotFound(_("题目不存在。"))


def update_question(actor: User, question: SurveyQuestion, *, text: str, options: Sequence[str] = (),
                    required: bool = True) -> SurveyQuestion:
    _draft(actor, question.survey)
    question.text, question.options = _clean_question(question.kind, text, options)
    question.required = bool(required)
    db.session.commit()
    return question


def move_question(actor: User, question: SurveyQuestion, delta: int) -> None:
    """Move a question one place up (``delta`` -1) or down (+1)."""
    survey = question.survey
    _draft(actor, survey)
    ordered = sorted(survey.questions, key=lambda q: (q.position, q.id))
    i = ordered.index(question)
    j = i + (1 if delta > 0 else -1)
    if 0 <= j < len(ordered):
        ordered[i], ordered[j] = ordered[j], ordered[i]
    for position, q in enumerate(ordered):
        q.position = position
    db.session.commit()


def remove_question(actor: User, question: SurveyQuestion) -> None:
    survey = question.survey
    _draft(actor, survey)
    survey.questions.remove(question)
    db.session.commit()


# -- publishing and closing -------------------------------------------------------------------------------------

def publish(actor: User, survey: Survey, closes_on: date | None = None) -> Survey:
    """Open the survey to its audience today and tell them (a job, in batches)."""
    orgs.require_manage(actor, survey.organisation)
    if survey.status != "draft":
        raise Conflict(_("调研已发布。"), "published")
    if not survey.questions:
        raise ServiceError(_("至少要有一道题目才能发布。"), "no_questions")
    today = clock.site_today()
    closes_on = closes_on or survey.closes_on or today + timedelta(days=SURVEY.default_open_days)
    _check_closes_on(closes_on)
    before = audit.snapshot(survey, SURVEY_FIELDS)
    survey.status, survey.opens_on, survey.closes_on = "open", today, closes_on
    survey.published_at = clock.now_utc()
    audit.record(actor, "survey.publish", survey, before=before, after=audit.snapshot(survey, SURVEY_FIELDS))
    db.session.commit()
    survey_tasks.tell_published.enqueue(survey.id)
    return survey


def published_message(survey_id: int) -> Message | None:
    """The notification of an open survey and its audience (None once it has closed: nobody more is told)."""
    survey = db.session.get(Survey, survey_id)
    if survey is None or not is_open(survey):
        return None
    until = survey.closes_on.isoformat() if survey.closes_on else ""
    return Message(kind="survey_published", key=f"survey.published:{survey.id}",
                   title=_("需求调研：%(t)s", t=survey.title)[:200],
                   body=_("%(o)s 请您参加「%(t)s」，截止日期 %(d)s。", o=survey.organisation.name, t=survey.title,
                          d=until),
                   link=f"/surveys/{survey.id}", audience=audience_stmt(survey))


def close(actor: User, survey: Survey) -> Survey:
    orgs.require_manage(actor, survey.organisation)
    if survey.status != "open":
        raise Conflict(_("只有进行中的调研可以结束。"), "not_open")
    before = audit.snapshot(survey, SURVEY_FIELDS)
    survey.status, survey.closed_at = "closed", clock.now_utc()
    today = clock.site_today()
    if survey.closes_on is None or survey.closes_on > today:
        survey.closes_on = today
    audit.record(actor, "survey.close", survey, before=before, after=audit.snapshot(survey, SURVEY_FIELDS))
    db.session.commit()
    return survey


# -- answering -------------------------------------------------------------------------------------------------

def _checked_answers(survey: Survey, answers: Mapping[int, Answer]) -> list[SurveyAnswer]:
    by_id = {q.id: q for q in survey.questions}
    strangers = [qid for qid in answers if qid not in by_id]
    if strangers:
        raise ServiceError(_("提交的答案含有不属于本调研的题目。"), "foreign_question")
    rows: list[SurveyAnswer] = []
    for number, q in enumerate(sorted(survey.questions, key=lambda q: q.position), start=1):
        given = answers.get(q.id)
        if q.kind == "text":
            if given is not None and not isinstance(given, str):
                raise ServiceError(_("第 %(n)d 题应填写文字。", n=number), "bad_answer")
            text = (given or "").strip()
            if len(text) > SURVEY.text_answer_max_chars:
                raise ServiceError(_("第 %(n)d 题的回答过长（最多 %(m)d 字）。", n=number,
                                     m=SURVEY.text_answer_max_chars), "too_long")
            if not text:
                if q.required:
                    raise ServiceError(_("第 %(n)d 题为必答题。", n=number), "required")
                continue
            rows.append(SurveyAnswer(question_id=q.id, choices=[], text=text))
            continue
        if given is None or isinstance(given, str):
            if given not in (None, ""):
                raise ServiceError(_("第 %(n)d 题应选择选项。", n=number), "bad_answer")
            chosen: list[int] = []
        else:
            chosen = list(given)
        if any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(q.options) for i in chosen):
            raise ServiceError(_("第 %(n)d 题的选项不存在。", n=number), "bad_option")
        chosen = sorted(set(chosen))
        if q.kind == "single" and len(chosen) > 1:
            raise ServiceError(_("第 %(n)d 题只能选一项。", n=number), "one_option")
        if not chosen:
            if q.required:
                raise ServiceError(_("第 %(n)d 题为必答题。", n=number), "required")
            continue
        rows.append(SurveyAnswer(question_id=q.id, choices=chosen, text=""))
    return rows


def submit(user: User, survey: Survey, answers: Mapping[int, Answer]) -> SurveyResponse:
    """Record ``user``'s one response; every answer is checked first, nothing is written on any refusal."""
    if not in_audience(user, survey) or survey.status == "draft":
        raise NotFound(_("调研不存在。"))
    if not is_open(survey):
        raise Conflict(_("调研已结束，不能再提交。"), "closed")
    if has_answered(user, survey):
        raise Conflict(_("您已经参加过本次调研。"), "already_answered")
    rows = _checked_answers(survey, answers)
    response = SurveyResponse(survey_id=survey.id, user_id=user.id, submitted_at=clock.now_utc(), answers=rows)
    db.session.add(response)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent submission of the same member won the unique constraint
        db.session.rollback()
        raise Conflict(_("您已经参加过本次调研。"), "already_answered") from None
    return response


# -- results ---------------------------------------------------------------------------------------------------

def results(actor: User, survey: Survey) -> dict[str, Any]:
    """Counts and shares per option, the free-text answers (without names when anonymous), the response rate."""
    orgs.require_manage(actor, survey.organisation)
    responses = db.session.execute(select(func.count()).select_from(SurveyResponse).where(
        SurveyResponse.survey_id == survey.id)).scalar_one()
    size = audience_size(survey)
    answers = db.session.execute(
        select(SurveyAnswer, SurveyResponse.user_id, SurveyResponse.submitted_at)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(SurveyResponse.survey_id == survey.id).order_by(SurveyResponse.submitted_at, SurveyAnswer.id)).all()
    names: dict[int, str] = {}
    if not survey.anonymous:
        ids = {uid for _a, uid, _t in answers}
        names = {u.id: u.name for u in db.session.execute(select(User).where(User.id.in_(ids))).scalars()}
    questions = []
    for q in sorted(survey.questions, key=lambda q: q.position):
        mine = [(a, uid, at) for a, uid, at in answers if a.question_id == q.id]
        entry: dict[str, Any] = {"id": q.id, "kind": q.kind, "text": q.text, "required": q.required,
                                 "answered": len(mine)}
        if q.kind == "text":
            entry["texts"] = [{"text": a.text, "name": names.get(uid) if not survey.anonymous else None,
                               "submitted_at": at} for a, uid, at in mine]
        else:
            counts = [0] * len(q.options)
            for a, _uid, _at in mine:
                for i in a.choices:
                    if 0 <= i < len(counts):
                        counts[i] += 1
            entry["options"] = [{"text": text, "count": c, "percent": (100.0 * c / responses) if responses else 0.0}
                                for text, c in zip(q.options, counts, strict=True)]
        questions.append(entry)
    return {"survey": survey, "status": shown_status(survey), "audience": size, "responses": responses,
            "response_rate": (responses / size) if size else 0.0, "questions": questions}


def results_xlsx(actor: User, survey: Survey) -> bytes:
    """The results as a workbook: a summary sheet (counts per option) and one row per response."""
    from openpyxl import Workbook  # loaded for exports only: most requests never write a workbook

    data = results(actor, survey)
    wb = Workbook(write_only=True)
    summary = wb.create_sheet(_("汇总"))
    summary.append(xlsx_row(summary, [survey.title]))
    summary.append(xlsx_row(summary, [_("应答人数"), data["audience"], _("已提交"), data["responses"],
                                      _("参与率"), round(data["response_rate"] * 100, 1)]))
    for number, q in enumerate(data["questions"], start=1):
        summary.append(xlsx_row(summary, [f"{number}. {q['text']}"]))
        for option in q.get("options", []):
            summary.append(xlsx_row(summary, ["", option["text"], option["count"], round(option["percent"], 1)]))
        for text in q.get("texts", []):
            summary.append(xlsx_row(summary, ["", text["text"]] + ([text["name"]] if text["name"] else [])))
    sheet = wb.create_sheet(_("答卷"))
    questions = sorted(survey.questions, key=lambda q: q.position)
    head = ([] if survey.anonymous else [_("用户名"), _("姓名")]) + [_("提交时间")] + [q.text for q in questions]
    sheet.append(xlsx_row(sheet, head))
    responses = db.session.execute(select(SurveyResponse).where(SurveyResponse.survey_id == survey.id)
                                   .order_by(SurveyResponse.submitted_at, SurveyResponse.id)).scalars().all()
    for r in responses:
        given = {a.question_id: a for a in r.answers}
        cells: list[Any] = [] if survey.anonymous else [r.user.username, r.user.name]
        cells.append(clock.to_site(r.submitted_at).strftime("%Y-%m-%d %H:%M"))
        for q in questions:
            a = given.get(q.id)
            if a is None:
                cells.append("")
            elif q.kind == "text":
                cells.append(a.text)
            else:
                cells.append("；".join(q.options[i] for i in a.choices if 0 <= i < len(q.options)))
        sheet.append(xlsx_row(sheet, cells))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- for the evaluation report ---------------------------------------------------------------------------------

def surveys_summary(org: Organisation, start: date, end: date) -> list[dict]:
    """Surveys published by ``org`` or inside its subtree that were open during [start, end], with their
    audience (members belonging now to the publisher's subtree), responses and response rate."""
    rows = db.session.execute(
        select(Survey).join(Organisation, Organisation.id == Survey.organisation_id)
        .where(Organisation.path.startswith(org.path, autoescape=True), Survey.status != "draft",
               Survey.opens_on <= end, or_(Survey.closes_on.is_(None), Survey.closes_on >= start))
        .order_by(Survey.opens_on, Survey.id)).scalars().all()
    counts = dict(db.session.execute(
        select(SurveyResponse.survey_id, func.count()).where(SurveyResponse.survey_id.in_([s.id for s in rows]))
        .group_by(SurveyResponse.survey_id)).tuples().all())
    out = []
    for s in rows:
        size = audience_size(s)
        responses = int(counts.get(s.id, 0))
        out.append({"id": s.id, "title": s.title, "organisation": s.organisation.name, "opens_on": s.opens_on,
                    "closes_on": s.closes_on, "audience": size, "responses": responses,
                    "response_rate": (responses / size) if size else 0.0})
    return out

