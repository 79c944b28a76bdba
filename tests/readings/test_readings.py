import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from elearn import policy
from elearn.errors import Forbidden, NotFound, ServiceError
from elearn.http.errors import status_for
from elearn.readings import services as readings
from elearn.readings.models import CourseReading, Reading
from elearn.search import services as search
from elearn.site import demo_content
from elearn.storage import get_storage

DATA = Path(__file__).resolve().parent.parent / "data"
PLAN = (DATA / "plan-excerpt.txt").read_bytes()


@pytest.fixture
def people(make_org, make_user):
    rural = make_org(sector="rural")
    city = make_org(sector="community")
    return {
        "admin": make_user(role="site_admin", org=rural),
        "lecturer": make_user(role="lecturer", org=rural),
        "other_lecturer": make_user(role="lecturer", org=rural),
        "member": make_user(org=rural),
        "outsider": make_user(org=city),
        "rural": rural,
    }


def _reading_count(db):
    return db.session.execute(select(func.count()).select_from(Reading)).scalar_one()


def _stored_readings(app):
    root = Path(app.config["ELEARN_DATA_DIR"]) / "readings"
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_upload_stores_original_and_parsed_json_and_indexes(app, db, people):
    reading = readings.upload(people["lecturer"], PLAN, "plan.txt")
    storage = get_storage()
    assert reading.source_key == f"readings/{reading.id}/source.txt"
    assert reading.parsed_key == f"readings/{reading.id}/reading.json"
    with storage.open(reading.source_key) as fh:
        assert fh.read() == PLAN
    with storage.open(reading.parsed_key) as fh:
        stored = json.loads(fh.read())
    assert stored["title"].startswith("中共中央办公厅印发")
    assert reading.title == stored["title"] and reading.chars > 3000 and reading.estimated_minutes >= 1
    parsed = readings.load(reading)
    assert [s.title for s in parsed.sections][1] == "一、总体要求"
    assert parsed.paragraphs[0].id == "p-1"
    # Indexed through the (inline) job queue: the uploader finds it, nobody else does yet.
    assert search.search(people["lecturer"], "三会一课").total == 1
    assert search.search(people["member"], "三会一课").total == 0


def test_upload_gb18030_text_and_markdown(db, people):
    text = "第一章 总则\n\n党员教育培训要坚持学用结合。\n".encode("gb18030")
    reading = readings.upload(people["admin"], text, "规定.txt", title="  自定标题 ")
    assert reading.title == "自定标题"
    assert "学用结合" in readings.load(reading).text
    md = readings.upload(people["admin"], "# 学习材料\n\n## 一、要求\n\n深入学习。\n".encode(), "a.md")
    assert md.title == "学习材料" and [s.title for s in readings.load(md).sections if s.title] == ["一、要求"]


def _damaged_docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not a word document")
    return buf.getvalue()


@pytest.mark.parametrize("data,filename,code", [
    (b"\x00\x01\x02\xff\xfe" * 200, "binary.txt", "unreadable"),
    (b"", "empty.txt", "unreadable"),
    (b"MZ\x90\x00", "virus.exe", "unsupported_format"),
    (b"%PDF-1.4 broken", "broken.pdf", "unreadable"),
    (None, "broken.docx", "unreadable"),
])
def test_bad_files_store_and_index_nothing(app, db, people, data, filename, code):
    data = _damaged_docx() if data is None else data
    with pytest.raises(ServiceError) as err:
        readings.upload(people["admin"], data, filename)
    assert err.value.code == code and err.value.message
    assert _reading_count(db) == 0
    assert _stored_readings(app) == []
    assert search.get_index().doc_count() == 0


def test_too_large_refused(app, db, people, monkeypatch):
    monkeypatch.setattr(policy, "READING_MAX_BYTES", 100)
    with pytest.raises(ServiceError) as err:
        readings.upload(people["admin"], PLAN, "plan.txt")
    assert status_for(err.value) == 413 and _reading_count(db) == 0 and _stored_readings(app) == []


def test_members_cannot_upload(db, people):
    with pytest.raises(Forbidden):
        readings.upload(people["member"], PLAN, "plan.txt")
    assert _reading_count(db) == 0


def test_visibility_follows_attached_courses(db, people, make_course, publish):
    reading = readings.upload(people["lecturer"], PLAN, "plan.txt")
    course = make_course(lecturer=people["lecturer"], status="draft")
    readings.attach(people["lecturer"], reading, course)
    # Attached to a draft course: only the uploader (lecturer of the course) and site admins.
    assert readings.can_view(people["lecturer"], reading) and readings.can_view(people["admin"], reading)
    assert not readings.can_view(people["member"], reading)
    assert not readings.can_view(people["other_lecturer"], reading)
    with pytest.raises(NotFound):
        readings.get_visible(people["member"], reading.id)
    course.status = "approved"
    db.session.commit()
    publish([course], sectors=["rural"])
    assert readings.can_view(people["member"], reading)
    assert not readings.can_view(people["outsider"], reading)
    assert [r.id for r in readings.visible_readings(people["member"])] == [reading.id]
    assert readings.visible_readings(people["outsider"]) == []


