"""Notes at a moment of a lesson and on a paragraph of a reading: private, jump links, limits, the API."""
from pathlib import Path

import pytest
from sqlalchemy import func, select

from elearn.community.models import Bookmark, StudyNote
from elearn.extensions import db
from elearn.readings import services as readings

PLAN = (Path(__file__).resolve().parent.parent / "data" / "plan-excerpt.txt").read_bytes()


def _count():
    return db.session.execute(select(func.count(StudyNote.id))).scalar_one()


@pytest.fixture
def reading(classroom, make_user):
    return readings.upload(make_user(role="site_admin"), PLAN, "plan.txt", title="学习计划", course=classroom.course)


def test_a_lesson_note_lists_under_the_player_and_links_to_its_moment(classroom, client, auth):
    auth.login("member1")
    resp = client.post(f"/community/lessons/{classroom.lesson.id}/notes",
                       data={"position_s": "75.4", "text": "第一点\n第二点"}, follow_redirects=True)
    assert "已保存笔记" in resp.text
    page = client.get(f"/learn/lessons/{classroom.lesson.id}").text
    assert f'href="/learn/lessons/{classroom.lesson.id}?t=75#notes" data-seek="75.4">01:15</a>' in page
    assert "第一点\n第二点" in page
    mine = client.get("/me/notes").text
    assert "新思想课程" in mine and "第一讲 · 01:15" in mine


def test_notes_are_private_on_pages_and_in_the_api(classroom, client, auth, make_user, api):
    auth.login("member1")
    client.post(f"/community/lessons/{classroom.lesson.id}/notes", data={"position_s": "5", "text": "我的秘密笔记"})
    note_id = db.session.execute(select(StudyNote.id)).scalar_one()
    auth.logout()
    make_user(org=classroom.org, username="member2")
    auth.login("member2")
    assert "我的秘密笔记" not in client.get(f"/learn/lessons/{classroom.lesson.id}").text
    assert "我的秘密笔记" not in client.get("/me/notes").text
    assert client.get("/api/v1/notes").get_json() == {"items": []}
    assert api.delete(f"/api/v1/notes/{note_id}").status_code == 404
    assert client.post(f"/community/notes/{note_id}/delete").status_code == 404
    assert _count() == 1


def test_a_note_on_a_lesson_i_cannot_see_is_a_404(classroom, client, auth, api):
    auth.login("outsider1")
    assert client.post(f"/community/lessons/{classroom.lesson.id}/notes",
                       data={"position_s": "1", "text": "x"}).status_code == 404
    resp = api.post(f"/api/v1/lessons/{classroom.lesson.id}/notes", json={"position_s": 1.0, "text": "x"})
    assert resp.status_code == 404
    assert _count() == 0


def test_bad_positions_empty_and_huge_text_change_nothing(classroom, client, auth, api):
    auth.login("member1")
    url = f"/api/v1/lessons/{classroom.lesson.id}/notes"
    for body in ({"position_s": -1, "text": "x"}, {"position_s": "abc", "text": "x"}, {"position_s": 1},
                 {"position_s": 1.0, "text": "   "}, {"position_s": 1.0, "text": "长" * 2001},
                 {"position_s": 1.0, "text": "x" * 100_000}, [1, 2], {"position_s": 1.0, "text": "x", "extra": 1}):
        resp = api.post(url, json=body)
        assert resp.status_code == 400, body
        assert "error" in resp.get_json()
    for form in ({"position_s": "nan", "text": "x"}, {"position_s": "inf", "text": "x"}, {"text": "x"},
                 {"position_s": "1", "text": "长" * 2001}):
        page = client.post(f"/community/lessons/{classroom.lesson.id}/notes", data=form, follow_redirects=True)
        assert page.status_code == 200 and ("无效" in page.text or "过长" in page.text), form
    assert _count() == 0
    # a moment past the end is clipped to the lesson's length
    ok = api.post(url, json={"position_s": 99999.0, "text": "最后"})
    assert ok.status_code == 200 and ok.get_json()["position_s"] == 600.0


def test_reading_notes_show_beside_their_paragraph(classroom, reading, client, auth, api):
    auth.login("member1")
    resp = client.post(f"/community/readings/{reading.id}/notes", data={"paragraph": "p-2", "text": "这一段要背"})
    assert resp.headers["Location"].endswith(f"/readings/{reading.id}#p-2")
    page = client.get(f"/readings/{reading.id}").text
    para = page.index('<p id="p-2">')
    assert para < page.index("这一段要背") < page.index('<p id="p-3">')
    assert f'href="/readings/{reading.id}#p-2"' in client.get("/me/notes").text
    for bad in ("p-99999", "x", ""):
        page = client.post(f"/community/readings/{reading.id}/notes", data={"paragraph": bad, "text": "x"},
                           follow_redirects=True)
        assert "段落编号无效" in page.text
    made = api.post(f"/api/v1/readings/{reading.id}/notes", json={"paragraph": "p-3", "text": "接口笔记"})
    assert made.status_code == 200 and made.get_json()["url"] == f"/readings/{reading.id}#p-3"
    assert _count() == 2


