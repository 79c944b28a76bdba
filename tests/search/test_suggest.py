"""Title suggestions while typing: only what the user may open, folded matching, prefixes first."""
from pathlib import Path

import pytest

from elearn.auth import tokens
from elearn.readings import services as readings
from elearn.search import services as search
from elearn.search import suggest

PLAN = (Path(__file__).resolve().parent.parent / "data" / "plan-excerpt.txt").read_bytes()


@pytest.fixture
def shelf(people, make_course, publish):
    rural = make_course(title="乡村振兴与基层党建", lecturer=people["lecturer"])
    prefix = make_course(title="党建引领乡村治理", lecturer=people["lecturer"])
    city = make_course(title="城市社区党建工作")
    draft = make_course(title="党建草稿课程", lecturer=people["lecturer"], status="draft")
    reading = readings.upload(people["admin"], PLAN, "plan.txt", title="党建学习读本", course=rural)
    own = readings.upload(people["lecturer"], PLAN, "plan.txt", title="讲师自己的党建讲义")
    publish([rural, prefix], sectors=["rural"])
    publish([city], sectors=["community"])
    return {"rural": rural, "prefix": prefix, "city": city, "draft": draft, "reading": reading, "own": own}


def _titles(user, text):
    return [s.title for s in suggest.suggest(user, text)]


def test_member_is_offered_only_what_they_may_open_prefix_matches_first(people, shelf):
    found = suggest.suggest(people["member"], "党建")
    # Starting with the text first (the shorter title first among them), then containing it.
    assert [s.title for s in found] == ["党建学习读本", "党建引领乡村治理", "乡村振兴与基层党建"]
    assert [s.kind for s in found] == ["reading", "course", "course"]
    assert found[0].url == f"/readings/{shelf['reading'].id}"
    assert found[1].url == f"/learn/courses/{shelf['prefix'].id}"
    assert found[0].kind_label == "阅读材料" and found[1].kind_label == "课程"
    assert found[2].title_html == "乡村振兴与基层<mark>党建</mark>"
    assert _titles(people["outsider"], "党建") == ["城市社区党建工作"]


def test_lecturer_sees_own_drafts_and_uploads_admin_sees_everything(people, shelf):
    lecturer = _titles(people["lecturer"], "党建")
    assert "党建草稿课程" in lecturer and "讲师自己的党建讲义" in lecturer and "城市社区党建工作" not in lecturer
    assert "讲师自己的党建讲义" not in _titles(people["member"], "讲义")
    admin = _titles(people["admin"], "党建")
    assert set(admin) == {"党建引领乡村治理", "党建学习读本", "乡村振兴与基层党建", "城市社区党建工作", "党建草稿课程",
                          "讲师自己的党建讲义"}


def test_full_width_and_case_are_folded_and_the_title_keeps_its_spelling(people, make_course, publish):
    course = make_course(title="Python 与 <大数据> 分析")
    publish([course], sectors=["rural"])
    found = suggest.suggest(people["member"], "ｐｙｔｈＯＮ")
    assert [s.title for s in found] == ["Python 与 <大数据> 分析"]
    # The matched part keeps the title's own characters; the rest of the title is escaped.
    assert found[0].title_html == "<mark>Python</mark> 与 &lt;大数据&gt; 分析"
    assert _titles(people["member"], "<大数据>") == ["Python 与 <大数据> 分析"]


def test_at_most_eight_and_shorter_titles_first_among_equals(people, make_course, publish):
    courses = [make_course(title="学习" + "课" * n) for n in range(12, 0, -1)]
    publish(courses, sectors=["rural"])
    found = _titles(people["member"], "学习")
    assert len(found) == suggest.MAX_SUGGESTIONS == 8
    assert found == ["学习" + "课" * n for n in range(1, 9)]


def test_blank_or_unmatched_text_suggests_nothing(people, shelf):
    for text in ("", "   ", "\x00", "不存在的标题", "党" * 500):
        assert suggest.suggest(people["member"], text) == []


def test_a_course_is_suggested_the_moment_it_is_published_before_the_index_knows_it(
        people, make_course, publish, enqueued):
    course = make_course(title="新发布的形势政策课")
    assert _titles(people["member"], "形势政策") == []
    publish([course], sectors=["rural"])  # the index jobs are only recorded, not run
    assert _titles(people["member"], "形势政策") == ["新发布的形势政策课"]
    # whoosh learns of the course when its queued job runs; PostgreSQL's documents were written at the commit.
    assert search.search(people["member"], "形势政策").total == (1 if search.uses_database() else 0)


def _bearer(user):
    return {"Authorization": "Bearer " + tokens.issue(user, "test")}


