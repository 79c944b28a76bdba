"""The branch ranking: switched on per organisation by its admins (audited, bad input refused), seen by the
branch's own members only while on, by whoever runs the branch always, by nobody else (404)."""
import pytest
from sqlalchemy import select

from elearn.audit.models import AuditEntry
from elearn.branch import officers
from elearn.extensions import db
from elearn.ledger import services as ledger
from elearn.points.models import PointsRankingSetting
from elearn.policy import POINTS


@pytest.fixture
def town(make_org, make_user):
    county = make_org("县委")
    branch = make_org("东山村党支部", kind="branch", parent=county)
    other = make_org("西山村党支部", kind="branch", parent=county)
    admin = make_user("county_admin", org=county, role="org_admin")
    people = {name: make_user(name, org=branch, name=label)
              for name, label in (("wang", "王芳"), ("liqiang", "李强"), ("zhao", "赵书记"), ("sun", "孙敏"))}
    officers.appoint(admin, branch, people["zhao"], "secretary")
    return {"county": county, "branch": branch, "other": other, "admin": admin, **people,
            "outsider": make_user("outsider", org=other),
            "other_admin": make_user("other_admin", org=make_org("别的县委"), role="org_admin")}


def earn(user, *quiz_ids):
    for quiz_id in quiz_ids:
        ledger.credit(user, kind="quiz", source_kind="quiz", source_id=quiz_id, hours=0.1, title="测验",
                      category=None, innovative_theory=False)
    db.session.commit()


def status(client, auth, username, url):
    auth.login(username)
    code = client.get(url).status_code
    auth.logout()
    return code


def test_ranking_off_then_on_by_role_with_equal_ranks(client, auth, town):
    url = f"/points/organisations/{town['branch'].id}/ranking"
    earn(town["wang"], 1, 2)
    earn(town["liqiang"], 3, 4)
    earn(town["sun"], 5)
    # Off (nobody chose): the secretary and the admin over the branch see it, its members do not.
    assert {u: status(client, auth, u, url) for u in ("zhao", "county_admin", "wang", "outsider", "other_admin")} \
        == {"zhao": 200, "county_admin": 200, "wang": 404, "outsider": 404, "other_admin": 404}
    # The county's admin switches it on for the county: the branch follows its parent.
    auth.login("county_admin")
    r = client.post("/points/settings", data={"org_id": town["county"].id, "choice": "on"})
    assert r.status_code == 302
    auth.logout()
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "points.ranking")).scalar_one()
    assert entry.object_id == town["county"].id and entry.after == {"choice": "on"}
    auth.login("wang")
    page = client.get(url).get_data(as_text=True)
    both = 2 * POINTS.quiz + POINTS.daily_study
    # 王芳 and 李强 tie for 1st, 孙敏 is 3rd, the secretary without points 4th.
    assert page.index("王芳") < page.index("孙敏") < page.index("赵书记") and "李强" in page
    assert page.count("<td>1</td><td lang=\"zh-CN\">") == 2 and f"<td>{both}</td>" in page
    assert "<td>3</td><td lang=\"zh-CN\">孙敏" in page and "<td>4</td><td lang=\"zh-CN\">赵书记" in page
    me = client.get("/api/v1/me/points").get_json()["branch_rank"]
    assert me == {"organisation_id": town["branch"].id, "rank": 1, "members": 4}
    assert "东山村党支部积分排行" in client.get("/me/points").get_data(as_text=True)
    auth.logout()
    # Another branch's member still cannot see it, though their own branch follows the county too.
    assert status(client, auth, "outsider", url) == 404
    assert status(client, auth, "outsider", f"/points/organisations/{town['other'].id}/ranking") == 200
    # The branch itself switched off again: its members lose it, the secretary keeps it.
    auth.login("county_admin")
    client.post("/points/settings", data={"org_id": town["branch"].id, "choice": "off"})
    auth.logout()
    assert status(client, auth, "wang", url) == 404 and status(client, auth, "zhao", url) == 200


def test_the_setting_refuses_bad_input_and_wrong_roles_changing_nothing(client, auth, town):
    auth.login("county_admin")
    for data, message in (({"org_id": town["branch"].id, "choice": "maybe"}, "请选择开启、关闭或跟随上级"),
                          ({"org_id": town["branch"].id}, "请选择开启、关闭或跟随上级"),
                          ({"org_id": "abc", "choice": "on"}, "参数 org_id 无效"),
                          ({"choice": "on"}, "请求无效")):
        r = client.post("/points/settings", data=data)
        assert r.status_code == 400 and message in r.get_data(as_text=True), data
    auth.logout()
    # An admin of another subtree: the branch does not exist for them; a secretary or member may not set it.
    auth.login("other_admin")
    assert client.post("/points/settings", data={"org_id": town["branch"].id, "choice": "on"}).status_code == 404
    auth.logout()
    for who in ("zhao", "wang"):
        auth.login(who)
        assert client.get("/points/settings").status_code == 403
        assert client.post("/points/settings", data={"org_id": town["branch"].id, "choice": "on"}).status_code == 403
        auth.logout()
    assert db.session.execute(select(PointsRankingSetting)).first() is None
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "points.ranking")).first() is None
    # The admin's settings page lists the subtree with each organisation's state.
    auth.login("county_admin")
    page = client.get("/points/settings").get_data(as_text=True)
    assert "东山村党支部" in page and "西山村党支部" in page and "别的县委" not in page


def test_the_branch_dashboard_links_to_the_ranking_while_it_is_on(client, auth, town):
    dashboard, link = f"/branch/{town['branch'].id}", f'href="/points/organisations/{town["branch"].id}/ranking"'

    def secretary_sees_link():
        auth.login("zhao")
        page = client.get(dashboard)
        auth.logout()
        assert page.status_code == 200
        return link in page.get_data(as_text=True)

    assert not secretary_sees_link()  # nobody chose: off
    auth.login("county_admin")
    client.post("/points/settings", data={"org_id": town["county"].id, "choice": "on"})
    auth.logout()
    assert secretary_sees_link()  # the branch follows the county
    auth.login("county_admin")
    client.post("/points/settings", data={"org_id": town["branch"].id, "choice": "off"})
    auth.logout()
    assert not secretary_sees_link()  # its own choice holds