def test_script_in_a_note_is_shown_as_text(classroom, client, auth):
    auth.login("member1")
    client.post(f"/community/lessons/{classroom.lesson.id}/notes",
                data={"position_s": "1", "text": '<script>alert(1)</script><img src=x onerror=alert(2)>'})
    for url in (f"/learn/lessons/{classroom.lesson.id}", "/me/notes"):
        page = client.get(url).text
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_bookmarks_toggle_and_list(classroom, reading, client, auth, api):
    auth.login("member1")
    client.post(f"/community/bookmarks/course/{classroom.course.id}")
    client.post(f"/community/bookmarks/lesson/{classroom.lesson.id}")
    assert api.put(f"/api/v1/bookmarks/reading/{reading.id}").get_json()["bookmarked"] is True
    page = client.get("/me/bookmarks").text
    assert "新思想课程" in page and "第一讲" in page and "学习计划" in page
    assert "已收藏" in client.get(f"/learn/courses/{classroom.course.id}").text
    client.post(f"/community/bookmarks/course/{classroom.course.id}")  # toggled off
    kinds = {b["kind"] for b in client.get("/api/v1/bookmarks").get_json()["items"]}
    assert kinds == {"lesson", "reading"}
    auth.logout()
    auth.login("outsider1")
    assert client.post(f"/community/bookmarks/course/{classroom.course.id}").status_code == 404
    assert api.put(f"/api/v1/bookmarks/lesson/{classroom.lesson.id}").status_code == 404
    assert client.post("/community/bookmarks/nonsense/1").status_code == 404
    assert client.get("/api/v1/bookmarks").get_json() == {"items": []}
    assert db.session.execute(select(func.count(Bookmark.id))).scalar_one() == 2


def _my_notes_and_another_members(classroom, reading, client, auth, make_user, paragraph_note):
    """member1 notes a lesson moment (text that looks like a formula) and a paragraph, member2 the lesson; then
    member1 is signed in again."""
    auth.login("member1")
    client.post(f"/community/lessons/{classroom.lesson.id}/notes", data={"position_s": "75", "text": "=1+1 不是公式"})
    client.post(f"/community/readings/{reading.id}/notes", data={"paragraph": "p-2", "text": paragraph_note})
    auth.logout()
    make_user(org=classroom.org, username="member2")
    auth.login("member2")
    client.post(f"/community/lessons/{classroom.lesson.id}/notes", data={"position_s": "1", "text": "别人的笔记"})
    auth.logout()
    auth.login("member1")


def test_the_xlsx_transcript_carries_my_notes_and_no_one_elses(classroom, reading, client, auth, make_user):
    import io

    from openpyxl import load_workbook
    _my_notes_and_another_members(classroom, reading, client, auth, make_user, "段落笔记")
    resp = client.get("/me/transcript.xlsx")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data))["学习笔记"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["课程或阅读材料", "位置", "笔记", "记于"]
    assert [r[:3] for r in rows[1:]] == [["新思想课程", "第一讲 · 01:15", "=1+1 不是公式"],
                                         ["学习计划", "第 2 段", "段落笔记"]]
    assert sheet.cell(2, 3).data_type == "s"  # text, never a formula


def test_the_notes_csv_beside_the_transcript_carries_my_notes_and_no_formula(classroom, reading, client, auth,
                                                                              make_user):
    import csv
    import io
    _my_notes_and_another_members(classroom, reading, client, auth, make_user, "＠SUM(A1) 全角")
    assert "/me/notes.csv" in client.get("/me/").text  # offered with the transcript's downloads
    assert "/me/notes.csv" in client.get("/me/notes").text
    resp = client.get("/me/notes.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="notes-member1-')
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert resp.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["课程或阅读材料", "位置", "笔记", "记于"]
    assert [r[:3] for r in rows[1:]] == [["新思想课程", "第一讲 · 01:15", "'=1+1 不是公式"],
                                         ["学习计划", "第 2 段", "'＠SUM(A1) 全角"]]
    auth.logout()
    assert client.get("/me/notes.csv").status_code in (302, 401)  # signed out: nobody's notes


def test_the_csv_transcript_carries_my_notes_after_the_credits_and_no_one_elses(classroom, reading, client, auth,
                                                                                 make_user):
    import csv
    import io
    _my_notes_and_another_members(classroom, reading, client, auth, make_user, "＠SUM(A1) 全角")
    resp = client.get("/me/transcript.csv")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"), newline="")))
    assert rows[1][0] == "日期"  # the credits' header first
    notes = rows[rows.index(["学习笔记"]) + 1:]
    assert rows[rows.index(["学习笔记"]) - 1] == []
    assert notes[0] == ["课程或阅读材料", "位置", "笔记", "记于"]
    assert [r[:3] for r in notes[1:]] == [["新思想课程", "第一讲 · 01:15", "'=1+1 不是公式"],
                                          ["学习计划", "第 2 段", "'＠SUM(A1) 全角"]]
    assert "别人的笔记" not in resp.data.decode("utf-8-sig")
    auth.logout()
    auth.login("member2")
    theirs = client.get("/me/transcript.csv").data.decode("utf-8-sig")
    assert "别人的笔记" in theirs and "不是公式" not in theirs and "全角" not in theirs
