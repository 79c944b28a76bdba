import pytest

from media_pipeline.errors import TranscodeError
from media_pipeline.playlist import (
    MasterPlaylist,
    SubtitleTrack,
    Variant,
    aac_codec_string,
    avc1_codec_string,
    parse_master_playlist,
    parse_media_playlist,
    peak_bandwidth,
)
from media_pipeline.transcode import parse_progress_line, progress_seconds


@pytest.mark.parametrize("profile, level, expected", [
    ("High", 31, "avc1.64001f"),
    ("High", 40, "avc1.640028"),
    ("Main", 30, "avc1.4d401e"),
    ("Constrained Baseline", 30, "avc1.42e01e"),
])
def test_avc1_codec_string(profile, level, expected):
    assert avc1_codec_string(profile, level) == expected


def test_unknown_avc_profile_is_an_error():
    with pytest.raises(TranscodeError):
        avc1_codec_string("High 4:4:4 Intra Wonder", 31)


def test_aac_codec_string():
    assert aac_codec_string("LC") == "mp4a.40.2"
    assert aac_codec_string("HE-AAC") == "mp4a.40.5"


def test_peak_bandwidth_ignores_tiny_last_segment_but_not_real_peaks():
    # 6 s segments of 600 kB (800 kb/s), then a 0.2 s tail holding a 40 kB keyframe.
    segments = [(600_000, 6.0), (600_000, 6.0), (40_000, 0.2)]
    assert peak_bandwidth(segments, 6) == pytest.approx(800_000, rel=0.05)
    segments = [(600_000, 6.0), (1_200_000, 6.0), (600_000, 6.0)]
    assert peak_bandwidth(segments, 6) == 1_600_000


def test_peak_bandwidth_of_a_clip_shorter_than_half_a_segment():
    assert peak_bandwidth([(100_000, 2.0)], 6) == 400_000


def test_master_round_trip_and_subtitle_group():
    master = MasterPlaylist(variants=(
        Variant("360p/index.m3u8", 900_000, 800_000, "avc1.64001e,mp4a.40.2", 640, 360, 30.0),
        Variant("720p/index.m3u8", 2_900_000, 2_600_000, "avc1.64001f,mp4a.40.2", 1280, 720, 30.0),
    ))
    text = master.render()
    assert 'RESOLUTION=640x360,FRAME-RATE=30.000,CODECS="avc1.64001e,mp4a.40.2"' in text
    assert parse_master_playlist(text) == master
    with_subs = master.with_subtitle_track(SubtitleTrack("zh-CN", "中文", "subs_zh-CN.m3u8"))
    with_subs = with_subs.with_subtitle_track(SubtitleTrack("en", "English", "subs_en.m3u8"))
    with_subs = with_subs.with_subtitle_track(SubtitleTrack("zh-CN", "简体中文", "subs_zh-CN.m3u8"))
    text = with_subs.render()
    assert text.count("TYPE=SUBTITLES") == 2
    assert 'NAME="简体中文"' in text and 'NAME="中文"' not in text
    assert text.count('SUBTITLES="subs"') == 2
    assert parse_master_playlist(text) == with_subs


def test_parse_media_playlist():
    media = parse_media_playlist(
        "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.000000,\na.ts\n#EXTINF:1.5,\nb.ts\n#EXT-X-ENDLIST\n")
    assert media.target_duration == 6
    assert [(s.duration, s.uri) for s in media.segments] == [(6.0, "a.ts"), (1.5, "b.ts")]
    with pytest.raises(ValueError):
        parse_media_playlist("garbage")


def test_progress_parsing():
    state: dict[str, str] = {}
    assert not parse_progress_line("out_time_us=N/A\n", state)
    assert not parse_progress_line("frame=12\n", state)
    assert parse_progress_line("progress=continue\n", state)
    assert progress_seconds(state) is None
    parse_progress_line("out_time_us=1500000", state)
    assert progress_seconds(state) == 1.5
    # Old ffmpeg: only out_time_ms, which is in microseconds despite its name.
    assert progress_seconds({"out_time_ms": "2500000"}) == 2.5
    assert progress_seconds({"out_time_us": "-23220"}) == 0.0
