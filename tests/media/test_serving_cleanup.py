"""The media route and the media sweep: a replaced video plays on through the grace period, then its files
answer 404 (never 500), even when they vanish while a request is being answered."""
import pytest

from elearn.media import services as media
from elearn.storage import get_storage
from tests.media.helpers import age, make_asset

PS = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.fixture
def setup(make_org, make_user, make_course, make_lesson, publish):
    branch = make_org("东村支部", kind="branch", parent=make_org("镇党委"))
    course = make_course(title="党史课", lecturer=make_user("lect", role="lecturer"), status="approved")
    lesson = make_lesson(course=course, title="第一讲")
    publish([course], orgs=[(branch, True)])
    make_user("member1", org=branch)
    old = make_asset(lesson, "ready", current=True)
    new = make_asset(lesson, "ready", current=True)
    return {"lesson": lesson, "old": old, "new": new}


def fetch(client, url):
    """GET and read the whole body, so that streamed files are closed (ResourceWarning is an error here)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def url(asset, name):
    return f"/learn/media/{asset.id}/{name}?ps={PS}"


def test_replaced_video_plays_through_the_grace_period_then_answers_404(client, auth, setup):
    old, new = setup["old"], setup["new"]
    auth.login("member1")
    age(old, hours=30 * 24)
    age(new, hours=1)
    media.remove_unused_asset_files()
    # A member who opened the lesson before the switch keeps watching the old version.
    assert fetch(client, url(old, "master.m3u8")).status_code == 200
    assert fetch(client, url(old, "360p/seg_00000.ts")).status_code == 200

    age(new, hours=25)
    assert media.remove_unused_asset_files() == [old.id]
    for name in ("master.m3u8", "360p/index.m3u8", "360p/seg_00000.ts", "poster.jpg", "storyboard.vtt"):
        assert fetch(client, url(old, name)).status_code == 404, name
    assert fetch(client, url(new, "master.m3u8")).status_code == 200
    assert fetch(client, url(new, "360p/seg_00000.ts")).status_code == 200


@pytest.mark.parametrize("name", ["master.m3u8", "360p/seg_00000.ts", "poster.jpg"])
def test_files_removed_while_a_request_is_answered_give_404(client, auth, setup, monkeypatch, name):
    old = setup["old"]
    checked = media.media_file

    def sweep_runs_right_after_the_check(user, asset_id, filename):
        file = checked(user, asset_id, filename)
        get_storage().delete(f"media/{asset_id}")
        return file

    monkeypatch.setattr(media, "media_file", sweep_runs_right_after_the_check)
    auth.login("member1")
    assert fetch(client, url(old, name)).status_code == 404