def test_api_answers_titles_kinds_and_urls(client, people, shelf):
    response = client.get("/api/v1/search/suggest?q=党建", headers=_bearer(people["member"]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["query"] == "党建"
    assert [(s["kind"], s["title"]) for s in body["suggestions"]] == [
        ("reading", "党建学习读本"), ("course", "党建引领乡村治理"), ("course", "乡村振兴与基层党建")]
    assert body["suggestions"][1]["title_html"] == "<mark>党建</mark>引领乡村治理"
    assert body["suggestions"][0]["url"] == f"/readings/{shelf['reading'].id}"


def test_api_session_cookie_works_and_anonymous_is_401(client, auth, people, shelf):
    anonymous = client.get("/api/v1/search/suggest?q=党建")
    assert anonymous.status_code == 401 and anonymous.get_json()["error"]["code"] == "unauthorized"
    auth.login("outsider1")
    assert [s["title"] for s in client.get("/api/v1/search/suggest?q=党建").get_json()["suggestions"]] == [
        "城市社区党建工作"]


@pytest.mark.parametrize("query", ["", "?q=", "?q=%20%20", "?q=AND%20%22",
                                   "?q=%ED%A0%80", "?q=党建&extra=1"])
def test_api_odd_input_is_an_answer_not_an_error(client, people, shelf, query):
    response = client.get("/api/v1/search/suggest" + query, headers=_bearer(people["member"]))
    assert response.status_code == 200
    assert isinstance(response.get_json()["suggestions"], list)


def test_api_over_long_text_is_a_json_400(client, people, shelf):
    response = client.get("/api/v1/search/suggest?q=" + "党" * 201, headers=_bearer(people["member"]))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_query"


@pytest.mark.parametrize("query", ["?q=%00", "?q=%00%E5%85%9A", "?q=%1b"])
def test_api_control_characters_are_a_json_400(client, people, shelf, query):
    response = client.get("/api/v1/search/suggest" + query, headers=_bearer(people["member"]))
    assert response.status_code == 400 and response.get_json()["error"]["message"]


def test_openapi_describes_suggest(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/search/suggest"]["get"]
    assert operation["operationId"] == "suggestTitles"
    assert {p["name"] for p in operation["parameters"]} == {"q"}
    assert {"Suggestions", "Suggestion"} <= set(spec["components"]["schemas"])


def test_search_page_offers_an_accessible_combobox(client, auth, people, shelf):
    auth.login("member1")
    html = client.get("/search/").get_data(as_text=True)
    assert 'role="combobox"' in html and 'aria-expanded="false"' in html and 'aria-autocomplete="list"' in html
    assert 'role="listbox"' in html and 'data-suggest-url="/api/v1/search/suggest"' in html
    assert "js/search-suggest.js" in html


def test_traditional_input_finds_simplified_titles(people, shelf):
    found = suggest.suggest(people["member"], "黨建")
    assert [s.title for s in found] == ["党建学习读本", "党建引领乡村治理", "乡村振兴与基层党建"]
    assert found[0].title_html == "<mark>党建</mark>学习读本"  # the title's own characters are marked


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True}

    def test_suggestions_are_limited_per_user_on_a_budget_of_their_own(self, client, people, shelf):
        from elearn import policy
        allowed = int(policy.SEARCH_LIMIT_PER_USER.split(" per minute")[0])
        headers = _bearer(people["member"])
        for _ in range(allowed):
            assert client.get("/api/v1/search/suggest?q=党建", headers=headers).status_code == 200
        refused = client.get("/api/v1/search/suggest?q=党建", headers=headers)
        assert refused.status_code == 429 and refused.get_json()["error"]["code"]
        # Typing used up the suggestions, not the searches; another member still gets suggestions.
        assert client.get("/api/v1/search?q=党建", headers=headers).status_code == 200
        assert client.get("/api/v1/search/suggest?q=党建", headers=_bearer(people["outsider"])).status_code == 200


def test_suggesting_costs_the_same_few_queries_however_many_titles(people, shelf, make_course, publish,
                                                                   count_queries):
    suggest.suggest(people["member"], "党建")  # warm: the user row and its organisation are loaded once
    with count_queries() as few:
        suggest.suggest(people["member"], "党建")
    publish([make_course(title=f"党建课程{i}") for i in range(30)], sectors=["rural"])
    suggest.suggest(people["member"], "党建")  # warm again: committing expired the loaded rows
    with count_queries() as many:
        assert len(suggest.suggest(people["member"], "党建")) == suggest.MAX_SUGGESTIONS
    assert many[0] == few[0] <= 3
