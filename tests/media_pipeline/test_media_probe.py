import json
from dataclasses import replace
from fractions import Fraction

import pytest

from media_pipeline import DEFAULT_LIMITS, MediaError, probe, validate
from media_pipeline.probe import media_info_from_ffprobe


def test_probe_reports_streams_size_and_rates(media):
    info = probe(media.path("av480"))
    assert info.has_video and info.has_audio
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height) == (854, 480)
    assert (info.display_width, info.display_height) == (854, 480)
    assert info.rotation == 0
    assert info.avg_frame_rate == Fraction(30) == info.r_frame_rate
    assert not info.variable_frame_rate
    assert info.duration == pytest.approx(13, abs=0.1)
    assert info.size_bytes == media.path("av480").stat().st_size
    assert "mp4" in info.format_name
    assert sorted(s.codec_type for s in info.streams) == ["audio", "video"]


def test_rotated_phone_video_is_displayed_portrait(media):
    info = probe(media.path("rotated"))
    assert (info.width, info.height) == (320, 240)
    assert info.rotation in (90, 270)
    assert (info.display_width, info.display_height) == (240, 320)


def test_audio_only_and_video_without_audio(media):
    audio = probe(media.path("audio_only"))
    assert audio.has_audio and not audio.has_video
    assert audio.display_width is None and audio.frame_rate is None
    silent = probe(media.path("no_audio"))
    assert silent.has_video and not silent.has_audio and silent.audio_codec is None


def test_variable_frame_rate_is_detected(media):
    info = probe(media.path("vfr"))
    assert info.variable_frame_rate
    assert info.r_frame_rate == 30
    assert info.avg_frame_rate < 20


@pytest.mark.parametrize("name, words", [
    ("empty", "empty"),
    ("text", "not a readable audio or video file"),
    ("truncated", "not a readable audio or video file"),
])
def test_unreadable_files_raise_media_error_with_reason(media, name, words):
    with pytest.raises(MediaError) as caught:
        probe(media.path(name))
    assert words in caught.value.reason
    assert isinstance(caught.value, ValueError)


def test_missing_file(tmp_path):
    with pytest.raises(MediaError, match="no such file"):
        probe(tmp_path / "nope.mp4")


def test_to_dict_is_json(media):
    data = json.loads(json.dumps(probe(media.path("vfr")).to_dict()))
    assert data["r_frame_rate"] == "30/1"
    assert data["variable_frame_rate"] is True


def test_ffprobe_quirks_cover_art_and_legacy_rotate_tag():
    raw = {
        "format": {"format_name": "mp3", "duration": "60.0", "size": "1000"},
        "streams": [
            {"index": 0, "codec_type": "audio", "codec_name": "mp3"},
            {"index": 1, "codec_type": "video", "codec_name": "mjpeg", "width": 500, "height": 500,
             "disposition": {"attached_pic": 1}},
        ],
    }
    info = media_info_from_ffprobe(raw, path="/x/song.mp3", size_bytes=1000)
    assert info.has_audio and not info.has_video  # cover art is not a video lesson
    raw["streams"].append({"index": 2, "codec_type": "video", "codec_name": "h264", "width": 640, "height": 360})
    info = media_info_from_ffprobe(raw, path="/x/talk.mp4", size_bytes=1000)
    assert info.has_video and info.video_stream_index == 2 and info.width == 640

    raw = {
        "format": {"format_name": "mov", "duration": "5"},
        "streams": [{"index": 0, "codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
                     "tags": {"rotate": "-90"}, "avg_frame_rate": "30/1", "r_frame_rate": "0/0"}],
    }
    info = media_info_from_ffprobe(raw, path="/x/phone.mov", size_bytes=10)
    assert info.rotation == 270
    assert (info.display_width, info.display_height) == (1080, 1920)
    assert info.frame_rate == 30 and not info.variable_frame_rate


# -- validate -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["av480", "rotated", "odd", "audio_only", "no_audio", "vfr", "short"])
def test_playable_media_passes(media, name):
    validate(probe(media.path(name)))


@pytest.mark.parametrize("name, words", [
    ("no_streams", "no audio or video streams"),
    ("subtitle_only", "only subtitle"),
    ("truncated_faststart", "incomplete"),
])
def test_unplayable_media_is_refused(media, name, words):
    info = probe(media.path(name))
    with pytest.raises(MediaError, match=words):
        validate(info)


def test_maximum_duration_is_configurable(media):
    info = probe(media.path("av480"))
    with pytest.raises(MediaError, match="0:00:13 long; the maximum is 0:00:10"):
        validate(info, max_duration_s=10)
    validate(info, max_duration_s=14)
    with pytest.raises(MediaError, match="maximum"):
        validate(info, limits=replace(DEFAULT_LIMITS, max_duration_s=5))


@pytest.mark.parametrize("width, height", [(8200, 480), (854, 8193), (15, 480), (854, 8)])
def test_absurd_dimensions_are_refused(media, width, height):
    info = replace(probe(media.path("av480")), width=width, height=height)
    with pytest.raises(MediaError, match="picture size"):
        validate(info)


def test_zero_duration_is_refused(media):
    info = replace(probe(media.path("av480")), duration=0.0)
    with pytest.raises(MediaError, match="no duration"):
        validate(info)


def test_implausible_frame_rate_is_refused(media):
    info = replace(probe(media.path("av480")), r_frame_rate=Fraction(90000))
    with pytest.raises(MediaError, match="frame rate"):
        validate(info)


def test_text_detected_as_ansi_art_is_refused():
    # Some ffmpeg builds read .txt files as a "video" of ANSI art.
    raw = {"format": {"format_name": "tty", "duration": "4"},
           "streams": [{"index": 0, "codec_type": "video", "codec_name": "ansi", "width": 640, "height": 400,
                        "avg_frame_rate": "25/1", "r_frame_rate": "25/1"}]}
    with pytest.raises(MediaError, match="text file"):
        validate(media_info_from_ffprobe(raw, path="/u/notes.txt", size_bytes=100))
