import re

import pytest
from sqlalchemy import func, select

from elearn.extensions import db
from elearn.media.models import MediaAsset
from elearn.storage import get_storage

MASTER = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="zh-CN",NAME="中文",DEFAULT=NO,AUTOSELECT=YES,URI="subs_zh-CN.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=800000,AVERAGE-BANDWIDTH=700000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",SUBTITLES="subs"
360p/index.m3u8
"""
MEDIA = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:6
#EXT-X-PLAYLIST-TYPE:VOD
#EXTINF:6.000000,
seg_00000.ts
#EXTINF:4.000000,
seg_00001.ts
#EXT-X-ENDLIST
"""
SEGMENT = bytes(range(256)) * 8
PS = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.fixture
def setup(make_org, make_user, make_course, make_lesson, publish):
    branch = make_org("东村支部", kind="branch", parent=make_org("镇党委"))
    elsewhere = make_org("街道", sector="community")
    lecturer = make_user("lect", role="lecturer")
    course = make_course(title="党史课", lecturer=lecturer, status="approved")
    lesson = make_lesson(course=course, title="第一讲")
    publish([course], orgs=[(branch, True)])
    asset = MediaAsset(lesson_id=lesson.id, uploaded_by_id=lecturer.id, status="ready", progress=1.0,
                       duration_s=10.0, segment_seconds=6.0)
    db.session.add(asset)
    db.session.flush()
    asset.output_key = f"media/{asset.id}"
    asset.renditions = [{"name": "360p", "playlist": "360p/index.m3u8", "width": 640, "height": 360,
                         "bandwidth": 800000, "codecs": "avc1.64001e,mp4a.40.2",
                         "segments": [["seg_00000.ts", 0.0, 6.0], ["seg_00001.ts", 6.0, 10.0]]}]
    lesson.asset_id = asset.id
    db.session.commit()
    root = get_storage().path(asset.output_key)
    (root / "360p").mkdir(parents=True)
    (root / "master.m3u8").write_text(MASTER)
    (root / "360p" / "index.m3u8").write_text(MEDIA)
    (root / "360p" / "seg_00000.ts").write_bytes(SEGMENT)
    (root / "360p" / "seg_00001.ts").write_bytes(SEGMENT)
    (root / "poster.jpg").write_bytes(b"\xff\xd8\xff\xe0 jpeg")
    (root / "storyboard.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:10.000\nsprite_000.jpg#xywh=0,0,160,90\n")
    (root / "notes.txt").write_text("not media")
    (root.parent / f".{asset.id}.partial-abc").mkdir()
    (root.parent / f".{asset.id}.partial-abc" / "master.m3u8").write_text(MASTER)
    make_user("member1", org=branch)
    make_user("outsider", org=elsewhere)
    make_user("other_lect", role="lecturer", org=elsewhere)
    return {"course": course, "lesson": lesson, "asset": asset}


