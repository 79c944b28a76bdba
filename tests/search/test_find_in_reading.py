"""Finding in the open reading: the reader's visibility, the site search's marks, reading order, no 500."""
import re
from pathlib import Path

import pytest

from elearn.auth import tokens
from elearn.readings import services as readings
from elearn.search import suggest

PLAN = (Path(__file__).resolve().parent.parent / "data" / "plan-excerpt.txt").read_bytes()


@pytest.fixture
def reading(people, make_course, publish):
    course = make_course(lecturer=people["lecturer"])
    reading = readings.upload(people["admin"], PLAN, "plan.txt", course=course)
    publish([course], sectors=["rural"])
    return reading


def _bearer(user):
    return {"Authorization": "Bearer " + tokens.issue(user, "test")}


def _find(client, reading, user, query):
    return client.get(f"/api/v1/readings/{reading.id}/find", query_string={"q": query}, headers=_bearer(user))


def _marked_on_the_page(html: str) -> list[tuple[str, str]]:
    """(id, inner HTML) of the reader page's paragraphs and headings that hold a <mark>, in page order."""
    return [(m.group(2), m.group(3)) for m in re.finditer(r'<(p|h[234]) id="([ps]-\d+)">(.*?)</\1>', html)
            if "<mark>" in m.group(3)]


def test_finds_the_paragraphs_the_reader_page_marks_in_reading_order(client, auth, people, reading):
    body = _find(client, reading, people["member"], "三会一课").get_json()
    assert body["query"] == "三会一课" and body["reading_id"] == reading.id
    found = [(p["id"], p["html"]) for p in body["paragraphs"]]
    assert found and all("<mark>三会一课</mark>" in html for _id, html in found)
    auth.login("member1")
    page = client.get(f"/readings/{reading.id}?q=三会一课").get_data(as_text=True)
    # The same places, marked the same way, as the page reloaded with ?q=.
    assert found == _marked_on_the_page(page)
    ids = [int(i.split("-")[1]) for i, _html in found if i.startswith("p-")]
    assert ids == sorted(ids)
    assert body["count"] == sum(html.count("<mark>") for _id, html in found) >= len(found)


def test_headings_are_found_too_and_counted_by_place(people, reading):
    found = suggest.find_in_reading(reading, "总体要求")
    assert dict(found.matches)["s-1"] == "一、<mark>总体要求</mark>"
    several = suggest.find_in_reading(reading, "党员 教育")
    assert several.count > len(several.matches)  # a paragraph holds several places


def test_width_and_case_fold_like_the_site_search(people, reading):
    # "２０２８" in full-width digits finds the half-width ones of the text.
    assert suggest.find_in_reading(reading, "２０２８").count == suggest.find_in_reading(reading, "2028").count > 0


def test_visibility_is_the_readers(client, people, reading):
    outsider = _find(client, reading, people["outsider"], "党员")
    assert outsider.status_code == 404 and outsider.get_json()["error"]["code"] == "not_found"
    assert _find(client, reading, people["admin"], "党员").status_code == 200
    missing = client.get("/api/v1/readings/999999/find?q=党员", headers=_bearer(people["member"]))
    assert missing.status_code == 404
    anonymous = client.get(f"/api/v1/readings/{reading.id}/find?q=党员")
    assert anonymous.status_code == 401


@pytest.mark.parametrize("query", ["", "   ", "AND \"", "不在本文中的词语", "((", "-党员"])
def test_blank_invalid_or_absent_finds_nothing_without_an_error(client, people, reading, query):
    response = _find(client, reading, people["member"], query)
    assert response.status_code == 200
    body = response.get_json()
    assert body["count"] == 0 and body["paragraphs"] == []


@pytest.mark.parametrize("query", ["党" * 201, "\x00党员", "党\x1b员"])
def test_over_long_or_control_characters_are_a_json_400(client, people, reading, query):
    response = _find(client, reading, people["member"], query)
    assert response.status_code == 400 and response.get_json()["error"]["message"]


def test_huge_reading_id_is_a_404_not_a_500(client, people, reading):
    response = client.get("/api/v1/readings/99999999999999999999/find?q=党员", headers=_bearer(people["member"]))
    assert response.status_code == 404


def test_openapi_describes_find(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/readings/{reading_id}/find"]["get"]
    assert operation["operationId"] == "findInReading"
    assert {p["name"] for p in operation["parameters"]} == {"reading_id", "q"}
    assert "404" in operation["responses"] and "FoundInReading" in spec["components"]["schemas"]


def test_reader_page_has_a_find_form_that_works_without_scripts(client, auth, people, reading):
    auth.login("member1")
    html = client.get(f"/readings/{reading.id}?q=三会一课").get_data(as_text=True)
    form = re.search(r'<form method="get" action="/readings/%d" class="reading-find"[^>]*>' % reading.id, html)
    assert form and f'data-find-url="/api/v1/readings/{reading.id}/find"' in form.group(0)
    assert 'aria-label="在本文中查找"' in form.group(0)
    assert re.search(r'<input id="find-q" name="q" type="search" value="三会一课"', html)
    assert "js/reading-find.js" in html and "第 {n} / 共 {m} 处" in html


def test_traditional_input_finds_the_simplified_text(people, reading):
    simplified = suggest.find_in_reading(reading, "党员教育")
    traditional = suggest.find_in_reading(reading, "黨員教育")
    assert traditional.count == simplified.count > 0
    assert traditional.matches == simplified.matches  # the text's own characters are marked


def test_the_find_bar_and_the_suggestions_speak_english_too(client, auth, people, reading):
    auth.login("member1")
    client.post("/auth/locale/en", data={"next": "/"})
    page = client.get(f"/readings/{reading.id}").get_data(as_text=True)
    assert 'aria-label="Find in this text"' in page and 'data-msg-count="{n} of {m}"' in page
    assert 'aria-label="Next match"' in page and 'aria-label="Close find"' in page
    search = client.get("/search/").get_data(as_text=True)
    assert 'aria-label="Title suggestions"' in search and "{n} suggestions" in search
