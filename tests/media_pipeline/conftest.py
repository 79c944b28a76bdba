"""Synthetic media made with ffmpeg at test time (lavfi testsrc2 + sine), good and bad.

Clips are tiny (≤ 13 s, mostly 320x240) so the whole media suite stays within a few
minutes on a two-core machine. Each is generated on first use and shared by the session.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .helpers import run_ffmpeg


def _video_audio(dest: Path, size: str, seconds: float, rate: int = 30, audio: bool = True,
                 extra: tuple[str, ...] = ()) -> None:
    inputs = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}"]
    run_ffmpeg(*inputs, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
               *(["-c:a", "aac", "-b:a", "64k"] if audio else []), *extra, str(dest))


def _make_av480(dest: Path) -> None:
    _video_audio(dest, "854x480", 13)


def _make_hd1080(dest: Path) -> None:
    _video_audio(dest, "1920x1080", 2, rate=25)


def _make_small(dest: Path) -> None:
    _video_audio(dest, "320x240", 3)


def _make_rotated(dest: Path) -> None:
    # ffmpeg 5.1 honours the rotate tag only when remuxing, so encode first, then tag.
    plain = dest.with_name("rotated_plain.mp4")
    _video_audio(plain, "320x240", 3)
    run_ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(dest))


def _make_odd(dest: Path) -> None:
    _video_audio(dest, "641x359", 3)


def _make_short(dest: Path) -> None:
    _video_audio(dest, "320x240", 2)


def _make_no_audio(dest: Path) -> None:
    _video_audio(dest, "320x240", 7, audio=False)


def _make_audio_only(dest: Path) -> None:
    run_ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:duration=4", "-c:a", "aac", "-b:a", "96k", str(dest))


def _make_vfr(dest: Path) -> None:
    # Keep the first second at 30 fps, then every third frame: timestamps stay those of
    # the source, so the average rate (≈ 15 fps) differs from r_frame_rate (30 fps).
    _video_audio(dest, "320x240", 8, extra=("-vf", "select='lt(n\\,30)+not(mod(n\\,3))'", "-fps_mode", "vfr"))


def _make_empty(dest: Path) -> None:
    dest.write_bytes(b"")


def _make_text(dest: Path) -> None:
    dest.write_text("这不是视频。This is a lesson plan, not a video.\n" * 50, encoding="utf-8")


def _make_truncated(dest: Path, media: MediaFactory) -> None:
    # A plain MP4 keeps its index (moov) at the end: cut it and nothing can be read.
    data = media.path("small").read_bytes()
    dest.write_bytes(data[: len(data) // 2])


def _make_truncated_faststart(dest: Path, media: MediaFactory) -> None:
    # With the index first, the header still probes fine but half the samples are gone.
    full = dest.with_name("faststart_full.mp4")
    run_ffmpeg("-i", str(media.path("small")), "-c", "copy", "-movflags", "+faststart", str(full))
    data = full.read_bytes()
    dest.write_bytes(data[: len(data) // 3])


def _make_no_streams(dest: Path) -> None:
    _video_audio(dest, "320x240", 0, audio=False)


def _make_subtitle_only(dest: Path) -> None:
    srt = dest.with_name("only.srt")
    srt.write_text("1\n00:00:00,000 --> 00:00:02,000\nhello\n", encoding="utf-8")
    run_ffmpeg("-i", str(srt), "-c:s", "mov_text", str(dest))


_RECIPES = {
    "av480": ("av480.mp4", _make_av480),
    "hd1080": ("hd1080.mp4", _make_hd1080),
    "small": ("small.mp4", _make_small),
    "rotated": ("rotated.mp4", _make_rotated),
    "odd": ("odd_641x359.mp4", _make_odd),
    "short": ("short.mp4", _make_short),
    "no_audio": ("no_audio.mp4", _make_no_audio),
    "audio_only": ("audio_only.m4a", _make_audio_only),
    "vfr": ("vfr.mp4", _make_vfr),
    "empty": ("empty.mp4", _make_empty),
    "text": ("lesson_plan.mp4", _make_text),
    "truncated": ("truncated.mp4", _make_truncated),
    "truncated_faststart": ("truncated_faststart.mp4", _make_truncated_faststart),
    "no_streams": ("no_streams.mp4", _make_no_streams),
    "subtitle_only": ("subtitle_only.mp4", _make_subtitle_only),
}


class MediaFactory:
    """Makes each named clip once per session, on first use."""

    def __init__(self, root: Path):
        self.root = root
        self._made: dict[str, Path] = {}

    def path(self, name: str) -> Path:
        if name not in self._made:
            filename, recipe = _RECIPES[name]
            dest = self.root / filename
            if recipe in (_make_truncated, _make_truncated_faststart):
                recipe(dest, self)
            else:
                recipe(dest)
            self._made[name] = dest
        return self._made[name]


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> MediaFactory:
    # Fail rather than skip: `make test` installs ffmpeg, and a silently skipped media
    # suite would hide a broken pipeline.
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        pytest.fail("ffmpeg is not installed (run `make sysdeps`)")
    return MediaFactory(tmp_path_factory.mktemp("media-src"))


class TranscodeCache:
    """Transcodes each clip once per session with default settings; tests only read."""

    def __init__(self, media: MediaFactory, root: Path):
        self.media, self.root = media, root
        self._done: dict[str, tuple[object, list[float]]] = {}

    def get(self, name: str):
        from media_pipeline import plan_ladder, probe, transcode

        if name not in self._done:
            src = self.media.path(name)
            info = probe(src)
            progress: list[float] = []
            result = transcode(src, self.root / name / "out", plan_ladder(info), progress.append, info=info)
            self._done[name] = (result, progress)
        return self._done[name]


@pytest.fixture(scope="session")
def transcoded(media, tmp_path_factory) -> TranscodeCache:
    return TranscodeCache(media, tmp_path_factory.mktemp("media-out"))
