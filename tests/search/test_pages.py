import re
from pathlib import Path

import pytest

from elearn.readings import services as readings

PLAN = (Path(__file__).resolve().parent.parent / "data" / "plan-excerpt.txt").read_bytes()


@pytest.fixture
def setup(db, make_org, make_user, make_course, publish):
    rural = make_org(sector="rural")
    city = make_org(sector="community")
    admin = make_user("admin1", role="site_admin", org=rural)
    make_user("member1", org=rural)
    make_user("outsider1", org=city)
    course = make_course(title="乡村振兴课程")
    reading = readings.upload(admin, PLAN, "plan.txt", course=course)
    publish([course], sectors=["rural"], title="农村专题")
    return reading


def test_search_page_shows_marked_results_linking_to_paragraphs(client, auth, setup):
    auth.login("member1")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/search/"' in home  # in the navigation for everyone signed in
    html = client.get("/search/?q=%22三会一课%22").get_data(as_text=True)
    assert "<mark>三会一课</mark>" in html and "阅读材料" in html
    link = re.search(r'href="(/readings/%d\?q=[^"#]+#(p-\d+))"' % setup.id, html)
    assert link
    reader = client.get(link.group(1).replace("&amp;", "&").split("#")[0]).get_data(as_text=True)
    assert re.search(rf'<p id="{link.group(2)}">[^\n]*<mark>三会一课</mark>', reader)


def test_search_page_hides_what_the_member_may_not_see(client, auth, setup):
    auth.login("outsider1")
    html = client.get("/search/?q=%22三会一课%22").get_data(as_text=True)
    assert "<mark>" not in html and "没有找到相关内容" in html


def test_bad_query_is_a_clear_400_not_a_crash(client, auth, setup):
    auth.login("member1")
    response = client.get("/search/?q=AND%20%22")
    assert response.status_code == 400 and "无法理解这个搜索" in response.get_data(as_text=True)
    assert client.get("/search/?q=党员&kind=video").status_code == 400
    assert client.get("/search/?q=党员&page=0").status_code == 400
    assert client.get("/search/").status_code == 200


def test_filters_and_pagination(client, auth, setup, monkeypatch):
    from elearn import policy
    monkeypatch.setattr(policy, "SEARCH_PAGE_SIZE", 1)
    auth.login("admin1")
    html = client.get("/search/?q=党员&kind=reading").get_data(as_text=True)
    assert "农村专题" in html  # the series filter offers published series
    pages = int(re.search(r"<span>1 / (\d+)</span>", html).group(1))
    assert html.count('class="snippet"') == 1 and "下一页" in html and pages >= 2
    second = client.get("/search/?q=党员&kind=reading&page=2").get_data(as_text=True)
    assert "上一页" in second and f"2 / {pages}" in second
    none = client.get("/search/?q=党员&kind=subtitle").get_data(as_text=True)
    assert "没有找到相关内容" in none


def test_search_requires_login(client):
    assert client.get("/search/?q=党员").status_code == 302
