"""The lecturer's question tools, as a lecturer uses them: correct answers ticked on the question form (never
typed as numbers), and questions imported from the XLSX template with a row report (all rows or none)."""
import dataclasses
import io
import re

import pytest
from openpyxl import Workbook, load_workbook

from elearn import spreadsheets
from elearn.extensions import db
from elearn.policy import QUESTION_BANK
from elearn.quiz import services as quizzes
from elearn.quiz.models import Question

HEAD = ["题型", "题干", "选项A", "选项B", "选项C", "选项D", "选项E", "选项F", "正确答案", "解析"]


@pytest.fixture
def s(make_user, make_course):
    lecturer = make_user(role="lecturer")
    course = make_course(lecturer=lecturer)
    return {"lecturer": lecturer, "course": course, "other": make_user(role="lecturer"), "member": make_user()}


def _bank(course) -> list[Question]:
    db.session.expire_all()
    return quizzes.bank(course)


def _ticked(page: str, name="q-correct") -> list[int]:
    return [int(v) for v in re.findall(rf'name="{name}" value="(\d)"[^>]*checked', page)]


def _xlsx(rows, head=HEAD) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(head)
    for row in rows:
        ws.append(spreadsheets.xlsx_row(ws, row))  # "=1+1" as text, the way a lecturer types it
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(client, course, data: bytes, name="题目.xlsx"):
    return client.post(f"/quiz/course/{course.id}/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_correct_answers_are_ticked_and_checked_on_the_server(client, auth, s):
    auth.login(s["lecturer"].username)
    url = f"/quiz/course/{s['course'].id}/bank"
    page = client.get(url).get_data(as_text=True)
    assert 'type="checkbox" name="q-correct" value="7"' in page and 'name="q-truth" value="1"' in page
    assert "正确选项序号" not in page and "选项H" in page
    # A blank box between options is left out; the ticks follow their options.
    r = client.post(url, data={"q-kind": "multiple", "q-text": "党的纪律", "q-options-0": "政治纪律",
                               "q-options-1": "", "q-options-2": "组织纪律", "q-options-3": "娱乐纪律",
                               "q-correct": ["0", "2"], "q-submit": "1"})
    assert r.status_code == 302
    r = client.post(url, data={"q-kind": "truefalse", "q-text": "党员可以不交党费", "q-options-0": "忽略",
                               "q-correct": "0", "q-truth": "1", "q-submit": "1"})
    assert r.status_code == 302
    multiple, truefalse = _bank(s["course"])
    assert multiple.options == ["政治纪律", "组织纪律", "娱乐纪律"] and multiple.correct == [0, 1]
    assert truefalse.options == ["正确", "错误"] and truefalse.correct == [1]
    bad = [
        ({"q-kind": "single", "q-options-0": "甲", "q-options-1": "乙", "q-correct": ["0", "1"]}, "只能有一个"),
        ({"q-kind": "multiple", "q-options-0": "甲", "q-options-1": "乙"}, "请勾选正确答案"),
        ({"q-kind": "single", "q-options-0": "甲", "q-options-2": "丙", "q-correct": "1"}, "选项B勾选为正确答案"),
        ({"q-kind": "single", "q-options-0": "甲", "q-correct": "0"}, "选项须为 2–8 个"),
        ({"q-kind": "single", "q-options-0": "甲", "q-options-1": "乙", "q-correct": "9"}, "有效的选项"),
        ({"q-kind": "single", "q-options-0": "甲", "q-options-1": "乙", "q-correct": "x"}, "有效的选项"),
        ({"q-kind": "truefalse"}, "请勾选正确答案"),
        ({"q-kind": "single", "q-options-0": "甲" * 501, "q-options-1": "乙", "q-correct": "0"}, "500"),
    ]
    for fields, message in bad:
        r = client.post(url, data={"q-text": "坏题", "q-submit": "1", **fields})
        page = r.get_data(as_text=True)
        assert r.status_code == 400 and message in page, (fields, page[-3000:])
        if fields.get("q-correct") == ["0", "1"]:
            assert _ticked(page) == [0, 1]  # the form comes back as it was sent
    assert len(_bank(s["course"])) == 2


def test_the_edit_form_shows_the_ticks_and_saves_new_ones(client, auth, s):
    q = quizzes.add_question(s["lecturer"], s["course"], kind="multiple", text="多选", options=["甲", "乙", "丙"],
                             correct=[1, 2])
    auth.login(s["other"].username)
    assert client.get(f"/quiz/question/{q.id}/edit").status_code == 404  # another lecturer's course
    auth.logout()
    auth.login(s["lecturer"].username)
    page = client.get(f"/quiz/question/{q.id}/edit").get_data(as_text=True)
    assert _ticked(page) == [1, 2] and 'value="丙"' in page
    r = client.post(f"/quiz/question/{q.id}/edit", data={
        "q-kind": "single", "q-text": "单选", "q-options-0": "甲", "q-options-1": "乙", "q-correct": "0",
        "q-submit": "1"})
    assert r.status_code == 302
    (new,) = _bank(s["course"])
    assert (new.kind, new.options, new.correct) == ("single", ["甲", "乙"], [0])


def test_template_download_then_import_every_row(client, auth, s):
    auth.login(s["lecturer"].username)
    bank_page = client.get(f"/quiz/course/{s['course'].id}/bank").get_data(as_text=True)
    assert f"/quiz/course/{s['course'].id}/import" in bank_page
    r = client.get(f"/quiz/course/{s['course'].id}/import/template.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(r.data))
    assert [c.value for c in wb.worksheets[0][1]] == HEAD and wb.worksheets[0].max_row == 1
    r = _upload(client, s["course"], _xlsx([
        ["单选", "党的根本宗旨是什么？", "全心全意为人民服务", "发展经济", None, None, None, None, "A", "见党章"],
        ["多选题", "党的纪律包括", "政治纪律", "组织纪律", "娱乐纪律", None, None, None, "a, b", None],
        ["判断", "党员应当按期交纳党费", None, None, None, None, None, None, "正确", None],
        [None] * 10,  # a blank row is skipped
        ["单选", "=1+1", "1", 2, None, None, None, None, "B", None],  # formula-like text and a number stay text
    ]))
    assert r.status_code == 302, r.get_data(as_text=True)
    assert "已导入 4 道题目。" in client.get(r.headers["Location"]).get_data(as_text=True)
    single, multiple, truth, formula = _bank(s["course"])
    assert (single.kind, single.correct, single.explanation) == ("single", [0], "见党章")
    assert multiple.kind == "multiple" and multiple.options == ["政治纪律", "组织纪律", "娱乐纪律"]
    assert multiple.correct == [0, 1]
    assert (truth.kind, truth.correct) == ("truefalse", [0])
    assert (formula.text, formula.options, formula.correct) == ("=1+1", ["1", "2"], [1])


def test_a_bad_row_is_reported_by_number_and_nothing_is_imported(client, auth, s):
    quizzes.add_question(s["lecturer"], s["course"], kind="single", text="已有的题", options=["甲", "乙"], correct=[0])
    auth.login(s["lecturer"].username)
    r = _upload(client, s["course"], _xlsx([
        ["单选", "好题", "甲", "乙", None, None, None, None, "A", None],
        ["单选", "两个答案", "甲", "乙", None, None, None, None, "AB", None],
        ["填空", "", "甲", "乙", None, None, None, None, "A", None],
        ["多选", "指向空选项", "甲", "乙", None, None, None, None, "AC", None],
        ["判断", "判断题", None, None, None, None, None, None, "也许", None],
        ["单选", "好题", "甲", "乙", None, None, None, None, "A", None],
        ["单选", "已有的题", "甲", "乙", None, None, None, None, "A", None],
        ["单选", "无答案", "甲", "乙", None, None, None, None, None, None],
    ]))
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "未导入：8 行中有 7 行不合格" in page
    faults = [(3, "只能有一个正确答案"), (4, "题型须为"), (4, "请填写题目"), (5, "选项C勾选为正确答案"),
              (6, "正确”或“错误"), (7, "与第 2 行的题干相同"), (8, "题库中已有相同题干"), (9, "请填写正确答案")]
    for row, reason in faults:
        start = page.index(f"第 {row} 行")
        assert reason in page[start:page.index("</tr>", start)], (row, reason)
    assert re.findall(r"<td>第 (\d+) 行</td>", page) == ["3", "4", "5", "6", "7", "8", "9"]  # not the good row 2
    assert [q.text for q in _bank(s["course"])] == ["已有的题"]


@pytest.mark.parametrize(("data", "message"), [
    (b"not a spreadsheet", "不是 Excel（.xlsx）文件"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "另存为 .xlsx"),
    (b"PK\x03\x04 broken zip", "无法读取该 Excel 文件"),
    (_xlsx([["单选", "题", "甲", "乙", "A"]], head=["题型", "题目内容", "选项A", "选项B", "正确答案"]),
     "无法识别的列：题目内容"),
    (_xlsx([["单选", "题", "甲", "乙"]], head=["题型", "题干", "选项A", "选项B"]), "缺少必需的列：正确答案"),
    (_xlsx([]), "没有题目行"),
    (_xlsx([["单选", f"题{i}", "甲", "乙", None, None, None, None, "A", None] for i in range(301)]),
     "一次最多导入 300 行"),
])
def test_a_file_that_is_not_the_template_is_refused_with_a_message(client, auth, s, data, message):
    auth.login(s["lecturer"].username)
    r = _upload(client, s["course"], data)
    page = r.get_data(as_text=True)
    assert r.status_code in (400, 413, 422) and message in page, page[-2000:]
    assert _bank(s["course"]) == []


def test_a_file_over_the_size_limit_is_refused(client, auth, s, monkeypatch):
    # A smaller limit than the policy's: the test client leaves a temporary file open for bodies over 500 KB.
    small = dataclasses.replace(QUESTION_BANK, import_max_bytes=4096)
    monkeypatch.setattr("elearn.quiz.views.QUESTION_BANK", small)
    monkeypatch.setattr("elearn.quiz.question_import.QUESTION_BANK", small)
    auth.login(s["lecturer"].username)
    r = _upload(client, s["course"], _xlsx([["单选", "题" * 3000, "甲", "乙", None, None, None, None, "A", None]]))
    assert r.status_code == 413 and "文件过大（最大 4 KB）" in r.get_data(as_text=True)
    assert _bank(s["course"]) == []


def test_only_the_courses_lecturer_imports(client, auth, s):
    data = _xlsx([["单选", "题", "甲", "乙", None, None, None, None, "A", None]])
    for who in ("other", "member"):
        auth.login(s[who].username)
        assert client.get(f"/quiz/course/{s['course'].id}/import").status_code == 404
        assert client.get(f"/quiz/course/{s['course'].id}/import/template.xlsx").status_code == 404
        assert _upload(client, s["course"], data).status_code == 404
        auth.logout()
    assert _bank(s["course"]) == []


def test_the_english_template_has_english_headings_that_import(client, auth, s):
    auth.login(s["lecturer"].username)
    client.post("/auth/locale/en", data={"next": "/"})
    r = client.get(f"/quiz/course/{s['course'].id}/import/template.xlsx")
    head = [c.value for c in load_workbook(io.BytesIO(r.data)).worksheets[0][1]]
    assert head[:3] == ["kind", "question", "option A"] and head[-2:] == ["answer", "explanation"]
    rows = [["truefalse", "A member pays dues monthly", None, None, "false", None],
            ["single", "Two and two", "three", "four", "b", "four"]]
    r = _upload(client, s["course"], _xlsx(rows, head=head[:4] + head[-2:]))
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    assert [(q.kind, q.correct) for q in _bank(s["course"])] == [("truefalse", [1]), ("single", [1])]
