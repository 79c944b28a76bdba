import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media_pipeline import (
    Cue,
    SubtitleError,
    add_subtitle_track,
    parse_cues,
    parse_master_playlist,
    parse_media_playlist,
    subtitles_to_webvtt,
)
from media_pipeline.subtitles import render_webvtt

from .helpers import ffprobe_json

SRT = """1
00:00:01,000 --> 00:00:03,500
同志们好，今天学习党章。

2
00:00:04,000 --> 00:00:06,250
第一章 党员
第二行
"""


@pytest.mark.parametrize("encode", [
    lambda s: s.encode("utf-8"),
    lambda s: b"\xef\xbb\xbf" + s.encode("utf-8"),
    lambda s: s.encode("gb18030"),
    lambda s: s.replace("\n", "\r\n").encode("gbk"),
    lambda s: s.encode("utf-16"),
], ids=["utf8", "utf8-bom", "gb18030", "gbk-crlf", "utf16-bom"])
def test_srt_in_any_common_chinese_encoding(encode):
    vtt = subtitles_to_webvtt(encode(SRT), "第一课.SRT")
    assert vtt.startswith("WEBVTT\n\n")
    assert "00:00:01.000 --> 00:00:03.500\n同志们好，今天学习党章。" in vtt
    assert parse_cues(vtt) == [
        Cue(1.0, 3.5, "同志们好，今天学习党章。"),
        Cue(4.0, 6.25, "第一章 党员\n第二行"),
    ]


def test_webvtt_is_normalised_keeping_settings_and_skipping_notes():
    source = ("WEBVTT - lesson 1\n\nNOTE made by hand\n\nSTYLE\n::cue { color: yellow }\n\n"
              "intro\n00:01.000 --> 00:02.000 line:90% align:start\n<i>开始</i>\n\n"
              "1:00:00.5 --> 1:00:01.25\n结束\n")
    vtt = subtitles_to_webvtt(source.encode(), "a.vtt")
    assert parse_cues(vtt) == [
        Cue(1.0, 2.0, "<i>开始</i>", "line:90% align:start"),
        Cue(3600.5, 3601.25, "结束"),
    ]
    assert "NOTE" not in vtt and "00:00:01.000 --> 00:00:02.000 line:90% align:start" in vtt


def test_cues_are_sorted_and_srt_paragraphs_kept():
    srt = "2\n00:00:05,000 --> 00:00:06,000\nlater\n\n1\n00:00:01,000 --> 00:00:02,000\nfirst\n\nmore of first\n"
    cues = parse_cues(subtitles_to_webvtt(srt.encode(), "x.srt"))
    assert [c.text for c in cues] == ["first\nmore of first", "later"]


@pytest.mark.parametrize("data, filename, words", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "x.srt", "not a text file"),
    (bytes(range(256)) * 4, "x.srt", "not a text file"),
    ("这是一份讲稿，不是字幕。\n第二段。".encode(), "x.srt", "expected a timing line"),
    (b"", "x.srt", "no subtitle cues"),
    (b"1\n00:00:01,000 --> soon\nhi\n", "x.srt", "line 2: bad timing"),
    (b"1\n00:00:05,000 --> 00:00:01,000\nhi\n", "x.srt", "ends before it starts"),
    (b"1\n00:00:01,000 --> 00:00:02,000\nhi\n", "x.ass", "must be .srt or .vtt"),
    (b"1\n00:00:01,000 --> 00:00:02,000\nhi\n", "x.vtt", "must start with the line WEBVTT"),
    (b"1\n00:00:01,000 --> 00:61:02,000\nhi\n", "x.srt", "bad timing"),
])
def test_garbage_is_refused_with_a_reason(data, filename, words):
    with pytest.raises(SubtitleError, match=words):
        subtitles_to_webvtt(data, filename)


def test_parse_cues_requires_webvtt():
    with pytest.raises(SubtitleError, match="WEBVTT"):
        parse_cues(SRT)


