import io
import re
from pathlib import Path

import pytest

from elearn.http.errors import status_for
from elearn.media.models import Subtitle
from elearn.readings import services as readings
from elearn.search import services as search
from elearn.search import tasks as search_tasks
from elearn.storage import get_storage

DATA = Path(__file__).resolve().parent.parent / "data"
PLAN = (DATA / "plan-excerpt.txt").read_bytes()
VTT = """WEBVTT

00:00:01.000 --> 00:00:05.000
同志们好，今天我们学习党员教育培训规划。

00:01:05.500 --> 00:01:09.000
要把新质生产力的要求落实到岗位上。
"""


def add_subtitles(db, lesson, text=VTT):
    key = f"subtitles/{lesson.id}/zh-CN.vtt"
    get_storage().save(key, io.BytesIO(text.encode("utf-8")))
    db.session.add(Subtitle(lesson_id=lesson.id, lang="zh-CN", label="中文", storage_key=key))
    db.session.commit()
    search_tasks.index_lesson.enqueue(lesson.id)


@pytest.fixture
def world(db, make_org, make_user, make_course, make_lesson, publish):
    rural = make_org(sector="rural")
    city = make_org(sector="community")
    lecturer = make_user(role="lecturer", org=rural)
    public = make_course(title="乡村振兴与基层治理", lecturer=lecturer, description="农村党员的学习课程")
    hidden = make_course(title="城市基层治理", lecturer=lecturer, status="draft", description="尚未发布的课程")
    series = publish([public], sectors=["rural"], title="农村专题")
    search_tasks.index_course_audience.enqueue(public.id)
    search_tasks.index_course.enqueue(hidden.id)
    lesson = make_lesson(course=public, title="第一讲 规划解读", duration=120)
    hidden_lesson = make_lesson(course=hidden, title="第二讲 保密内容", duration=120)
    add_subtitles(db, lesson)
    add_subtitles(db, hidden_lesson, VTT.replace("新质生产力", "城市网格化"))
    admin = make_user(role="site_admin", org=city)
    reading = readings.upload(lecturer, PLAN, "plan.txt")
    readings.attach(admin, reading, public)  # approved courses are locked for their lecturer
    return {
        "lecturer": lecturer, "public": public, "hidden": hidden, "series": series, "lesson": lesson,
        "hidden_lesson": hidden_lesson, "reading": reading,
        "member": make_user(org=rural), "outsider": make_user(org=city),
        "admin": admin, "other_lecturer": make_user(role="lecturer", org=city),
    }


def test_phrase_search_links_to_the_paragraph_that_has_it(world):
    results = search.search(world["member"], '"三会一课"')
    assert results.total == 1
    hit = results.hits[0]
    assert hit.kind == "reading" and hit.reading_id == world["reading"].id
    assert "<mark>三会一课</mark>" in hit.snippet_html
    path, anchor = hit.url.split("#")
    assert path.startswith(f"/readings/{world['reading'].id}?q=")
    paragraph = {p.id: p.text for p in readings.load(world["reading"]).paragraphs}[anchor]
    assert "三会一课" in paragraph


def test_every_reading_link_points_to_an_existing_anchor(world):
    parsed = readings.load(world["reading"])
    ids = {p.id for p in parsed.paragraphs} | {s.id for s in parsed.sections if s.title}
    results = search.search(world["member"], "党员", kind="reading", pagelen=50)
    assert results.total >= 2
    for hit in results.hits:
        assert hit.anchor in ids and hit.url.endswith("#" + hit.anchor)


def test_subtitle_hit_jumps_to_the_moment(world):
    results = search.search(world["member"], "新质生产力", kind="subtitle")
    assert results.total == 1
    hit = results.hits[0]
    assert hit.lesson_id == world["lesson"].id and hit.seconds == pytest.approx(65.5)
    assert hit.url == f"/learn/lessons/{world['lesson'].id}?t=65" and "1:05" in hit.title


def test_courses_and_lessons_are_found_together(world):
    kinds = {h.kind for h in search.search(world["member"], "规划").hits}
    assert {"reading", "subtitle", "lesson"} <= kinds
    course_hits = search.search(world["member"], "乡村振兴", kind="course").hits
    assert [h.course_id for h in course_hits] == [world["public"].id]


