"""End-to-end transcodes of the synthetic clips, checked with ffprobe."""

import os
import subprocess
import threading
from itertools import pairwise
from pathlib import Path

import pytest

from media_pipeline import (
    MediaError,
    TranscodeCancelled,
    TranscodeError,
    parse_master_playlist,
    parse_media_playlist,
    plan_ladder,
    probe,
    transcode,
)
from media_pipeline.ladder import output_frame_rate
from media_pipeline.transcode import align_to_reference

from .helpers import ffprobe_json

pytestmark = pytest.mark.slow

SEGMENT = 6


def master_of(result):
    return parse_master_playlist(result.master_playlist.read_text(encoding="utf-8"))


def media_playlist(result, variant):
    return parse_media_playlist((result.out_dir / variant.uri).read_text(encoding="utf-8"))


def video_packets(segment: Path):
    """(pts_time, is_keyframe) of the video packets of one segment, in decode order."""
    data = ffprobe_json(segment, "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags")
    return [(float(p["pts_time"]), "K" in p["flags"]) for p in data["packets"]]


def keyframe_times(result, variant):
    times = []
    base = (result.out_dir / variant.uri).parent
    for segment in media_playlist(result, variant).segments:
        packets = video_packets(base / segment.uri)
        assert packets[0][1], f"{segment.uri} of {variant.uri} does not start with a keyframe"
        keyframes = [pts for pts, key in packets if key]
        assert len(keyframes) == 1, f"{segment.uri}: {len(keyframes)} keyframes, expected exactly 1"
        times.append(round(keyframes[0], 3))
    return times


def assert_segments_aligned(result):
    master = master_of(result)
    durations = [[s.duration for s in media_playlist(result, v).segments] for v in master.variants]
    assert all(d == durations[0] for d in durations), "segment boundaries differ between renditions"
    for duration in durations[0][:-1]:
        assert SEGMENT - 0.5 <= duration <= SEGMENT + 0.5
    assert durations[0][-1] <= SEGMENT + 0.5
    keyframes = [keyframe_times(result, v) for v in master.variants]
    assert all(k == keyframes[0] for k in keyframes), "keyframes differ between renditions"


def assert_no_leftovers(parent: Path, expected: set[str]):
    assert set(os.listdir(parent)) == expected


# -- the main case: a 13 s 854x480 clip with audio -> 360p + 480p -----------------------

def test_master_playlist_describes_what_was_produced(transcoded, media):
    result, _ = transcoded.get("av480")
    master = master_of(result)
    text = result.master_playlist.read_text(encoding="utf-8")
    assert text.startswith("#EXTM3U\n")
    assert "#EXT-X-MEDIA:TYPE=AUDIO" not in text  # audio is muxed: no audio-only variant
    assert [v.uri for v in master.variants] == ["360p/index.m3u8", "480p/index.m3u8"]
    assert [(v.width, v.height) for v in master.variants] == [(640, 360), (854, 480)]
    for variant in master.variants:
        assert variant.codecs.startswith("avc1.6400") and variant.codecs.endswith(",mp4a.40.2")
        assert variant.frame_rate == 30.0
        assert variant.bandwidth >= variant.average_bandwidth > 0
        segment = ffprobe_json(result.out_dir / variant.uri.replace("index.m3u8", "seg_00000.ts"),
                               "-show_streams")
        video = next(s for s in segment["streams"] if s["codec_type"] == "video")
        assert (video["width"], video["height"]) == (variant.width, variant.height)
        assert variant.codecs.split(",")[0] == f"avc1.6400{video['level']:02x}"
    # Measured average matches the bytes on disk.
    first = master.variants[0]
    total = sum((result.out_dir / "360p" / s.uri).stat().st_size for s in media_playlist(result, first).segments)
    assert first.average_bandwidth == pytest.approx(total * 8 / 13.0, rel=0.02)
    assert master.variants[1].average_bandwidth > master.variants[0].average_bandwidth
    assert result.duration == pytest.approx(13.0, abs=0.2)


