import re
from itertools import pairwise

import pytest

from media_pipeline import MediaError, make_poster, make_storyboard, parse_cues

from .helpers import ffprobe_json

XYWH = re.compile(r"^(sprite_\d{3}\.jpg)#xywh=(\d+),(\d+),(\d+),(\d+)$")


def image_size(path):
    stream = ffprobe_json(path, "-show_streams")["streams"][0]
    return stream["width"], stream["height"]


def test_storyboard_cues_point_inside_their_sprite_sheets(media, tmp_path):
    vtt = make_storyboard(media.path("av480"), tmp_path, interval_s=2, tile=(3, 2), thumb_width=120)
    assert vtt == tmp_path / "storyboard.vtt"
    cues = parse_cues(vtt.read_text(encoding="utf-8"))
    assert len(cues) == 7  # 13 s every 2 s
    assert cues[0].start_s == 0 and cues[-1].end_s == pytest.approx(13.0, abs=0.05)
    assert all(a.end_s == b.start_s for a, b in pairwise(cues))
    sheets = {}
    for index, cue in enumerate(cues):
        name, x, y, w, h = XYWH.match(cue.text).groups()
        x, y, w, h = int(x), int(y), int(w), int(h)
        assert (w, h) == (120, 68)  # 854x480 scaled to 120 wide, even height
        assert name == f"sprite_{index // 6:03d}.jpg"
        sheet_w, sheet_h = sheets.setdefault(name, image_size(tmp_path / name))
        assert x + w <= sheet_w and y + h <= sheet_h
    assert sheets == {"sprite_000.jpg": (360, 136), "sprite_001.jpg": (360, 136)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sprite_000.jpg", "sprite_001.jpg", "storyboard.vtt"]


def test_storyboard_of_rotated_video_is_portrait(media, tmp_path):
    vtt = make_storyboard(media.path("rotated"), tmp_path)
    [cue] = parse_cues(vtt.read_text(encoding="utf-8"))
    assert cue.text == "sprite_000.jpg#xywh=0,0,160,214"


def test_poster(media, tmp_path):
    dest = make_poster(media.path("av480"), tmp_path / "poster.jpg", at_s=3)
    assert image_size(dest) == (854, 480)
    # Past the end: clamped into the video rather than failing with an empty file.
    assert image_size(make_poster(media.path("short"), tmp_path / "late.jpg", at_s=99)) == (320, 240)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late.jpg", "poster.jpg"]


def test_no_pictures_from_audio(media, tmp_path):
    with pytest.raises(MediaError):
        make_poster(media.path("audio_only"), tmp_path / "p.jpg")
    with pytest.raises(MediaError):
        make_storyboard(media.path("audio_only"), tmp_path)
