"""A member plays a real encrypted lesson through nginx (deploy/nginx/elearn.conf) in front of gunicorn (the web
unit's command line, ELEARN_X_ACCEL=1): the segments come from nginx straight from the data folder, public and
immutable; the playlists and keys come from the app, and each key sent is recorded as evidence; files the app
decides to send (a poster, the clear segments of an asset from before encryption) go out through nginx's
internal /protected-media/ with the app's headers."""
from __future__ import annotations

import http.client
import shutil
import urllib.parse
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from elearn.extensions import db
from elearn.media.models import MediaAsset
from elearn.orgs import members as users
from elearn.study.models import SegmentDelivery
from media_pipeline.encrypt import decrypt_bytes, segment_iv
from tests.media.clips import make_clip, needs_ffmpeg
from tests.reliability import seed
from tests.reliability.live import Browser, media_urls
from tests.stack.stack import ROOT

pytestmark = [pytest.mark.stack, pytest.mark.slow, needs_ffmpeg]
IMMUTABLE = "public, max-age=31536000, immutable"
CLEAR_SEGMENTS = [bytes([0x47, i]) * 400 for i in range(2)]


def _anonymous(port: int, path: str, method: str = "GET", body: bytes | None = None,
               headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _clear_asset(lesson, data: Path) -> MediaAsset:
    """A ready asset transcoded before encryption (its segments in the clear, no secret)."""
    asset = MediaAsset(lesson_id=lesson.id, uploaded_by_id=lesson.course.lecturer_id, status="ready", progress=1.0,
                       duration_s=12.0, segment_seconds=6.0)
    db.session.add(asset)
    db.session.flush()
    asset.output_key = f"media/{asset.id}"
    asset.renditions = [{"name": "360p", "playlist": "360p/index.m3u8", "width": 640, "height": 360,
                         "bandwidth": 800000, "codecs": "avc1.64001e",
                         "segments": [[f"seg_{i:05d}.ts", i * 6.0, (i + 1) * 6.0] for i in range(2)]}]
    root = data / asset.output_key / "360p"
    root.mkdir(parents=True)
    for i, chunk in enumerate(CLEAR_SEGMENTS):
        (root / f"seg_{i:05d}.ts").write_bytes(chunk)
    lesson.asset_id = asset.id
    db.session.commit()
    return asset


def _converted_copy(asset: MediaAsset, data: Path) -> MediaAsset:
    """An asset laid out as `elearn media encrypt` leaves one it converted: its files in media/<id>-e<n>/."""
    copy = MediaAsset(lesson_id=asset.lesson_id, uploaded_by_id=asset.uploaded_by_id, status="ready", progress=1.0,
                      duration_s=asset.duration_s, segment_seconds=asset.segment_seconds, renditions=asset.renditions,
                      key_secret=asset.key_secret)
    db.session.add(copy)
    db.session.flush()
    copy.output_key = f"media/{copy.id}-e1"
    shutil.copytree(data / asset.output_key, data / copy.output_key)
    db.session.commit()
    return copy


@pytest.fixture(scope="module")
def site(make_stack, redis_urls, postgres_url, tmp_path_factory):
    stack = make_stack(database_url=postgres_url, queue_url=redis_urls[0], redis_url=redis_urls[1],
                       WEB_CONCURRENCY="1", ELEARN_MAX_REQUEST_MB="2")
    stack.init_db()
    clip = make_clip(tmp_path_factory.mktemp("clip") / "lesson.mp4", seconds=4).read_bytes()
    app = stack.app(immediate=True)  # the project's pipeline, run inline here: a real encrypted asset
    with app.app_context():
        org, lecturer = seed.organisation_and_lecturer()
        member = users.create(None, username="member0", name="党员", password=seed.PASSWORD, organisation=org)
        course = seed.published_course(lecturer, lessons=2)
        asset = seed.transcoded_asset(lecturer, course.lessons[0], clip)
        assert asset.key_secret
        clear = _clear_asset(course.lessons[1], stack.data)
        converted = _converted_copy(asset, stack.data)
        ids = {"member": member.username, "asset": asset.id, "output": asset.output_key, "clear": clear.id,
               "converted": converted.id}
        db.session.remove()
    [node] = stack.start_web("web1")
    nginx = stack.start_nginx([node])
    yield stack, app, node, nginx, ids
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _deliveries(app, ps: str) -> list[tuple[str, int]]:
    with app.app_context():
        rows = db.session.execute(select(SegmentDelivery.rendition, SegmentDelivery.segment_index)
                                  .where(SegmentDelivery.session_id == ps)
                                  .order_by(SegmentDelivery.rendition, SegmentDelivery.segment_index)).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def _media_playlist(tab, url: str) -> tuple[int, dict, list[str], list[str]]:
    """A media playlist as the member's player gets it: status, headers, its key URLs and its segment URLs."""
    status, headers, playlist = tab.get(url)
    uris = media_urls(playlist.decode(), url)
    return (status, headers, [u for u in uris if "/keys/" in u],
            [u for u in uris if u.split("?")[0].endswith(".ts")])


def test_segments_from_nginx_playlists_and_keys_from_the_app(site):
    stack, app, node, nginx, ids = site
    tab = Browser(nginx.port)
    tab.login(ids["member"], seed.PASSWORD)
    ps = str(uuid.uuid4())
    master_url = f"/learn/media/{ids['asset']}/master.m3u8?ps={ps}"
    status, headers, master = tab.get(master_url)
    assert status == 200 and headers["cache-control"] == "private, no-cache"
    variant = next(u for u in media_urls(master.decode(), master_url) if u.split("?")[0].endswith(".m3u8"))
    status, headers, keys, segments = _media_playlist(tab, variant)
    assert status == 200 and headers["cache-control"] == "private, no-cache"
    assert keys and len(keys) == len(segments)

    for i, (key_url, segment_url) in enumerate(zip(keys, segments, strict=True)):
        # The segment: sent by nginx to anyone, without a session, from the data folder.
        status, headers, body = _anonymous(nginx.port, segment_url)
        assert status == 200 and headers["cache-control"] == IMMUTABLE
        assert headers["content-type"] == "video/mp2t"
        assert "content-security-policy" not in headers  # every answer of the app carries one
        rendition, name = urllib.parse.urlsplit(segment_url).path.split("/")[-2:]
        assert body == (stack.data / ids["output"] / rendition / name).read_bytes()
        status, headers, part = _anonymous(nginx.port, segment_url, headers={"Range": "bytes=0-15"})
        assert status == 206 and part == body[:16]
        # Its key: from the app, to the member only, never stored by a cache, and it opens the segment.
        assert _anonymous(nginx.port, key_url)[0] == 401
        status, headers, key = tab.get(key_url)
        assert status == 200 and headers["cache-control"] == "no-store" and len(key) == 16
        assert "content-security-policy" in headers
        assert decrypt_bytes(body, key, segment_iv(i))[:1] == b"\x47"  # an MPEG-TS packet

    tab.reset()
    served = node.access_lines("/learn/media/", at_least=2 + 2 * len(keys))
    assert not [line for line in served if ".ts" in line], "the app sent a segment nginx should have"
    assert len([line for line in served if "/keys/" in line and "GET" in line]) == 2 * len(keys)  # 401s too
    assert len([line for line in served if ".m3u8" in line]) == 2
    # Every key the member received is the evidence that this playback can play that segment.
    assert _deliveries(app, ps) == [("keys", i) for i in range(len(keys))]

    # An asset converted by `elearn media encrypt` lives in another folder than its URL names: nginx finds no
    # file and hands the request to the app, which has nginx send it from there, as public and immutable.
    converted = urllib.parse.urlsplit(segments[0]).path.replace(f"/media/{ids['asset']}/",
                                                                f"/media/{ids['converted']}/")
    status, headers, body = _anonymous(nginx.port, converted)
    assert status == 200 and headers["cache-control"] == IMMUTABLE
    assert body == _anonymous(nginx.port, segments[0])[2]
    assert node.access_lines(converted, at_least=1)


def test_listening_through_nginx_takes_the_same_keys_as_evidence(site):
    """The audio-only rendition (仅听音频) is one more rendition folder to nginx: its segments static, public and
    immutable; its playlists and keys from the app, each key the same evidence as the video's."""
    stack, app, node, nginx, ids = site
    tab = Browser(nginx.port)
    tab.login(ids["member"], seed.PASSWORD)
    ps = str(uuid.uuid4())
    listen_url = f"/learn/media/{ids['asset']}/listen.m3u8?ps={ps}"
    status, _headers, listen = tab.get(listen_url)
    [variant] = [u for u in media_urls(listen.decode(), listen_url) if u.split("?")[0].endswith(".m3u8")]
    assert status == 200 and "/audio/index.m3u8?ps=" in variant
    status, _headers, keys, segments = _media_playlist(tab, variant)
    assert status == 200 and keys and len(keys) == len(segments)
    for i, (key_url, segment_url) in enumerate(zip(keys, segments, strict=True)):
        status, headers, body = _anonymous(nginx.port, segment_url)
        assert status == 200 and headers["cache-control"] == IMMUTABLE
        assert body == (stack.data / ids["output"] / "audio" / segment_url.split("/")[-1].split("?")[0]).read_bytes()
        status, _headers, key = tab.get(key_url)
        assert status == 200 and decrypt_bytes(body, key, segment_iv(i))[:1] == b"\x47"
    tab.reset()
    # The log line of this playback's last key is written once it was sent and recorded.
    assert len(node.access_lines(f"ps={ps}", at_least=2 + len(keys))) == 2 + len(keys)
    assert not node.access_lines("/audio/seg_"), "the app sent a segment nginx should have"
    assert _deliveries(app, ps) == [("keys", i) for i in range(len(keys))]


def test_files_the_app_decides_on_are_sent_by_nginx_with_the_apps_headers(site):
    stack, app, node, nginx, ids = site
    poster = f"/learn/media/{ids['asset']}/poster.jpg"
    assert _anonymous(nginx.port, poster)[0] == 401  # the app says no, nginx sends nothing
    tab = Browser(nginx.port)
    tab.login(ids["member"], seed.PASSWORD)
    status, headers, body = tab.get(poster)
    assert status == 200 and body == (stack.data / ids["output"] / "poster.jpg").read_bytes()
    assert headers["content-type"] == "image/jpeg" and headers["cache-control"].startswith("private, max-age=")
    assert headers["x-content-type-options"] == "nosniff" and "x-accel-redirect" not in headers
    # nginx keeps only a few of the app's headers on an X-Accel answer; the site copies the security ones.
    page = _anonymous(nginx.port, "/auth/login")[1]
    for name in ("content-security-policy", "referrer-policy", "x-frame-options"):
        assert headers.get(name) == page[name], name
    assert node.access_lines("/poster.jpg", at_least=2), "the app did not decide on the poster"
    # The internal location answers nobody directly.
    assert _anonymous(nginx.port, f"/protected-media/{ids['output']}/poster.jpg")[0] == 404

    # Clear segments (an asset from before encryption) are not public: nginx leaves them to the app, which
    # checks access, records the delivery and has nginx send the file.
    ps = str(uuid.uuid4())
    segment = f"/learn/media/{ids['clear']}/360p/seg_00001.ts?ps={ps}"
    assert _anonymous(nginx.port, segment)[0] == 401
    status, headers, body = tab.get(segment)
    assert status == 200 and body == CLEAR_SEGMENTS[1]
    assert headers["cache-control"].startswith("private, max-age=") and headers["content-type"] == "video/mp2t"
    assert _deliveries(app, ps) == [("360p", 1)]
    tab.reset()


def test_request_bodies_over_the_apps_limit_stop_at_nginx(site):
    _stack, _app, node, nginx, _ids = site
    status, _h, _b = _anonymous(nginx.port, "/studio/uploads/x?offset=0", "PUT", b"\0" * (3 << 20),
                                {"Content-Type": "application/octet-stream"})
    assert status == 413
    assert not node.access_lines("/studio/uploads/x")
    status, headers, body = _anonymous(nginx.port, "/static/css/site.css")
    assert status == 200 and "expires" in headers and body == (ROOT / "static/css/site.css").read_bytes()
    assert not node.access_lines("/static/")