def test_segments_are_six_seconds_and_keyframes_aligned(transcoded):
    result, _ = transcoded.get("av480")
    playlist = (result.out_dir / "360p" / "index.m3u8").read_text()
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist and "#EXT-X-ENDLIST" in playlist
    assert [s.duration for s in media_playlist(result, master_of(result).variants[0]).segments] == \
        pytest.approx([6, 6, 1], abs=0.05)
    assert_segments_aligned(result)


def audio_start_times(segment: Path):
    data = ffprobe_json(segment, "-select_streams", "a:0", "-show_entries", "packet=pts_time")
    return float(data["packets"][0]["pts_time"])


def test_the_audio_only_rendition_is_listed_apart_and_cut_where_the_video_is(transcoded):
    result, _ = transcoded.get("av480")
    # Not in the video master (hls.js would drop it, Safari might fall to it): in listen.m3u8, alone.
    assert "audio/" not in result.master_playlist.read_text(encoding="utf-8")
    assert result.listen_playlist == result.out_dir / "listen.m3u8"
    [listen] = parse_master_playlist(result.listen_playlist.read_text(encoding="utf-8")).variants
    assert listen == result.listen_variant and listen.uri == "audio/index.m3u8"
    assert listen.codecs == "mp4a.40.2" and listen.resolution is None
    assert "RESOLUTION" not in result.listen_playlist.read_text(encoding="utf-8")
    # AAC at the policy's audio-only rate (128 kb/s), measured from the files.
    assert 100_000 < listen.average_bandwidth < 160_000
    video = media_playlist(result, master_of(result).variants[0]).segments
    audio = media_playlist(result, listen).segments
    assert len(audio) == len(video) == 3
    # Segment i covers the same media time in every rendition (within one AAC frame).
    video_ends = [sum(s.duration for s in video[:i + 1]) for i in range(len(video) - 1)]
    audio_ends = [sum(s.duration for s in audio[:i + 1]) for i in range(len(audio) - 1)]
    assert audio_ends == pytest.approx(video_ends, abs=0.05)
    for mine, theirs in zip(audio, video, strict=True):
        segment = result.out_dir / "audio" / mine.uri
        assert [s["codec_type"] for s in ffprobe_json(segment, "-show_streams")["streams"]] == ["audio"]
        assert audio_start_times(segment) == pytest.approx(
            video_packets(result.out_dir / "360p" / theirs.uri)[0][0], abs=0.05)


def test_audio_that_outlasts_the_picture_is_cut_at_the_videos_last_segment(tmp_path):
    def playlist(folder, durations):
        folder.mkdir()
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:6", "#EXT-X-PLAYLIST-TYPE:VOD"]
        for i, d in enumerate(durations):
            lines += [f"#EXTINF:{d:.6f},", f"seg_{i:05d}.ts"]
            (folder / f"seg_{i:05d}.ts").write_bytes(b"x")
        (folder / "index.m3u8").write_text("\n".join([*lines, "#EXT-X-ENDLIST"]) + "\n")
        return folder / "index.m3u8"

    video = playlist(tmp_path / "240p", [6.0, 6.0, 1.0])
    audio = playlist(tmp_path / "audio", [6.016, 5.995, 5.9, 0.4])
    assert align_to_reference(audio, video)
    kept = parse_media_playlist(audio.read_text())
    assert [s.uri for s in kept.segments] == ["seg_00000.ts", "seg_00001.ts", "seg_00002.ts"]
    assert audio.read_text().rstrip().endswith("#EXT-X-ENDLIST")
    assert sorted(p.name for p in audio.parent.glob("*.ts")) == ["seg_00000.ts", "seg_00001.ts", "seg_00002.ts"]
    # Cut elsewhere (a late-starting audio track, say): not the same media per segment, so not published.
    assert not align_to_reference(playlist(tmp_path / "late", [4.0, 6.0, 3.0]), video)
    assert not align_to_reference(playlist(tmp_path / "short", [6.0]), video)


