"""Segment encryption: each segment under its own AES-128 key, named in the playlist the standard way; the
decrypted bytes are the clear segments ffmpeg wrote."""

from __future__ import annotations

import re
import shutil

import pytest

from media_pipeline import parse_media_playlist, plan_ladder, probe, transcode
from media_pipeline.encrypt import (
    TIMELINE_NAME,
    decrypt_bytes,
    encrypt_asset_dir,
    encrypt_bytes,
    read_timeline,
    segment_iv,
    segment_key,
)
from media_pipeline.probe import segment_start_time
from media_pipeline.subtitles import add_subtitle_track

from .helpers import ffprobe_json

SECRET = bytes(range(32))


def test_keys_differ_per_segment_and_per_secret_and_round_trip():
    keys = {segment_key(SECRET, i) for i in range(100)}
    assert len(keys) == 100 and all(len(k) == 16 for k in keys)
    assert segment_key(SECRET, 3) != segment_key(bytes(32), 3)
    assert segment_key(SECRET, 3) == segment_key(SECRET, 3)
    data = b"\x47" + bytes(188 * 7 - 1)
    sealed = encrypt_bytes(data, segment_key(SECRET, 5), segment_iv(5))
    assert sealed != data and len(sealed) % 16 == 0
    assert decrypt_bytes(sealed, segment_key(SECRET, 5), segment_iv(5)) == data
    with pytest.raises(ValueError):
        segment_key(SECRET, -1)


def _key_lines(text: str) -> list[str]:
    return re.findall(r'#EXT-X-KEY:METHOD=AES-128,URI="([^"]+)",IV=0x([0-9a-f]{32})', text)


@pytest.mark.slow
def test_an_encrypted_transcode_decrypts_to_playable_aligned_segments(media, tmp_path):
    src = media.path("av480")
    info = probe(src)
    ladder = plan_ladder(info)
    clear = transcode(src, tmp_path / "clear", ladder, info=info, thumbnails=False)
    sealed = transcode(src, tmp_path / "sealed", ladder, info=info, thumbnails=False, encryption_secret=SECRET)
    assert sealed.duration == pytest.approx(clear.duration)
    # The audio-only rendition is sealed like the video ones, under the same key for the same segment.
    assert [v.uri for v in sealed.all_variants] == ["360p/index.m3u8", "480p/index.m3u8", "audio/index.m3u8"]
    for variant in sealed.all_variants:
        text = (sealed.out_dir / variant.uri).read_text()
        playlist = parse_media_playlist(text)
        keys = _key_lines(text)
        assert [uri for uri, _iv in keys] == [f"../keys/{i}" for i in range(len(playlist.segments))]
        folder = (sealed.out_dir / variant.uri).parent
        for i, segment in enumerate(playlist.segments):
            data = (folder / segment.uri).read_bytes()
            assert data[:1] != b"\x47"  # no longer an MPEG-TS packet
            plain = decrypt_bytes(data, segment_key(SECRET, i), bytes.fromhex(keys[i][1]))
            assert plain[:1] == b"\x47" and plain[188:189] == b"\x47"
            (tmp_path / "check.ts").write_bytes(plain)
            streams = ffprobe_json(tmp_path / "check.ts", "-show_streams")["streams"]
            assert {s["codec_type"] for s in streams} == ({"video", "audio"} if variant.width else {"audio"})
    # The start time subtitles are placed by was noted before the segments were sealed.
    first = parse_media_playlist((clear.out_dir / clear.variants[0].uri).read_text()).segments[0].uri
    expected = segment_start_time((clear.out_dir / clear.variants[0].uri).parent / first)
    assert read_timeline(sealed.out_dir)["start_time"] == pytest.approx(expected)
    track = add_subtitle_track(sealed.out_dir, "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n第一句\n")
    vtt = (sealed.out_dir / track.name.replace(".m3u8", ".vtt")).read_text()
    assert f"MPEGTS:{round(expected * 90000)}" in vtt


def test_encrypting_a_copy_of_a_clear_asset_and_again_changes_nothing_more(tmp_path):
    folder = tmp_path / "asset" / "360p"
    folder.mkdir(parents=True)
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:6", "#EXT-X-PLAYLIST-TYPE:VOD"]
    for i in range(3):
        (folder / f"seg_{i:05d}.ts").write_bytes(bytes([0x47, i]) * 100)
        lines += ["#EXTINF:6.000000,", f"seg_{i:05d}.ts"]
    (folder / "index.m3u8").write_text("\n".join([*lines, "#EXT-X-ENDLIST"]) + "\n")
    progress = []
    assert encrypt_asset_dir(tmp_path / "asset", ["360p"], SECRET, on_progress=progress.append) == 3
    assert progress == pytest.approx([1 / 3, 2 / 3, 1.0])
    once = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert encrypt_asset_dir(tmp_path / "asset", ["360p"], SECRET) == 0  # already sealed: left alone
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == once
    assert decrypt_bytes(once["seg_00002.ts"], segment_key(SECRET, 2), segment_iv(2)) == bytes([0x47, 2]) * 100
    assert not (tmp_path / "asset" / TIMELINE_NAME).exists()
    shutil.rmtree(tmp_path / "asset")
