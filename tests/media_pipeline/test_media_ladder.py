from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media_pipeline import DEFAULT_LADDER_POLICY, MediaError, plan_ladder
from media_pipeline.ladder import AUDIO_RENDITION_NAME, audio_only_rendition, output_frame_rate, video_renditions
from media_pipeline.probe import MediaInfo


def video_info(width, height, rotation=0, *, audio=True, avg=Fraction(30), real=Fraction(30), vfr=False):
    display = (height, width) if rotation in (90, 270) else (width, height)
    return MediaInfo(
        path="/src.mp4", format_name="mov,mp4", duration=60.0, size_bytes=1, streams=(),
        has_video=True, has_audio=audio, video_codec="h264", audio_codec="aac" if audio else None,
        width=width, height=height, rotation=rotation, display_width=display[0], display_height=display[1],
        avg_frame_rate=avg, r_frame_rate=real, variable_frame_rate=vfr,
    )


def sizes(ladder):
    return [(r.width, r.height) for r in video_renditions(ladder)]


@pytest.mark.parametrize("width, height, rotation, expected", [
    (1920, 1080, 0, [(640, 360), (854, 480), (1280, 720), (1920, 1080)]),
    (3840, 2160, 0, [(640, 360), (854, 480), (1280, 720), (1920, 1080)]),
    (1280, 720, 0, [(640, 360), (854, 480), (1280, 720)]),
    # Portrait phone video, stored either upright or as landscape + rotation flag.
    (1080, 1920, 0, [(360, 640), (480, 854), (720, 1280), (1080, 1920)]),
    (1920, 1080, 90, [(360, 640), (480, 854), (720, 1280), (1080, 1920)]),
    (1920, 1080, 180, [(640, 360), (854, 480), (1280, 720), (1920, 1080)]),
    # Cinema scope keeps its shape; 800 lines get no 1080p.
    (1920, 800, 0, [(864, 360), (1152, 480), (1728, 720)]),
    # Smaller than the lowest rung: one rendition at source size, made even.
    (641, 359, 0, [(640, 358)]),
    (320, 240, 90, [(240, 320)]),
    # Odd width exactly on a rung must not grow by rounding.
    (1919, 1080, 0, [(640, 360), (852, 480), (1280, 720), (1918, 1080)]),
])
def test_ladder_examples(width, height, rotation, expected):
    assert sizes(plan_ladder(video_info(width, height, rotation))) == expected


def test_rendition_fields():
    ladder = video_renditions(plan_ladder(video_info(1920, 1080)))
    assert [r.name for r in ladder] == ["360p", "480p", "720p", "1080p"]
    for rendition, rung in zip(ladder, DEFAULT_LADDER_POLICY.rungs, strict=True):
        assert rendition.audio_bitrate == rung.audio_bitrate
        assert rendition.maxrate > rendition.video_bitrate
        assert rendition.bufsize > rendition.video_bitrate
    assert [r.video_bitrate for r in ladder] == sorted(r.video_bitrate for r in ladder)


def test_no_audio_means_no_audio_bitrate():
    ladder = plan_ladder(video_info(1280, 720, audio=False))
    assert all(r.audio_bitrate == 0 for r in ladder)
    assert audio_only_rendition(ladder) is None


def test_a_video_with_audio_also_gets_the_audio_only_rendition_last():
    ladder = plan_ladder(video_info(1280, 720))
    assert [r.name for r in ladder] == ["360p", "480p", "720p", AUDIO_RENDITION_NAME]
    listen = ladder[-1]
    assert listen is audio_only_rendition(ladder) and listen.is_audio_only
    assert (listen.width, listen.height, listen.video_bitrate) == (None, None, 0)
    assert listen.audio_bitrate == DEFAULT_LADDER_POLICY.audio_only_bitrate


def test_audio_only_gets_one_audio_rendition():
    info = MediaInfo(path="/a.m4a", format_name="mov", duration=10, size_bytes=1, streams=(),
                     has_video=False, has_audio=True, audio_codec="aac")
    [rendition] = plan_ladder(info)
    assert rendition.is_audio_only and rendition.width is None
    assert rendition.audio_bitrate == DEFAULT_LADDER_POLICY.audio_only_bitrate


def test_nothing_to_plan():
    info = MediaInfo(path="/x", format_name="", duration=1, size_bytes=1, streams=(),
                     has_video=False, has_audio=False)
    with pytest.raises(MediaError):
        plan_ladder(info)


@settings(max_examples=300, deadline=None)
@given(
    width=st.integers(16, 8192), height=st.integers(16, 8192),
    rotation=st.sampled_from([0, 90, 180, 270]),
)
def test_ladder_invariants(width, height, rotation):
    info = video_info(width, height, rotation)
    ladder = video_renditions(plan_ladder(info))
    assert 1 <= len(ladder) <= len(DEFAULT_LADDER_POLICY.rungs)
    source_aspect = info.display_width / info.display_height
    for r in ladder:
        assert r.width % 2 == 0 and r.height % 2 == 0
        assert r.width <= info.display_width and r.height <= info.display_height  # never upscale
        assert (r.width >= r.height) == (info.display_width >= info.display_height)  # orientation kept
        # Aspect kept to within rounding of the long side to even pixels.
        short = min(r.width, r.height)
        assert abs(r.width / r.height - source_aspect) <= 2.5 / short * max(source_aspect, 1 / source_aspect) + 1e-9
    assert len({r.name for r in ladder}) == len(ladder)
    areas = [r.width * r.height for r in ladder]
    assert areas == sorted(areas)


@pytest.mark.parametrize("avg, real, vfr, expected", [
    (Fraction(30), Fraction(30), False, Fraction(30)),
    (Fraction(30000, 1001), Fraction(30000, 1001), False, Fraction(30000, 1001)),
    (Fraction(900, 59), Fraction(30), True, Fraction(15)),
    (Fraction(120), Fraction(120), False, Fraction(60)),
    (None, None, False, Fraction(30)),
])
def test_output_frame_rate(avg, real, vfr, expected):
    assert output_frame_rate(video_info(640, 360, avg=avg, real=real, vfr=vfr)) == expected


def test_a_barely_portrait_source_stays_portrait():
    """Even rounding once made a 16x17 source square; the property test found it."""
    from dataclasses import replace
    from fractions import Fraction

    from media_pipeline.ladder import plan_ladder
    from media_pipeline.probe import MediaInfo

    info = MediaInfo(path="/src.mp4", format_name="mov,mp4", duration=60.0, size_bytes=1, streams=(),
                     has_video=True, has_audio=True, display_width=16, display_height=17,
                     avg_frame_rate=Fraction(30, 1), r_frame_rate=Fraction(30, 1), variable_frame_rate=False)
    for r in video_renditions(plan_ladder(replace(info))):
        assert r.width < r.height
