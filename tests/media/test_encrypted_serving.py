"""Encrypted assets through HTTP: public ciphertext segments, keys only for members who may watch, each key
sent whole being the evidence for credit; and the conversion of an asset transcoded before encryption."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from elearn.auth import tokens
from elearn.extensions import db
from elearn.media import services as media
from elearn.media.models import MediaAsset
from elearn.orgs.models import User
from elearn.storage import get_storage
from elearn.study.models import SegmentDelivery
from media_pipeline.encrypt import decrypt_bytes, encrypt_asset_dir, segment_iv, segment_key

PS = "0f8fad5b-d9cb-469f-a165-70867728950e"
SECRET = bytes(range(32))
CLEAR = [bytes([0x47, i]) * 500 for i in range(4)]


def _write_asset(asset, *, encrypted: bool, listen: bool = False):
    """The files of a 24-s asset; ``listen`` adds the audio-only rendition and listen.m3u8, as the pipeline
    writes them for every video with sound."""
    root = get_storage().path(asset.output_key)
    names = ["360p", "audio"] if listen else ["360p"]
    for name in names:
        (root / name).mkdir(parents=True)
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:6", "#EXT-X-PLAYLIST-TYPE:VOD"]
        for i, data in enumerate(CLEAR):
            (root / name / f"seg_{i:05d}.ts").write_bytes(data)
            lines += ["#EXTINF:6.000000,", f"seg_{i:05d}.ts"]
        (root / name / "index.m3u8").write_text("\n".join([*lines, "#EXT-X-ENDLIST"]) + "\n")
    (root / "master.m3u8").write_text("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n"
                                      "360p/index.m3u8\n")
    if listen:
        (root / "listen.m3u8").write_text('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=140000,CODECS="mp4a.40.2"\n'
                                          "audio/index.m3u8\n")
        asset.renditions = [*asset.renditions, {**asset.renditions[0], "name": "audio", "width": None,
                                                "height": None, "playlist": "audio/index.m3u8",
                                                "bandwidth": 140000, "codecs": "mp4a.40.2"}]
    if encrypted:
        encrypt_asset_dir(root, names, SECRET)
        asset.key_secret = SECRET.hex()
    db.session.commit()


@pytest.fixture
def world(make_org, make_user, make_course, make_lesson, publish):
    branch = make_org("东村支部", kind="branch", sector="rural", parent=make_org("镇党委", sector="rural"))
    lecturer = make_user("lect", role="lecturer")
    course = make_course(lecturer=lecturer)
    lesson = make_lesson(course=course)
    publish([course], sectors=["rural"])
    asset = MediaAsset(lesson_id=lesson.id, uploaded_by_id=lecturer.id, status="ready", progress=1.0,
                       duration_s=24.0, segment_seconds=6.0)
    db.session.add(asset)
    db.session.flush()
    asset.output_key = f"media/{asset.id}"
    asset.renditions = [{"name": "360p", "playlist": "360p/index.m3u8", "width": 640, "height": 360,
                         "bandwidth": 800000, "codecs": "avc1.64001e",
                         "segments": [[f"seg_{i:05d}.ts", i * 6.0, (i + 1) * 6.0] for i in range(4)]}]
    lesson.asset_id = asset.id
    db.session.commit()
    make_user("member1", org=branch)
    make_user("outsider", org=make_org("街道", sector="community"))
    return {"asset": asset, "lesson": lesson}


def _get(client, url, **kw):
    r = client.get(url, **kw)
    r.get_data()
    r.close()
    return r


def _deliveries():
    return db.session.execute(select(SegmentDelivery.segment_index, SegmentDelivery.start_s, SegmentDelivery.end_s)
                              .where(SegmentDelivery.session_id == PS).order_by(SegmentDelivery.segment_index)).all()


def test_playlists_send_keys_with_the_session_and_segments_the_same_for_everyone(client, auth, world):
    _write_asset(world["asset"], encrypted=True)
    auth.login("member1")
    text = _get(client, f"/learn/media/{world['asset'].id}/360p/index.m3u8?ps={PS}").get_data(as_text=True)
    assert f'URI="../keys/0?ps={PS}"' in text and f'URI="../keys/3?ps={PS}"' in text
    assert "seg_00000.ts?k=1" in text and "seg_00000.ts?ps=" not in text
    master = _get(client, f"/learn/media/{world['asset'].id}/master.m3u8?ps={PS}").get_data(as_text=True)
    assert f"360p/index.m3u8?ps={PS}" in master


def test_segments_are_public_immutable_ciphertext(app, world):
    _write_asset(world["asset"], encrypted=True)
    anonymous = app.test_client()
    r = _get(anonymous, f"/learn/media/{world['asset'].id}/360p/seg_00001.ts?k=1")
    assert r.status_code == 200 and "public" in r.headers["Cache-Control"] and "immutable" in r.headers["Cache-Control"]
    assert r.data != CLEAR[1]
    assert decrypt_bytes(r.data, segment_key(SECRET, 1), segment_iv(1)) == CLEAR[1]
    # A name the file system refuses is a 404 like any other, not an error.
    assert _get(anonymous, f"/learn/media/{world['asset'].id}/360p/{'a' * 300}.ts").status_code in (401, 404)
    # Anything else of the asset still needs a member who may watch it.
    assert _get(anonymous, f"/learn/media/{world['asset'].id}/360p/index.m3u8").status_code == 401
    assert db.session.scalar(select(func.count()).select_from(SegmentDelivery)) == 0


def test_a_key_goes_whole_to_an_allowed_member_and_is_the_evidence(client, auth, world, app):
    _write_asset(world["asset"], encrypted=True)
    url = f"/learn/media/{world['asset'].id}/keys/2?ps={PS}"
    assert _get(app.test_client(), url).status_code == 401
    auth.login("outsider")
    assert _get(client, url).status_code == 404
    auth.logout()
    auth.login("member1")
    head = client.head(url)
    head.close()
    assert head.status_code == 200 and _deliveries() == []
    for missing in (4, 10**12):
        assert _get(client, f"/learn/media/{world['asset'].id}/keys/{missing}?ps={PS}").status_code == 404
    r = _get(client, url, headers={"Range": "bytes=0-0", "If-None-Match": "*"})
    assert r.status_code == 200 and r.data == segment_key(SECRET, 2)
    assert r.headers["Cache-Control"] == "no-store"
    assert "ETag" not in r.headers and "Last-Modified" not in r.headers
    db.session.expire_all()
    assert _deliveries() == [(2, 12.0, 18.0)]
    # A clear segment fetched the old way is no evidence for an encrypted asset.
    _get(client, f"/learn/media/{world['asset'].id}/360p/seg_00003.ts?ps={PS}")
    db.session.expire_all()
    assert _deliveries() == [(2, 12.0, 18.0)]


def test_watching_an_encrypted_lesson_is_credited_by_its_keys(client, auth, world, site_clock):
    _write_asset(world["asset"], encrypted=True)
    auth.login("member1")
    for i in range(4):
        _get(client, f"/learn/media/{world['asset'].id}/keys/{i}?ps={PS}")
    site_clock.advance(24)
    r = client.post(f"/api/v1/lessons/{world['lesson'].id}/progress", headers={"X-CSRFToken": client.csrf_token()},
                    json={"playback_session": PS, "seq": 0, "intervals": [[0, 24]], "position": 24, "rate": 1,
                          "visible": True}).get_json()
    assert r["watched_seconds"] == 24 and r["completed"]


def test_an_old_clear_asset_is_converted_and_keeps_what_was_watched(client, auth, world, site_clock, runner):
    asset = world["asset"]
    _write_asset(asset, encrypted=False)
    auth.login("member1")
    for i in range(2):
        _get(client, f"/learn/media/{asset.id}/360p/seg_{i:05d}.ts?ps={PS}")
    site_clock.advance(12)
    token = client.csrf_token()
    url = f"/api/v1/lessons/{world['lesson'].id}/progress"
    body = {"playback_session": PS, "seq": 0, "intervals": [[0, 12]], "position": 12, "rate": 1, "visible": True}
    assert client.post(url, headers={"X-CSRFToken": token}, json=body).get_json()["watched_seconds"] == 12
    old_dir = get_storage().path(asset.output_key)

    result = runner.invoke(args=["media", "encrypt"])
    assert result.exit_code == 0 and "encrypted 1 of 1 assets" in result.output, result.output
    db.session.expire_all()
    asset = db.session.get(MediaAsset, asset.id)
    assert asset.key_secret and asset.output_key != f"media/{asset.id}" and not old_dir.exists()
    secret = bytes.fromhex(asset.key_secret)
    r = _get(client, f"/learn/media/{asset.id}/360p/seg_00002.ts?k=1")
    assert decrypt_bytes(r.data, segment_key(secret, 2), segment_iv(2)) == CLEAR[2]
    assert media.assets_to_encrypt() == []
    assert "every ready asset is encrypted" in runner.invoke(args=["media", "encrypt"]).output

    # The same playback carries on: the keys now are the evidence; what was watched is not counted again.
    for i in range(4):
        _get(client, f"/learn/media/{asset.id}/keys/{i}?ps={PS}")
    site_clock.advance(12)
    r = client.post(url, headers={"X-CSRFToken": token}, json={**body, "seq": 1, "intervals": [[0, 24]],
                                                                "position": 24}).get_json()
    assert r["watched_seconds"] == pytest.approx(24) and r["credited_seconds"] == pytest.approx(12)


def test_the_cleanup_removes_a_converted_output_once_replaced(world):
    asset = world["asset"]
    _write_asset(asset, encrypted=False)
    assert media.encrypt_existing_asset(asset.id)
    converted = get_storage().path(db.session.get(MediaAsset, asset.id).output_key)
    assert converted.is_dir()
    newer = MediaAsset(lesson_id=asset.lesson_id, uploaded_by_id=asset.uploaded_by_id, status="ready", progress=1.0,
                       duration_s=24.0)
    db.session.add(newer)
    db.session.flush()
    world["lesson"].asset_id = newer.id
    db.session.commit()
    later = newer.updated_at + timedelta(days=30)
    assert asset.id in media.remove_unused_asset_files(now=later)
    assert not converted.exists()


def test_a_video_replaced_mid_session_gets_evidence_for_the_new_one(client, auth, world):
    _write_asset(world["asset"], encrypted=True)
    auth.login("member1")
    _get(client, f"/learn/media/{world['asset'].id}/keys/0?ps={PS}")
    old = world["asset"]
    new = MediaAsset(lesson_id=old.lesson_id, uploaded_by_id=old.uploaded_by_id, status="ready", progress=1.0,
                     duration_s=24.0, segment_seconds=6.0, renditions=old.renditions)
    db.session.add(new)
    db.session.flush()
    new.output_key = f"media/{new.id}"
    world["lesson"].asset_id = new.id
    db.session.commit()
    _write_asset(new, encrypted=True)
    assert _get(client, f"/learn/media/{new.id}/keys/0?ps={PS}").status_code == 200
    db.session.expire_all()
    assert sorted(db.session.execute(select(SegmentDelivery.asset_id).where(
        SegmentDelivery.session_id == PS)).scalars()) == sorted([old.id, new.id])


def test_an_app_plays_with_its_bearer_token_alone(app, world, site_clock):
    """A mobile app or mini-program has no session cookie: it starts the lesson through the API and fetches the
    playlists and keys with the same bearer token; the keys are its evidence, as for the browser's player."""
    _write_asset(world["asset"], encrypted=True)
    member = db.session.execute(select(User).where(User.username == "member1")).scalar_one()
    study = {"Authorization": f"Bearer {tokens.issue(member, 'app', scopes='read study')}"}
    read_only = {"Authorization": f"Bearer {tokens.issue(member, 'viewer', scopes='read')}"}
    api = app.test_client()  # no cookie ever
    player = api.get(f"/api/v1/lessons/{world['lesson'].id}", headers=study).get_json()["player"]
    ps, aid = player["playback_session"], world["asset"].id
    master = _get(api, player["src"], headers=study)
    assert master.status_code == 200 and f"360p/index.m3u8?ps={ps}" in master.get_data(as_text=True)
    assert _get(api, f"/learn/media/{aid}/360p/index.m3u8?ps={ps}", headers=study).status_code == 200
    # Keys are study: a read-only token, a forged one or none at all gets no key and leaves no evidence.
    assert _get(api, f"/learn/media/{aid}/keys/0?ps={ps}", headers=read_only).status_code == 403
    assert _get(api, f"/learn/media/{aid}/keys/0?ps={ps}",
                headers={"Authorization": "Bearer elt_forged"}).status_code == 401
    assert _get(api, f"/learn/media/{aid}/keys/0?ps={ps}").status_code == 401
    assert db.session.scalar(select(func.count()).select_from(SegmentDelivery)) == 0
    for i in range(4):
        r = _get(api, f"/learn/media/{aid}/keys/{i}?ps={ps}", headers=study)
        assert r.status_code == 200 and r.data == segment_key(SECRET, i)
    assert "Set-Cookie" not in r.headers  # a token call mints no session
    site_clock.advance(24)
    report = {"playback_session": ps, "seq": 0, "intervals": [[0, 24]], "position": 24, "rate": 1, "visible": True}
    body = api.post(player["progress_url"], json=report, headers=study).get_json()
    assert body["watched_seconds"] == 24 and body["completed"]


