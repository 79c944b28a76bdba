"""Phone numbers and e-mail addresses on the member form (/admin/members/new and a member's page): saved in
one form, refused with a message (and nothing saved) when they are not numbers or addresses."""
import pytest
from sqlalchemy import select

from elearn.extensions import db
from elearn.orgs.models import User


@pytest.fixture
def setup(make_org, make_user):
    town = make_org("镇党委")
    east = make_org("东村支部", kind="branch", parent=town)
    return {"town": town, "east": east, "townadmin": make_user("townadmin", org=town, role="org_admin"),
            "member": make_user("member1", org=east, name="东村党员")}


def new_member(client, setup, **fields):
    data = {"username": "newbie", "name": "新党员", "organisation_id": setup["east"].id, "role": "member",
            "category": "member", "password": "Init1alpass", **fields}
    return client.post("/admin/members/new", data=data)


def saved(username="newbie"):
    return db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def test_new_member_with_an_email_address_is_saved(client, auth, setup):
    """Any address was a 500: the form's e-mail check needs email-validator, which was not installed."""
    auth.login("townadmin")
    r = new_member(client, setup, email="li.si@example.com", phone="138 0013 8000")
    assert r.status_code == 302
    user = saved()
    assert user.email == "li.si@example.com" and user.phone == "13800138000"


@pytest.mark.parametrize("fields, message", [
    ({"email": "li.si@"}, "电子邮箱“li.si@”格式不正确"),
    ({"email": "a" * 190 + "@example.com"}, "电子邮箱"),
    ({"phone": "12345"}, "手机号“12345”格式不正确"),
    ({"phone": "138²0013800"}, "格式不正确"),
])
def test_new_member_with_a_bad_address_or_number_is_refused(client, auth, setup, fields, message):
    auth.login("townadmin")
    r = new_member(client, setup, **fields)
    assert r.status_code == 400 and message in r.get_data(as_text=True)
    assert saved() is None


def test_editing_a_member_checks_the_address_too(client, auth, setup):
    auth.login("townadmin")
    m = setup["member"]
    fields = {"name": "东村党员", "role": "member", "category": "member"}
    r = client.post(f"/admin/members/{m.id}", data={**fields, "email": "not an address"})
    assert r.status_code == 400 and "格式不正确" in r.get_data(as_text=True)
    r = client.post(f"/admin/members/{m.id}", data={**fields, "email": "Dong@Example.ORG", "phone": "＋86 13900139000"})
    assert r.status_code == 302
    db.session.expire_all()
    user = saved("member1")
    assert user.email == "Dong@example.org" and user.phone == "13900139000"
