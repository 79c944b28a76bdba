"""The catalog page /learn/, my courses (/learn/mine and /api/v1/me/courses/<id>) and the catalog query: what
is published to me and nothing else, whatever the filters, search or API; filters and pages in SQL; malformed
filter values are ignored with a note, never an error page."""
import pytest

from elearn import clock
from elearn.courses import catalog_search
from elearn.courses.models import MyCourse
from elearn.extensions import db as _db
from elearn.search import tasks as search_tasks
from elearn.study.models import WatchProgress


@pytest.fixture
def w(make_org, make_user, make_course, make_lesson, publish):
    rural = make_org(sector="rural")
    member = make_user("cm1", org=rural)
    outsider = make_user("co1", org=make_org(sector="community"))
    theory = make_course(title="新时代思想概论", category="political_theory", theory=True)
    l1 = make_lesson(course=theory, duration=2700, position=0)
    make_lesson(course=theory, duration=1350, position=1)
    skills = make_course(title="党务工作实务", category="knowledge_skills", theory=False, declared_hours=3)
    make_lesson(course=skills, duration=600)
    history = make_course(title="红色历史专题", category="revolutionary_tradition", theory=False)
    city = make_course(title="城市社区治理机密课", category="political_theory", theory=True)
    required = publish([theory, skills], sectors=["rural"], required=True, title="农村必修专题")
    elective = publish([history], orgs=[(rural, True)], title="农村选修专题")
    elsewhere = publish([city], sectors=["community"], title="城市社区专题")
    for c in (theory, skills, history, city):
        search_tasks.index_course_audience.enqueue(c.id)
    return {"member": member, "outsider": outsider, "theory": theory, "skills": skills, "history": history,
            "city": city, "required": required, "elective": elective, "elsewhere": elsewhere, "l1": l1}


def _csrf(client) -> dict:
    return {"X-CSRFToken": client.csrf_token()}


def _cards(html: str) -> int:
    return html.count('class="course-card"')