def _report(client, lesson, seq, intervals, position):
    return client.post(f"/api/v1/lessons/{lesson.id}/progress", headers={"X-CSRFToken": client.csrf_token()},
                       json={"playback_session": PS, "seq": seq, "intervals": intervals, "position": position,
                             "rate": 1, "visible": True}).get_json()


def test_listening_is_evidenced_paced_and_credited_exactly_as_watching(client, auth, world, site_clock):
    """The audio-only rendition names the video's keys: a key fetched for listening is the same evidence, once
    per segment whichever rendition asked, under the same pace rule."""
    asset, lesson = world["asset"], world["lesson"]
    _write_asset(asset, encrypted=True, listen=True)
    auth.login("member1")
    listen = _get(client, f"/learn/media/{asset.id}/listen.m3u8?ps={PS}").get_data(as_text=True)
    assert f"audio/index.m3u8?ps={PS}" in listen
    playlist = _get(client, f"/learn/media/{asset.id}/audio/index.m3u8?ps={PS}").get_data(as_text=True)
    assert f'URI="../keys/0?ps={PS}"' in playlist and "seg_00000.ts?k=1" in playlist
    anonymous = _get(client.application.test_client(), f"/learn/media/{asset.id}/audio/seg_00001.ts?k=1")
    assert anonymous.status_code == 200 and "immutable" in anonymous.headers["Cache-Control"]
    assert decrypt_bytes(anonymous.data, segment_key(SECRET, 1), segment_iv(1)) == CLEAR[1]

    # A script fetching the audio playlist and its segments, without keys, has nothing to show.
    for i in range(4):
        _get(client, f"/learn/media/{asset.id}/audio/seg_{i:05d}.ts?k=1")
    site_clock.advance(24)
    assert _deliveries() == []
    assert _report(client, lesson, 0, [[0, 24]], 24)["watched_seconds"] == 0

    # Every key at once: evidence, but nothing more than real time allows since it arrived.
    for i in range(4):
        _get(client, f"/learn/media/{asset.id}/keys/{i}?ps={PS}")
    _get(client, f"/learn/media/{asset.id}/keys/1?ps={PS}")  # the video asking for the same key: no second row
    db.session.expire_all()
    assert _deliveries() == [(i, i * 6.0, (i + 1) * 6.0) for i in range(4)]
    assert _report(client, lesson, 1, [[0, 24]], 24)["watched_seconds"] == 0
    site_clock.advance(24)
    r = _report(client, lesson, 2, [[0, 24]], 24)
    assert r["watched_seconds"] == 24 and r["completed"]