cue_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="<>&-"),
    min_size=1, max_size=30,
).filter(lambda t: t.strip() == t and t)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000_000), st.integers(1, 100_000), cue_text), min_size=1, max_size=20))
def test_srt_round_trip(entries):
    def stamp(ms):
        return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    srt = "\n".join(f"{i}\n{stamp(start)} --> {stamp(start + length)}\n{text}\n"
                    for i, (start, length, text) in enumerate(entries, 1))
    cues = parse_cues(subtitles_to_webvtt(srt.encode("gb18030"), "x.srt"))
    expected = sorted(((s / 1000, (s + n) / 1000, t) for s, n, t in entries), key=lambda c: (c[0], c[1]))
    assert [(c.start_s, c.end_s, c.text) for c in cues] == expected


def test_render_escapes_timing_arrows_in_text():
    vtt = render_webvtt([Cue(0, 1, "a --> b")])
    assert parse_cues(vtt) == [Cue(0, 1, "a → b")]


# -- adding a track to a published asset ------------------------------------------------

@pytest.fixture
def asset(transcoded, tmp_path):
    result, _ = transcoded.get("short")
    copy = tmp_path / "asset"
    shutil.copytree(result.out_dir, copy)
    return copy


@pytest.mark.slow
def test_add_subtitle_track_publishes_playlist_and_rewrites_master(asset):
    vtt = subtitles_to_webvtt(SRT.encode("gb18030"), "lesson.srt")
    playlist = add_subtitle_track(asset, vtt)
    assert playlist == asset / "subs_zh-CN.m3u8"

    media = parse_media_playlist(playlist.read_text(encoding="utf-8"))
    [segment] = media.segments
    assert segment.uri == "subs_zh-CN.vtt" and segment.duration == pytest.approx(2.0, abs=0.1)
    assert media.target_duration >= segment.duration
    assert "#EXT-X-ENDLIST" in playlist.read_text()

    subs = (asset / "subs_zh-CN.vtt").read_text(encoding="utf-8")
    start = float(ffprobe_json(asset / "240p" / "seg_00000.ts", "-show_format")["format"]["start_time"])
    assert f"X-TIMESTAMP-MAP=MPEGTS:{round(start * 90000)},LOCAL:00:00:00.000" in subs
    assert [c.text for c in parse_cues(subs)] == ["同志们好，今天学习党章。", "第一章 党员\n第二行"]

    text = (asset / "master.m3u8").read_text(encoding="utf-8")
    assert ('#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="zh-CN",NAME="中文"' in text)
    master = parse_master_playlist(text)
    assert all(v.subtitles == "subs" for v in master.variants)
    assert master.variants[0].codecs.startswith("avc1.")  # variants otherwise unchanged

    add_subtitle_track(asset, vtt, lang="en", name="English")
    add_subtitle_track(asset, vtt)  # same language again replaces, never duplicates
    master = parse_master_playlist((asset / "master.m3u8").read_text(encoding="utf-8"))
    assert sorted(t.language for t in master.subtitles) == ["en", "zh-CN"]
    assert not [p for p in asset.iterdir() if p.name.startswith(".")]  # no temp files left


def test_add_subtitle_track_refuses_bad_input(tmp_path, asset):
    vtt = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhi\n"
    with pytest.raises(SubtitleError, match="language"):
        add_subtitle_track(asset, vtt, lang="../../etc")
    with pytest.raises(SubtitleError, match="no cues"):
        add_subtitle_track(asset, "WEBVTT\n")
    with pytest.raises(SubtitleError, match="not a transcoded asset"):
        add_subtitle_track(tmp_path / "nothing", vtt)


def test_first_subtitle_language_is_the_default(tmp_path):
    # hls.js turns captions off when no subtitle track is DEFAULT=YES, while the player's menu said "中文".
    from media_pipeline.playlist import parse_master_playlist
    from media_pipeline.subtitles import add_subtitle_track
    out = tmp_path / "asset"
    out.mkdir()
    (out / "master.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,"
        'CODECS="avc1.64001e,mp4a.40.2"\n360p/index.m3u8\n')
    (out / "360p").mkdir()
    (out / "360p" / "index.m3u8").write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\nseg0.ts\n#EXT-X-ENDLIST\n")
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n你好\n"
    add_subtitle_track(out, vtt, lang="zh-CN", name="中文")
    add_subtitle_track(out, vtt.replace("你好", "Hello"), lang="en", name="English")
    tracks = {t.language: t for t in parse_master_playlist((out / "master.m3u8").read_text()).subtitles}
    assert tracks["zh-CN"].default and not tracks["en"].default