def fetch(client, url, **kwargs):
    """GET and read the whole body, so that streamed files are closed (ResourceWarning is an error here)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def _url(setup, name, ps=PS):
    return f"/learn/media/{setup['asset'].id}/{name}" + (f"?ps={ps}" if ps else "")


def test_member_gets_playlists_with_the_playback_session_on_every_uri(client, auth, setup):
    auth.login("member1")
    r = fetch(client, _url(setup, "master.m3u8"))
    assert r.status_code == 200 and r.mimetype == "application/vnd.apple.mpegurl"
    text = r.get_data(as_text=True)
    assert f"360p/index.m3u8?ps={PS}" in text and f'URI="subs_zh-CN.m3u8?ps={PS}"' in text
    assert "no-cache" in r.headers["Cache-Control"] and "private" in r.headers["Cache-Control"]
    media = fetch(client, _url(setup, "360p/index.m3u8")).get_data(as_text=True)
    assert f"seg_00000.ts?ps={PS}" in media and f"seg_00001.ts?ps={PS}" in media
    # A malformed session id is dropped, not echoed into the playlist.
    text = fetch(client, _url(setup, "master.m3u8", ps="<script>")).get_data(as_text=True)
    assert "?ps=" not in text and "<script>" not in text


def test_mime_types_range_and_caching(client, auth, setup):
    auth.login("member1")
    r = fetch(client, _url(setup, "360p/seg_00000.ts"))
    assert r.status_code == 200 and r.mimetype == "video/mp2t" and r.data == SEGMENT
    assert r.headers["Cache-Control"].startswith("private") and "public" not in r.headers["Cache-Control"]
    assert r.headers["Accept-Ranges"] == "bytes"
    r = fetch(client, _url(setup, "360p/seg_00000.ts"), headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.data == SEGMENT[10:20]
    assert r.headers["Content-Range"] == f"bytes 10-19/{len(SEGMENT)}"
    assert fetch(client, _url(setup, "poster.jpg")).mimetype == "image/jpeg"
    assert fetch(client, _url(setup, "storyboard.vtt")).mimetype == "text/vtt"


def test_no_access_outside_the_audience(client, auth, setup):
    r = fetch(client, _url(setup, "master.m3u8"))
    assert r.status_code == 401
    auth.login("outsider")
    for name in ("master.m3u8", "360p/seg_00000.ts", "poster.jpg"):
        assert fetch(client, _url(setup, name)).status_code == 404
    auth.logout()
    auth.login("other_lect")
    assert fetch(client, _url(setup, "master.m3u8")).status_code == 404


def test_owner_and_unpublished_course(client, auth, setup):
    auth.login("lect")
    assert fetch(client, _url(setup, "master.m3u8")).status_code == 200


@pytest.mark.parametrize("name", [
    "../1/master.m3u8", "360p/../../master.m3u8", "%2e%2e/%2e%2e/secret_key", "..%2fmaster.m3u8",
    "notes.txt", "360p/seg_99999.ts", "/etc/passwd", ".hidden.m3u8", "360p/.seg.ts", "360p\\seg_00000.ts",
])
def test_path_traversal_and_unknown_files_are_not_found(client, auth, setup, name):
    auth.login("member1")
    assert fetch(client, f"/learn/media/{setup['asset'].id}/{name}", follow_redirects=True).status_code == 404


def test_partial_output_and_assets_not_ready_are_not_served(client, auth, setup):
    auth.login("member1")
    asset = setup["asset"]
    assert fetch(client, f"/learn/media/{asset.id}/../.{asset.id}.partial-abc/master.m3u8").status_code == 404
    asset.status = "transcoding"
    db.session.commit()
    assert fetch(client, _url(setup, "master.m3u8")).status_code == 404
    assert fetch(client, "/learn/media/999999/master.m3u8").status_code == 404


def test_x_accel_redirect_mode(app, client, auth, setup):
    app.config["ELEARN_X_ACCEL"] = True
    auth.login("member1")
    r = fetch(client, _url(setup, "360p/seg_00001.ts"))
    assert r.status_code == 200 and r.data == b""
    assert r.headers["X-Accel-Redirect"] == f"/protected-media/media/{setup['asset'].id}/360p/seg_00001.ts"
    assert r.mimetype == "video/mp2t"
    # Playlists are rewritten per playback, so the app sends them itself.
    r = fetch(client, _url(setup, "master.m3u8"))
    assert "X-Accel-Redirect" not in r.headers and b"#EXTM3U" in r.data


def _deliveries():
    from elearn.study.models import SegmentDelivery
    return db.session.execute(select(SegmentDelivery.segment_index, SegmentDelivery.start_s,
                                     SegmentDelivery.end_s)).all()


def test_only_a_whole_segment_sent_is_evidence(client, auth, setup):
    """A 1-byte Range request, HEAD, a 304 revalidation and a download dropped midway record nothing; the
    whole segment, sent to its last byte, records one delivery however often it is fetched."""
    auth.login("member1")
    url = _url(setup, "360p/seg_00001.ts")
    assert fetch(client, url, headers={"Range": "bytes=0-0"}).status_code == 206
    head = client.head(url)
    head.close()
    assert head.status_code == 200
    etag = fetch(client, _url(setup, "360p/seg_00001.ts", ps="aaaaaaaa-warm")).headers["ETag"]
    db.session.rollback()
    assert fetch(client, url, headers={"If-None-Match": etag}).status_code == 304
    dropped = client.get(url, buffered=False)
    next(iter(dropped.response))  # the first chunk arrives, then the client goes away
    dropped.close()
    fetch(client, _url(setup, "poster.jpg"))
    fetch(client, _url(setup, "master.m3u8"))
    from elearn.study.models import SegmentDelivery
    assert db.session.scalar(select(func.count()).select_from(SegmentDelivery).where(
        SegmentDelivery.session_id == PS)) == 0
    for _ in range(2):
        assert fetch(client, url).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(SegmentDelivery).where(
        SegmentDelivery.session_id == PS)) == 1
    assert (1, 6.0, 10.0) in _deliveries()


def test_player_page(app, client, auth, setup):
    app.config["ELEARN_MAX_PLAYBACK_RATE"] = 1.5
    auth.login("member1")
    r = fetch(client, f"/learn/lessons/{setup['lesson'].id}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    ps = re.search(r'data-playback-session="([^"]+)"', page).group(1)
    assert re.fullmatch(r"[0-9a-f-]{36}", ps)
    assert f"/learn/media/{setup['asset'].id}/master.m3u8?ps={ps}" in page
    assert 'data-rates="0.75,1.0,1.25,1.5"' in page
    assert "vendor/hls.min.js" in page and "js/player.js" in page
    assert "<script>" not in page  # CSP: no inline scripts
    assert 'data-resume-position="0.0"' in page
    assert fetch(client, f"/learn/lessons/{setup['lesson'].id}").get_data(as_text=True).count(ps) == 0


def test_player_page_resumes_from_the_saved_position(client, auth, setup, monkeypatch):
    from elearn.study import services as study
    real = study.lesson_progress
    monkeypatch.setattr(study, "lesson_progress",
                        lambda user, lesson: real(user, lesson).__class__(**{
                            **real(user, lesson).__dict__, "position": 123.5}))
    auth.login("member1")
    page = fetch(client, f"/learn/lessons/{setup['lesson'].id}").get_data(as_text=True)
    assert 'data-resume-position="123.5"' in page


def test_course_and_lesson_pages_are_for_the_audience(client, auth, setup):
    auth.login("outsider")
    assert fetch(client, f"/learn/courses/{setup['course'].id}").status_code == 404
    assert fetch(client, f"/learn/lessons/{setup['lesson'].id}").status_code == 404
    auth.logout()
    auth.login("member1")
    page = fetch(client, f"/learn/courses/{setup['course'].id}").get_data(as_text=True)
    assert "第一讲" in page and "0:10" in page and f"/learn/lessons/{setup['lesson'].id}" in page
    assert fetch(client, "/learn/courses/999999").status_code == 404


def test_lesson_without_ready_video_says_so(client, auth, setup, make_lesson):
    waiting = make_lesson(course=setup["course"], title="第二讲")
    auth.login("member1")
    page = fetch(client, f"/learn/lessons/{waiting.id}").get_data(as_text=True)
    assert "尚未准备好" in page and "player.js" not in page
