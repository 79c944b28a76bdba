"""Readings saved for offline reading: the reader offers to save; the copy that is saved says that offline
reading earns no 学时 and carries no reading-time endpoint; the position read offline is sent to the usual
reading-position endpoint later, checked like any other."""
from __future__ import annotations

import re

import pytest

from elearn.readings import services as readings
from tests.readings.test_pages import PLAN


@pytest.fixture
def people(make_org, make_user):
    rural = make_org(sector="rural")
    return {"admin": make_user("admin1", role="site_admin", org=rural), "member": make_user("member1", org=rural),
            "lecturer": make_user("lect1", role="lecturer", org=rural),
            "outsider": make_user("outsider1", org=make_org(sector="community"))}


@pytest.fixture
def published_reading(db, people, make_course, publish):
    course = make_course(lecturer=people["lecturer"])
    reading = readings.upload(people["admin"], PLAN, "plan.txt", course=course)
    publish([course], sectors=["rural"])
    return reading


def test_the_reader_offers_saving_and_the_saved_copy_reports_no_reading_time(client, auth, published_reading):
    auth.login("member1")
    page = client.get(f"/readings/{published_reading.id}").get_data(as_text=True)
    assert 'id="offline-save"' in page and "保存以离线阅读" in page and "离线阅读不计学时" in page
    copy_url = re.search(r'data-copy-url="([^"]+)"', page).group(1)
    assert copy_url == f"/readings/{published_reading.id}/offline-copy"
    assert "data-progress-url" in page  # online, reading time is reported

    copy = client.get(copy_url)
    assert copy.status_code == 200
    html = copy.get_data(as_text=True)
    assert 'data-offline="true"' in html and "离线阅读不计学时" in html
    assert "data-progress-url" not in html and 'data-position-url=""' in html
    assert f'data-offline-position-url="/readings/{published_reading.id}/position"' in html
    # Nothing that needs a network: no find box, no note form, no save button.
    assert 'id="reading-find"' not in html and 'id="offline-save"' not in html and "/community/" not in html
    assert 'id="p-3"' in html and 'id="resume"' in html


def test_a_position_read_offline_is_synced_through_the_reading_position_endpoint(
        client, auth, people, published_reading):
    auth.login("member1")
    token = client.csrf_token()
    url = f"/readings/{published_reading.id}/position"
    ok = client.post(url, json={"paragraph": "p-3"}, headers={"X-CSRFToken": token})
    assert ok.status_code == 200 and readings.last_position(people["member"], published_reading) == "p-3"
    copy = client.get(f"/readings/{published_reading.id}/offline-copy").get_data(as_text=True)
    assert 'href="#p-3"' in copy  # the saved copy resumes where the member was
    for bad in ({"paragraph": "p-99999"}, {"paragraph": "../x"}, {"paragraph": 3}, {}):
        refused = client.post(url, json=bad, headers={"X-CSRFToken": token})
        assert refused.status_code in (400, 422) and refused.get_json()["error"]["message"], bad
    stale = client.post(url, json={"paragraph": "p-5"}, headers={"X-CSRFToken": "forged"})
    assert stale.status_code == 400 and stale.get_json()["error"]["code"] == "csrf"
    assert readings.last_position(people["member"], published_reading) == "p-3"


def test_an_offline_copy_is_only_for_those_who_may_read_it(client, auth, people, published_reading):
    url = f"/readings/{published_reading.id}/offline-copy"
    assert "/auth/login" in client.get(url).headers["Location"]
    auth.login("outsider1")
    assert client.get(url).status_code == 404
    assert client.get("/readings/987654/offline-copy").status_code == 404