def test_attach_rules(db, people, make_course):
    reading = readings.upload(people["lecturer"], PLAN, "plan.txt")
    own_draft = make_course(lecturer=people["lecturer"], status="draft")
    own_approved = make_course(lecturer=people["lecturer"], status="approved")
    others = make_course(lecturer=people["other_lecturer"], status="draft")
    readings.attach(people["lecturer"], reading, own_draft)
    with pytest.raises(Forbidden):
        readings.attach(people["lecturer"], reading, own_approved)  # in review/approved: locked for lecturers
    with pytest.raises(Forbidden):
        readings.attach(people["lecturer"], reading, others)
    with pytest.raises(NotFound):  # the other lecturer cannot see the reading at all
        readings.attach(people["other_lecturer"], reading, others)
    readings.attach(people["admin"], reading, own_approved)
    assert {c.id for c in readings.courses_of(reading)} == {own_draft.id, own_approved.id}
    readings.detach(people["lecturer"], reading, own_draft)
    assert [c.id for c in readings.courses_of(reading)] == [own_approved.id]
    with pytest.raises(Forbidden):
        readings.detach(people["other_lecturer"], reading, own_approved)


def test_course_readings_are_ordered_and_movable(db, people, make_course):
    course = make_course(lecturer=people["lecturer"], status="draft")
    a, b, c = (readings.upload(people["lecturer"], f"材料{n}\n\n正文{n}。\n".encode(), f"{n}.txt", course=course)
               for n in "abc")
    assert [r.id for r in readings.course_readings(course)] == [a.id, b.id, c.id]
    readings.move(people["lecturer"], c, course, -1)
    assert [r.id for r in readings.course_readings(course)] == [a.id, c.id, b.id]
    readings.move(people["lecturer"], a, course, -1)  # already first: stays
    assert [r.id for r in readings.course_readings(course)] == [a.id, c.id, b.id]
    readings.detach(people["lecturer"], a, course)
    positions = db.session.execute(select(CourseReading.position).where(CourseReading.course_id == course.id)
                                   .order_by(CourseReading.position)).scalars().all()
    assert positions == [0, 1]
    with pytest.raises(Forbidden):
        readings.move(people["other_lecturer"], b, course, 1)


def test_position_saved_and_restored(db, people):
    reading = readings.upload(people["lecturer"], PLAN, "plan.txt")
    assert readings.last_position(people["lecturer"], reading) is None
    readings.save_position(people["lecturer"], reading, "p-7")
    readings.save_position(people["lecturer"], reading, "p-9")
    assert readings.last_position(people["lecturer"], reading) == "p-9"
    assert readings.last_position(people["admin"], reading) is None
    for bad in ("p-999", "x", None, "p-0", 7):
        with pytest.raises(ServiceError):
            readings.save_position(people["lecturer"], reading, bad)
    with pytest.raises(NotFound):
        readings.save_position(people["member"], reading, "p-1")
    assert readings.last_position(people["lecturer"], reading) == "p-9"


def test_delete_removes_files_links_and_index(app, db, people, make_course):
    course = make_course(lecturer=people["lecturer"], status="draft")
    reading = readings.upload(people["lecturer"], PLAN, "plan.txt", course=course)
    with pytest.raises(NotFound):
        readings.delete_reading(people["other_lecturer"], reading)
    readings.delete_reading(people["lecturer"], reading)
    assert _reading_count(db) == 0 and _stored_readings(app) == []
    assert search.search(people["admin"], "三会一课").total == 0


def test_load_demo_reading_is_idempotent(db, people, make_course):
    course = make_course()
    first = demo_content.load_demo_reading(people["admin"], course)
    again = demo_content.load_demo_reading(people["admin"], course)
    assert first.id == again.id and _reading_count(db) == 1
    assert [r.id for r in readings.course_readings(course)] == [first.id]
    assert len(readings.load(first).paragraphs) > 20


def test_delete_refused_once_someone_studied_it(db, people, make_course):
    from elearn.study.models import ReadingProgress
    course = make_course(lecturer=people["lecturer"], status="draft")
    reading = readings.upload(people["lecturer"], PLAN, "plan.txt", course=course)
    db.session.add(ReadingProgress(user_id=people["member"].id, reading_id=reading.id, course_id=course.id,
                                   active_s=60.0))
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        readings.delete_reading(people["admin"], reading)
    assert err.value.code == "in_use" and _reading_count(db) == 1
    assert search.search(people["admin"], "三会一课").total == 1