def test_outsider_sees_nothing_of_a_course_not_published_to_them(world):
    for query in ('"三会一课"', "新质生产力", "乡村振兴", "规划"):
        assert search.search(world["outsider"], query).total == 0
    assert search.search(world["other_lecturer"], "新质生产力").total == 0


def test_unpublished_course_and_its_subtitles_stay_hidden(world):
    for user in ("member", "outsider"):
        assert search.search(world[user], "城市网格化").total == 0
        assert search.search(world[user], "保密内容").total == 0
        assert search.search(world[user], "城市基层治理", kind="course").total == 0
    # Its lecturer and site admins find them.
    assert search.search(world["lecturer"], "城市网格化").total == 1
    assert search.search(world["admin"], "保密内容", kind="lesson").total == 1


def test_unpublishing_hides_at_once(db, world):
    world["series"].published = False
    db.session.commit()
    assert search.search(world["member"], '"三会一课"').total == 0
    assert search.search(world["member"], "新质生产力", kind="subtitle").total == 0


def test_series_and_sector_filters(world, publish):
    sid = str(world["series"].id)
    assert search.search(world["member"], '"三会一课"', series=sid).total == 1
    assert search.search(world["member"], '"三会一课"', series=str(world["series"].id + 1000)).total == 0
    assert search.search(world["member"], "新质生产力", kind="subtitle", sector="rural").total == 1
    assert search.search(world["member"], "新质生产力", kind="subtitle", sector="community").total == 0
    # A new series to the community sector: after the audience re-index the filter follows.
    publish([world["public"]], sectors=["community"])
    search_tasks.index_course_audience.enqueue(world["public"].id)
    assert search.search(world["admin"], '"三会一课"', sector="community").total == 1


def test_detaching_a_reading_removes_it_from_the_course_audience(world):
    readings.detach(world["lecturer"], world["reading"], world["public"])
    assert search.search(world["member"], '"三会一课"').total == 0
    assert search.search(world["lecturer"], '"三会一课"').total == 1  # uploader keeps their own view


@pytest.mark.parametrize("query", ["", "   ", 'AND "', "x" * 201])
def test_invalid_queries_raise_a_clear_error(world, query):
    with pytest.raises(search.SearchQueryError) as err:
        search.search(world["member"], query)
    assert status_for(err.value) == 400 and err.value.message


@pytest.mark.parametrize("options", [{"kind": "video"}, {"sector": "mars"}, {"series": "abc"}, {"page": 0}])
def test_invalid_filters_raise_a_clear_error(world, options):
    with pytest.raises(search.SearchQueryError):
        search.search(world["member"], "党员", **options)


def test_pagination(world):
    first = search.search(world["admin"], "党员", pagelen=2)
    second = search.search(world["admin"], "党员", page=2, pagelen=2)
    assert first.total == second.total > 2 and first.pagecount >= 2
    assert {h.url for h in first.hits}.isdisjoint({h.url for h in second.hits})


def test_removal_and_lesson_deletion(db, world):
    search_tasks.remove.enqueue("subtitle", world["lesson"].id)
    assert search.search(world["member"], "新质生产力", kind="subtitle").total == 0
    assert search.search(world["member"], "规划解读", kind="lesson").total == 1
    search_tasks.remove.enqueue("course", world["public"].id)
    assert search.search(world["admin"], "乡村振兴", kind="course").total == 0
    with pytest.raises(ValueError):
        search_tasks.remove.run("video", 1)


def test_cached_searcher_sees_later_writes(world, make_course, publish):
    assert search.search(world["admin"], "红色教育基地").total == 0
    course = make_course(title="红色教育基地巡礼")
    search_tasks.index_course.enqueue(course.id)
    assert search.search(world["admin"], "红色教育基地").total == 1
    search.rebuild()
    assert search.search(world["admin"], "红色教育基地").total == 1


def test_reader_highlighting_marks_only_paragraphs_with_the_terms(world):
    paragraphs = readings.load(world["reading"]).paragraphs
    marked = search.highlight_paragraphs(paragraphs, '"三会一课" OR 主题党日')
    assert marked and all("<mark>" in html for html in marked.values())
    assert len(marked) < len(paragraphs)
    assert search.highlight_paragraphs(paragraphs, 'AND "') == {}
    assert search.highlight_paragraphs(paragraphs, "<script>") == {} or \
        all("<script>" not in h for h in search.highlight_paragraphs(paragraphs, "<script>").values())
    assert re.search(r"<mark>三会一课</mark>", "".join(marked.values()))