def test_progress_is_monotonic_and_ends_at_one(transcoded):
    _, progress = transcoded.get("av480")
    assert len(progress) >= 3
    assert progress == sorted(progress) and len(set(progress)) == len(progress)
    assert progress[0] >= 0.0 and progress[-1] == 1.0
    assert all(0.0 <= p <= 1.0 for p in progress)
    assert progress[-2] > 0.5  # ffmpeg's reports were used, not just a final 1.0


def test_poster_and_storyboard_are_part_of_the_result(transcoded):
    result, _ = transcoded.get("av480")
    assert result.poster == result.out_dir / "poster.jpg"
    poster = ffprobe_json(result.poster, "-show_streams")["streams"][0]
    assert (poster["width"], poster["height"]) == (854, 480)
    vtt = result.storyboard.read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT") and "sprite_000.jpg#xywh=0,0,160,90" in vtt
    assert (result.out_dir / "sprite_000.jpg").is_file()


def test_out_dir_has_nothing_but_the_asset(transcoded):
    result, _ = transcoded.get("av480")
    assert sorted(os.listdir(result.out_dir)) == [
        "360p", "480p", "audio", "listen.m3u8", "master.m3u8", "poster.jpg", "sprite_000.jpg", "storyboard.vtt"]
    assert_no_leftovers(result.out_dir.parent, {"out"})
    assert oct(result.out_dir.stat().st_mode & 0o777) == "0o755"


# -- source shapes --------------------------------------------------------------------

def test_rotated_portrait_clip_is_encoded_upright(transcoded):
    result, _ = transcoded.get("rotated")
    [variant] = master_of(result).variants
    assert (variant.width, variant.height) == (240, 320)
    out = probe(result.out_dir / variant.uri.replace("index.m3u8", "seg_00000.ts"))
    assert out.rotation == 0 and (out.display_width, out.display_height) == (240, 320)
    poster = ffprobe_json(result.poster, "-show_streams")["streams"][0]
    assert poster["height"] > poster["width"]


def test_odd_dimensions_become_even_and_never_exceed_source(transcoded):
    result, _ = transcoded.get("odd")
    [variant] = master_of(result).variants
    assert (variant.width, variant.height) == (640, 358)


def test_audio_only_source_gets_one_audio_variant(transcoded):
    result, _ = transcoded.get("audio_only")
    master = master_of(result)
    [variant] = master.variants
    assert variant.codecs == "mp4a.40.2"
    assert variant.width is None and "RESOLUTION" not in result.master_playlist.read_text()
    assert result.poster is None and result.storyboard is None
    assert sorted(os.listdir(result.out_dir)) == ["audio", "master.m3u8"]  # no listen.m3u8: nothing to toggle
    assert result.listen_playlist is None and result.all_variants == (variant,)


def test_clip_shorter_than_one_segment(transcoded):
    result, _ = transcoded.get("short")
    [variant] = master_of(result).variants
    [segment] = media_playlist(result, variant).segments
    assert segment.duration == pytest.approx(2.0, abs=0.1)
    assert variant.bandwidth >= variant.average_bandwidth


def test_video_without_audio_declares_only_the_video_codec(transcoded):
    result, _ = transcoded.get("no_audio")
    [variant] = master_of(result).variants
    assert variant.codecs.startswith("avc1.") and "," not in variant.codecs
    streams = ffprobe_json(result.out_dir / "240p" / "seg_00000.ts", "-show_streams")["streams"]
    assert [s["codec_type"] for s in streams] == ["video"]
    assert_segments_aligned(result)
    assert result.listen_playlist is None and not (result.out_dir / "audio").exists()