def test_catalog_page_lists_what_is_published_to_me(client, auth, w):
    auth.login("cm1")
    r = client.get("/learn/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert _cards(html) == 3 and "新时代思想概论" in html and "红色历史专题" in html
    assert "城市社区治理机密课" not in html and "城市社区专题" not in html  # not even as a series option
    assert "共 3 门课程" in html


@pytest.mark.parametrize("args", [
    "", "category=political_theory", "theory=1", "kind=required", "kind=elective", "kind=new", "hours=ge3",
    "series={elsewhere}", "q=城市社区治理", "q=机密课&theory=1", "page=2",
])
def test_another_sectors_course_never_appears(client, auth, w, args):
    auth.login("cm1")
    query = args.format(elsewhere=w["elsewhere"].id)
    assert "城市社区治理机密课" not in client.get(f"/learn/?{query}").get_data(as_text=True)
    assert "城市社区治理机密课" not in client.get(f"/learn/mine?{query}").get_data(as_text=True)
    api = client.get(f"/api/v1/catalog?{query.replace('theory=1', 'innovative_theory=true')}")
    assert w["city"].id not in {c["id"] for c in (api.get_json() or {}).get("items", [])}


@pytest.mark.parametrize(("args", "expected"), [
    ("category=political_theory", {"theory"}),
    ("theory=0", {"skills", "history"}),
    ("theory=1", {"theory"}),
    ("kind=required", {"theory", "skills"}),
    ("kind=elective", {"history"}),
    ("hours=1to3", {"theory", "skills"}),
    ("hours=ge3", {"skills"}),
    ("hours=lt1", {"history"}),
    ("series={elective}", {"history"}),
    ("kind=new", {"theory", "skills", "history"}),
    ("category=knowledge_skills&kind=required", {"skills"}),
    ("q=党务工作", {"skills"}),
])
def test_catalog_filters(client, auth, w, args, expected):
    auth.login("cm1")
    html = client.get(f"/learn/?{args.format(elective=w['elective'].id)}").get_data(as_text=True)
    shown = {k for k in ("theory", "skills", "history") if f'data-course="{w[k].id}"' in html}
    assert shown == expected


@pytest.mark.parametrize(("args", "note"), [
    ("category=cooking", "未知的内容类别，已忽略。"),
    ("series={elsewhere}", "没有这个专题，已忽略。"),
    ("series=abc", "没有这个专题，已忽略。"),
    ("series=99999999999999999999999", "没有这个专题，已忽略。"),
    ("theory=maybe", "“创新理论”筛选的值无效，已忽略。"),
    ("hours=-1", "学时筛选的值无效，已忽略。"),
    ("kind=all", "课程类型筛选的值无效，已忽略。"),
    ("page=0", "页码无效"),
    ("page=99999999999999999999999999", "页码无效"),
    ("page=²", "页码无效"),
    ("page=-3", "页码无效"),
    ("page=40", "第 40 页没有课程（共 1 页）。"),
])
def test_malformed_filters_are_ignored_with_a_note(client, auth, w, args, note):
    auth.login("cm1")
    r = client.get(f"/learn/?{args.format(elsewhere=w['elsewhere'].id)}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert note in html
    if not args.startswith("page=40"):
        assert _cards(html) == 3  # the bad value changed nothing


def test_a_long_search_is_cut_not_refused(client, auth, w):
    auth.login("cm1")
    r = client.get("/learn/?q=" + "党" * 500)
    assert r.status_code == 200 and "搜索词过长" in r.get_data(as_text=True)


def test_pages_in_sql(client, auth, w, make_course, publish, count_queries):
    more = [make_course(title=f"选修课{i:02d}", theory=False) for i in range(20)]
    publish(more, sectors=["rural"])
    auth.login("cm1")
    first = client.get("/learn/").get_data(as_text=True)
    assert _cards(first) == 12 and "共 23 门课程" in first and "第 1 / 2 页" in first and 'rel="next"' in first
    second = client.get("/learn/?page=2").get_data(as_text=True)
    assert _cards(second) == 11 and 'rel="prev"' in second
    # The catalog query itself: a fixed number of statements for a page, whatever the number of courses.
    with count_queries() as n:
        entries, total = catalog_search.catalog_page(w["member"], catalog_search.CatalogQuery(per_page=5))
    assert total == 23 and len(entries) == 5 and n[0] <= 8


def test_my_progress_on_each_course(client, auth, w):
    _db.session.add(WatchProgress(user_id=w["member"].id, lesson_id=w["l1"].id, intervals=[[0, 2700]],
                                  watched_s=2700, position_s=2700, completed_at=clock.now_utc()))
    _db.session.commit()
    auth.login("cm1")
    html = client.get(f"/learn/?series={w['required'].id}").get_data(as_text=True)
    card = html[html.index(f'data-course="{w["theory"].id}"'):]
    assert 'aria-valuenow="50"' in card[:1500] and "已学完 1 / 2 个课时" in card[:1500]


def test_add_and_remove_my_courses_on_the_page(client, auth, w):
    auth.login("cm1")
    assert "还没有加入课程。" in client.get("/learn/mine").get_data(as_text=True)
    r = client.post(f"/learn/mine/{w['history'].id}", data={"action": "add", "next": "/learn/?kind=elective"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/learn/?kind=elective")
    mine = client.get("/learn/mine").get_data(as_text=True)
    assert _cards(mine) == 1 and "红色历史专题" in mine and "移出我的课程" in mine
    again = client.post(f"/learn/mine/{w['history'].id}", data={"action": "add"}, follow_redirects=True)
    assert "这门课程已在“我的课程”中。" in again.get_data(as_text=True)
    assert _db.session.query(MyCourse).count() == 1
    client.post(f"/learn/mine/{w['history'].id}", data={"action": "remove", "next": "//evil.example/"})
    assert _cards(client.get("/learn/mine").get_data(as_text=True)) == 0


def test_an_invisible_course_cannot_be_added(client, auth, w, make_course):
    auth.login("cm1")
    draft = make_course(status="draft")
    for cid in (w["city"].id, draft.id, 987654):
        assert client.post(f"/learn/mine/{cid}", data={"action": "add"}).status_code == 404
        r = client.post(f"/api/v1/me/courses/{cid}", headers=_csrf(client))
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert _db.session.query(MyCourse).count() == 0
    assert client.post(f"/learn/mine/{w['history'].id}", data={"action": "steal"}).status_code == 302


def test_my_courses_api(client, auth, w):
    auth.login("cm1")
    r = client.post(f"/api/v1/me/courses/{w['history'].id}", headers=_csrf(client))
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"course_id": w["history"].id, "mine": True, "changed": True}
    assert client.post(f"/api/v1/me/courses/{w['history'].id}", headers=_csrf(client)).get_json()["changed"] is False
    assert f'data-course="{w["history"].id}"' in client.get("/learn/mine").get_data(as_text=True)
    r = client.delete(f"/api/v1/me/courses/{w['history'].id}", headers=_csrf(client))
    assert r.status_code == 200 and r.get_json()["changed"] is True and r.get_json()["mine"] is False
    assert client.delete(f"/api/v1/me/courses/{w['history'].id}", headers=_csrf(client)).get_json()["changed"] is False
    client.post("/auth/logout")
    assert client.post(f"/api/v1/me/courses/{w['history'].id}", headers=_csrf(client)).status_code == 401


def test_a_course_no_longer_published_leaves_my_courses(client, auth, w):
    auth.login("cm1")
    client.post(f"/api/v1/me/courses/{w['history'].id}", headers=_csrf(client))
    w["elective"].published = False
    _db.session.commit()
    assert _cards(client.get("/learn/mine").get_data(as_text=True)) == 0


def test_the_openapi_document_names_the_new_operations(client):
    ops = client.get("/api/v1/openapi.json").get_json()["paths"]["/me/courses/{course_id}"]
    assert {"post", "delete"} <= set(ops)
