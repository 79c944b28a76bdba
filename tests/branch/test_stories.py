"""学习身边榜样: org admins publish model stories to their subtree (narrowed by sector and category); only the
audience reads them; the photo is checked by content; the body is sanitised; reads are counted; unpublish."""
from __future__ import annotations

import io

import pytest

from elearn.audit.models import AuditEntry
from elearn.branch.story_models import ModelStory
from elearn.extensions import db
from elearn.storage import get_storage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
XSS = ('<script>alert(1)</script><p onclick="steal()">先进事迹</p>'
       '<a href="javascript:alert(2)">链接</a><img src=x onerror="alert(3)">**扎根基层**')


@pytest.fixture
def tree(app, make_org, make_user):
    town = make_org("镇党委", kind="committee", sector="rural")
    village = make_org("村支部", kind="branch", parent=town, sector="rural")
    school = make_org("学校支部", kind="branch", parent=town, sector="institution.education")
    elsewhere = make_org("外镇党委", kind="committee")
    return {"town": town, "admin": make_user("adm", role="org_admin", org=town),
            "villager": make_user("villager", org=village), "teacher": make_user("teacher", org=school),
            "cadre": make_user("cadre", org=village, category="cadre"),
            "outsider": make_user("outsider", org=elsewhere)}


def _publish(client, tree, photo=None, **extra):
    data = {"organisation_id": str(tree["town"].id), "title": "扎根乡村的好书记", "person_name": "王大山",
            "person_org": "村支部", "body": XSS, **extra}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo[1]), photo[0])
    return client.post("/models/new", data=data, content_type="multipart/form-data")


def test_a_story_reaches_its_audience_only_sanitised_and_counted(client, auth, tree):
    auth.login("adm")
    r = _publish(client, tree, photo=("wang.png", PNG), sectors=["rural"])
    assert r.status_code == 302, r.get_data(as_text=True)
    story = db.session.execute(db.select(ModelStory)).scalar_one()
    assert get_storage().exists(story.photo_key)
    auth.logout()

    auth.login("villager")
    assert "扎根乡村的好书记" in client.get("/models/").get_data(as_text=True)
    page = client.get(f"/models/{story.id}").get_data(as_text=True)
    body = page.split('<div class="prose">', 1)[1].split("</div>", 1)[0]
    assert "先进事迹" in body and "<strong>扎根基层</strong>" in body
    for bad in ("<script", "onclick", "javascript:", "onerror", "alert("):
        assert bad not in body
    photo = client.get(f"/models/{story.id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/png" and photo.get_data() == PNG
    photo.close()
    client.get(f"/models/{story.id}")  # a second reading counts once
    api = client.get("/api/v1/models").get_json()
    assert [s["id"] for s in api["items"]] == [story.id]
    assert "<script" not in client.get(f"/api/v1/models/{story.id}").get_json()["body_html"]
    auth.logout()

    for who in ("teacher", "outsider"):  # another sector of the subtree; outside the subtree
        auth.login(who)
        assert "扎根乡村的好书记" not in client.get("/models/").get_data(as_text=True)
        assert client.get(f"/models/{story.id}").status_code == 404
        assert client.get(f"/models/{story.id}/photo").status_code == 404
        assert client.get(f"/api/v1/models/{story.id}").status_code == 404
        auth.logout()

    auth.login("adm")
    manage = client.get("/models/manage").get_data(as_text=True)
    assert "扎根乡村的好书记" in manage and "<td>1</td>" in manage  # one reader
    client.post(f"/models/{story.id}/unpublish")
    auth.logout()
    auth.login("villager")
    assert client.get(f"/models/{story.id}").status_code == 404
    actions = [a for (a,) in db.session.execute(db.select(AuditEntry.action).where(
        AuditEntry.object_type == "model_story"))]
    assert actions == ["story.publish", "story.unpublish"]


def test_categories_narrow_the_audience(client, auth, tree):
    auth.login("adm")
    assert _publish(client, tree, categories=["cadre"]).status_code == 302
    auth.logout()
    auth.login("cadre")
    assert "扎根乡村的好书记" in client.get("/models/").get_data(as_text=True)
    auth.logout()
    auth.login("villager")
    assert "扎根乡村的好书记" not in client.get("/models/").get_data(as_text=True)


def test_a_fake_photo_is_refused_and_nothing_is_stored(client, auth, tree):
    auth.login("adm")
    r = _publish(client, tree, photo=("fake.jpg", b"<?php echo 'not an image'; ?>"))
    assert r.status_code == 400 and "照片必须是 JPEG 或 PNG 图片" in r.get_data(as_text=True)
    assert db.session.execute(db.select(ModelStory)).first() is None
    assert not get_storage().exists("stories")


def test_members_cannot_publish(client, auth, tree):
    auth.login("villager")
    assert _publish(client, tree).status_code == 403
    assert db.session.execute(db.select(ModelStory)).first() is None