def test_variable_frame_rate_source_becomes_constant(transcoded, media):
    result, _ = transcoded.get("vfr")
    expected_rate = output_frame_rate(probe(media.path("vfr")))
    [variant] = master_of(result).variants
    assert variant.frame_rate == pytest.approx(float(expected_rate))
    for segment in media_playlist(result, variant).segments:
        packets = video_packets(result.out_dir / "240p" / segment.uri)
        times = sorted(pts for pts, _ in packets)
        steps = {round(b - a, 3) for a, b in pairwise(times)}
        assert steps == {round(1 / float(expected_rate), 3)}, "frames are not evenly spaced"
    assert_segments_aligned(result)


def test_full_ladder_from_1080p(transcoded):
    result, _ = transcoded.get("hd1080")
    master = master_of(result)
    assert [(v.width, v.height) for v in master.variants] == [(640, 360), (854, 480), (1280, 720), (1920, 1080)]
    assert [v.average_bandwidth for v in master.variants] == sorted(v.average_bandwidth for v in master.variants)
    assert all(v.frame_rate == 25.0 for v in master.variants)
    assert len({v.codecs for v in master.variants}) > 1  # levels differ with resolution
    assert_segments_aligned(result)


# -- atomicity ------------------------------------------------------------------------

@pytest.mark.parametrize("cancel_at", [0.0, 0.9])
def test_cancel_leaves_nothing_behind(media, tmp_path, cancel_at):
    src = media.path("av480")
    cancel = threading.Event()
    seen = []

    def on_progress(fraction):
        seen.append(fraction)
        if fraction >= cancel_at:
            cancel.set()

    with pytest.raises(TranscodeCancelled):
        transcode(src, tmp_path / "asset", plan_ladder(probe(src)), on_progress, cancel_event=cancel)
    assert seen and seen[-1] < 1.0
    assert_no_leftovers(tmp_path, set())


def test_cancel_from_another_thread_stops_ffmpeg_early(media, tmp_path):
    src = media.path("av480")
    cancel = threading.Event()
    timer = threading.Timer(0.5, cancel.set)
    timer.start()
    try:
        with pytest.raises(TranscodeCancelled):
            transcode(src, tmp_path / "asset", plan_ladder(probe(src)), cancel_event=cancel)
    finally:
        timer.cancel()
    assert_no_leftovers(tmp_path, set())
    # No ffmpeg writing into our directory any more.
    pids = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert pids == []


def test_ffmpeg_failure_leaves_existing_asset_untouched(media, tmp_path):
    good = probe(media.path("small"))
    asset = tmp_path / "asset"
    asset.mkdir()
    (asset / "master.m3u8").write_text("old")
    # The ladder and info describe a video, but the bytes are text: ffmpeg fails.
    with pytest.raises(TranscodeError) as caught:
        transcode(media.path("text"), asset, plan_ladder(good), info=good)
    assert "ffmpeg failed" in str(caught.value) and caught.value.stderr_tail
    assert_no_leftovers(tmp_path, {"asset"})
    assert (asset / "master.m3u8").read_text() == "old"


def test_truncated_source_is_not_published(media, tmp_path):
    # Probes fine (index at the start) but two thirds of the samples are missing.
    src = media.path("truncated_faststart")
    with pytest.raises(TranscodeError, match="truncated"):
        transcode(src, tmp_path / "asset", plan_ladder(probe(src)), thumbnails=False)
    assert_no_leftovers(tmp_path, set())


def test_existing_out_dir_is_replaced(media, tmp_path):
    src = media.path("short")
    asset = tmp_path / "asset"
    (asset / "old-rendition").mkdir(parents=True)
    (asset / "master.m3u8").write_text("old")
    result = transcode(src, asset, plan_ladder(probe(src)), thumbnails=False)
    assert sorted(os.listdir(asset)) == ["240p", "audio", "listen.m3u8", "master.m3u8"]
    assert parse_master_playlist(result.master_playlist.read_text()).variants[0].width == 320
    assert_no_leftovers(tmp_path, {"asset"})


def test_unprobeable_source_fails_before_creating_anything(media, tmp_path):
    with pytest.raises(MediaError):
        transcode(media.path("empty"), tmp_path / "asset", [])
    assert_no_leftovers(tmp_path, set())