def test_the_player_offers_listening_only_where_there_is_an_audio_rendition(client, auth, world):
    asset, lesson = world["asset"], world["lesson"]
    _write_asset(asset, encrypted=True)
    asset.has_video = True
    db.session.commit()
    auth.login("member1")
    # An asset transcoded before audio-only renditions: no toggle, the page and the API still play it.
    page = _get(client, f"/learn/lessons/{lesson.id}")
    assert page.status_code == 200 and 'data-role="audio-only"' not in page.get_data(as_text=True)
    assert client.get(f"/api/v1/lessons/{lesson.id}").get_json()["player"]["listen_src"] == ""
    assert _get(client, f"/learn/media/{asset.id}/listen.m3u8?ps={PS}").status_code == 404

    asset.renditions = [*asset.renditions, {**asset.renditions[0], "name": "audio", "width": None, "height": None,
                                            "playlist": "audio/index.m3u8", "codecs": "mp4a.40.2"}]
    db.session.commit()
    text = _get(client, f"/learn/lessons/{lesson.id}").get_data(as_text=True)
    assert 'data-role="audio-only"' in text and 'aria-pressed="false"' in text and "仅听音频" in text
    player = client.get(f"/api/v1/lessons/{lesson.id}").get_json()["player"]
    assert player["listen_src"] == f"/learn/media/{asset.id}/listen.m3u8?ps={player['playback_session']}"
    assert f'data-listen-src="/learn/media/{asset.id}/listen.m3u8?ps=' in text
    # An audio lesson is listened to already: nothing to switch to.
    asset.has_video = False
    db.session.commit()
    assert 'data-role="audio-only"' not in _get(client, f"/learn/lessons/{lesson.id}").get_data(as_text=True)
