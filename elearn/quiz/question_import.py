"""Import of questions into a course's bank from an XLSX template: all or nothing.

The template's first sheet has one question a row under the headings 题型, 题干, 选项A…选项F (G and H are
accepted too: a question has at most eight options; the English template's kind, question, option A…, answer,
explanation likewise), 正确答案 (the letters of the correct options, such as
``A`` or ``AC``; 正确/错误 for a true/false question) and 解析. Every row is checked with the rules of a
question typed on the bank page (:func:`elearn.quiz.services.check_question`), plus a question already in
the bank or twice in the file; the report lists each refused row by its row number with all of its faults.
Only when every row is accepted are the questions added, in one transaction; otherwise nothing is, so the
lecturer fixes the file and imports it again without duplicates.

The file is read by :func:`elearn.spreadsheets.read_xlsx` (told by its bytes, measured before it is parsed,
stopped at the first row beyond ``policy.QUESTION_BANK.import_max_rows``).
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from elearn import spreadsheets
from elearn.audit import services as audit
from elearn.courses.models import Course
from elearn.errors import ServiceError, TooLarge
from elearn.extensions import db
from elearn.i18n import join_list
from elearn.orgs.models import User
from elearn.policy import QUESTION_BANK, QUESTION_KINDS
from elearn.quiz import services as quizzes
from elearn.quiz.models import Question

TEMPLATE_OPTIONS = "ABCDEF"  # the option columns of the template; G and H are read when present
# Column headings (Chinese, or the English template's, compared without spaces and case) → field.
HEADINGS: dict[str, str] = {"题型": "kind", "题干": "text", "题目": "text", "正确答案": "answer", "答案": "answer",
                            "解析": "explanation", "答案解析": "explanation",
                            "kind": "kind", "type": "kind", "question": "text", "answer": "answer",
                            "explanation": "explanation"}
HEADINGS.update({f"选项{letter}": f"option{letter}" for letter in quizzes.OPTION_LETTERS})
HEADINGS.update({f"option{letter.lower()}": f"option{letter}" for letter in quizzes.OPTION_LETTERS})
# The template's headings and example kinds and answers: Chinese, or English for an English interface (the
# import reads both).
TEMPLATE_WORDS = {
    "zh": {"headings": ["题型", "题干", *[f"选项{x}" for x in TEMPLATE_OPTIONS], "正确答案", "解析"],
           "sheet": "题目", "single": "单选", "multiple": "多选", "truefalse": "判断", "true": "正确"},
    "en": {"headings": ["kind", "question", *[f"option {x}" for x in TEMPLATE_OPTIONS], "answer", "explanation"],
           "sheet": "Questions", "single": "single", "multiple": "multiple", "truefalse": "truefalse",
           "true": "true"},
}
REQUIRED = ("kind", "text", "answer")
KIND_WORDS = {"单选": "single", "单选题": "single", "single": "single",
              "多选": "multiple", "多选题": "multiple", "multiple": "multiple",
              "判断": "truefalse", "判断题": "truefalse", "truefalse": "truefalse"}
TRUE_WORDS = {"正确", "对", "是", "√", "✓", "T", "TRUE", "A"}
FALSE_WORDS = {"错误", "错", "否", "×", "✗", "X", "F", "FALSE", "B"}
ANSWER_SEPARATORS = re.compile(r"[\s,，、;；/]+")
LIMITS = spreadsheets.XlsxLimits(max_rows=QUESTION_BANK.import_max_rows, max_columns=20,
                                 max_unpacked_bytes=QUESTION_BANK.xlsx_max_unpacked_bytes,
                                 max_tags=QUESTION_BANK.xlsx_max_tags)


@dataclass
class RowProblem:
    row: int  # as numbered in the spreadsheet (the heading is row 1)
    text: str  # the row's 题干, shortened, to find it
    reasons: list[str]


@dataclass
class ImportResult:
    total: int = 0
    imported: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.imported > 0


def _heading_key(text: str) -> str | None:
    compact = re.sub(r"\s+", "", text)
    return HEADINGS.get(compact) or HEADINGS.get(compact.lower()) or HEADINGS.get(compact[:2] + compact[2:].upper())


def _answer_positions(kind: str, answer: str, reasons: list[str]) -> list[int]:
    """The positions (0 for A) of the options ``answer`` names; for true/false 0 (正确) or 1 (错误)."""
    value = answer.strip().upper()
    if not value:
        reasons.append(_("请填写正确答案。"))
        return []
    if kind == "truefalse":
        if value in TRUE_WORDS:
            return [0]
        if value in FALSE_WORDS:
            return [1]
        reasons.append(_("判断题的正确答案须填“正确”或“错误”。"))
        return []
    letters = "".join(ANSWER_SEPARATORS.split(value))
    if not letters or any(ch not in quizzes.OPTION_LETTERS for ch in letters):
        reasons.append(_("正确答案“%(a)s”无效：请填写选项字母，如 A 或 AC。", a=answer[:20]))
        return []
    return sorted({quizzes.OPTION_LETTERS.index(ch) for ch in letters})


def _check_row(rec: dict[str, str], option_keys: list[str]) -> tuple[dict, list[str]]:
    """The question fields of one row and every fault found in it."""
    reasons: list[str] = []
    kind = KIND_WORDS.get(rec.get("kind", "").strip().lower().replace(" ", ""))
    if kind is None:
        reasons.append(_("题型须为 %(k)s 之一。", k=join_list([str(v) for v in QUESTION_KINDS.values()])))
    text, explanation = rec.get("text", ""), rec.get("explanation", "")
    rows = [rec.get(key, "") for key in option_keys]
    options: list[str] = []
    correct: list[int] = []
    if kind is not None:
        ticked = _answer_positions(kind, rec.get("answer", ""), reasons)
        if kind != "truefalse" and any(t >= len(rows) for t in ticked):
            reasons.append(_("正确答案“%(a)s”指向的选项列不存在。", a=rec.get("answer", "")[:20]))
            ticked = []
        try:
            options, correct = quizzes.ticked_options(kind, rows, ticked)
            # Without a usable answer the rest of the row is still checked (its answer already reported).
            options, correct = quizzes.check_question(kind, text, options, correct if ticked else [0], explanation)
        except ServiceError as exc:
            reasons.append(exc.message)
    elif not text.strip():
        reasons.append(_("请填写题目。"))
    return {"kind": kind, "text": text.strip(), "options": options, "correct": correct,
            "explanation": explanation.strip()}, reasons


def import_questions(actor: User, course: Course, data: bytes) -> ImportResult:
    """Add one question per row of the XLSX ``data`` to ``course``'s bank; none unless every row is accepted.

    Raises:
        ServiceError: the file as a whole is refused (not an XLSX, damaged, too many rows or columns, headings
            missing or unknown, no data rows). NotFound: ``actor`` does not keep the course's bank.
        TooLarge: more than ``policy.QUESTION_BANK.import_max_bytes``.
    """
    quizzes.require_bank(actor, course)
    if len(data) > QUESTION_BANK.import_max_bytes:
        raise TooLarge(_("文件过大（最大 %(n)d KB）。", n=QUESTION_BANK.import_max_bytes // 1024), "file_too_large")
    sheet = spreadsheets.read_xlsx(data, LIMITS)
    header = [_heading_key(h) if h else None for h in sheet.header]
    unknown = [h for h, key in zip(sheet.header, header, strict=True) if h and key is None]
    if unknown:
        raise ServiceError(_("无法识别的列：%(c)s。请使用模板的列名：题型、题干、选项A…选项F、正确答案、解析。",
                             c=join_list([u[:20] for u in unknown])), "unknown_columns")
    missing = [{"kind": _("题型"), "text": _("题干"), "answer": _("正确答案")}[h] for h in REQUIRED if h not in header]
    if missing:
        raise ServiceError(_("缺少必需的列：%(c)s（第一行须为模板的列名）。", c=join_list(missing)), "missing_columns")
    if not sheet.rows:
        raise ServiceError(_("文件中没有题目行。"), "no_rows")
    last = max((quizzes.OPTION_LETTERS.index(k[-1]) for k in header if k and k.startswith("option")), default=-1)
    option_keys = [f"option{letter}" for letter in quizzes.OPTION_LETTERS[:last + 1]]
    in_bank = {t.strip() for t in db.session.execute(select(Question.text).where(
        Question.course_id == course.id, Question.active.is_(True))).scalars()}
    seen: dict[str, int] = {}  # 题干 → its first row
    result = ImportResult(total=len(sheet.rows))
    accepted: list[dict] = []
    for number, cells in sheet.rows:
        rec = {key: (cells[i] if i < len(cells) else "") for i, key in enumerate(header) if key}
        fields, reasons = _check_row(rec, option_keys)
        text = fields["text"]
        if text and text in seen:
            reasons.append(_("与第 %(r)d 行的题干相同。", r=seen[text]))
        elif text:
            seen[text] = number
            if text in in_bank:
                reasons.append(_("题库中已有相同题干的题目。"))
        if reasons:
            result.problems.append(RowProblem(row=number, text=text[:40], reasons=reasons))
        else:
            accepted.append(fields)
    if result.problems:
        return result
    added = [Question(course_id=course.id, active=True, **fields) for fields in accepted]
    db.session.add_all(added)
    db.session.flush()
    audit.record(actor, "quiz.question.import", course,
                 after={"rows": len(added), "question_ids": [q.id for q in added]})
    db.session.commit()
    result.imported = len(added)
    return result


def template_xlsx(language: str = "zh") -> bytes:
    """The import template: the headings on the first sheet (to be filled in), how to fill it and one example
    of each kind on a second sheet (not read by the import). ``language`` "en" gives English headings."""
    from openpyxl import Workbook  # ~140 ms to import: only the template and uploads need it

    words = TEMPLATE_WORDS.get(language, TEMPLATE_WORDS["zh"])
    headings = words["headings"]
    wb = Workbook()
    ws = wb.active
    ws.title = words["sheet"]
    ws.append(spreadsheets.xlsx_row(ws, headings))
    ws.freeze_panes = "A2"
    help_ws = wb.create_sheet(_("填写说明"))
    blank = [""] * (len(TEMPLATE_OPTIONS) - 2)
    for row in [
        [_("在第一个工作表中每行填写一道题；本工作表不会导入。")],
        [_("题型：单选、多选或判断。正确答案：填选项字母，如 A（单选）或 ACD（多选）；"
           "判断题填 正确 或 错误，选项列留空。")],
        [_("用不到的选项列留空。一次最多导入 %(n)d 行；只要有一行不合格，整个文件都不会导入。",
           n=QUESTION_BANK.import_max_rows)],
        [],
        headings,
        [words["single"], "中国共产党的根本宗旨是什么？", "全心全意为人民服务", "发展经济", *blank, "A",
         "见党章总纲。"],
        [words["multiple"], "党的纪律包括哪些？", "政治纪律", "组织纪律", "廉洁纪律", "娱乐纪律", *blank[2:], "ABC",
         ""],
        [words["truefalse"], "党员应当按期交纳党费。", "", "", *blank, words["true"], "见党章第八条。"],
    ]:
        help_ws.append(spreadsheets.xlsx_row(help_ws, row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
