"""Poster frames and storyboards (sprite sheets + WebVTT) for scrubbing previews."""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
from pathlib import Path

from .errors import MediaError, ToolMissing, TranscodeError
from .playlist import write_text_atomic
from .policy import DEFAULT_THUMBNAIL_POLICY, ThumbnailPolicy
from .probe import MediaInfo, probe

STORYBOARD_NAME = "storyboard.vtt"
SPRITE_PATTERN = "sprite_%03d.jpg"


def make_poster(
    src: str | os.PathLike[str],
    dest_jpg: str | os.PathLike[str],
    at_s: float | None = None,
    *,
    info: MediaInfo | None = None,
    policy: ThumbnailPolicy = DEFAULT_THUMBNAIL_POLICY,
) -> Path:
    """Write one JPEG frame of ``src`` to ``dest_jpg`` (replaced atomically).

    Args:
        src: a video file (or HLS media playlist).
        dest_jpg: where to write the JPEG.
        at_s: time of the frame; by default ``policy.poster_position`` into the video,
            at most ``policy.poster_max_offset_s``. Clamped into the video.
        info: ``probe(src)`` if already known.
        policy: size and quality.

    Returns:
        ``dest_jpg`` as a Path.

    Raises:
        MediaError: ``src`` has no video.
        TranscodeError: ffmpeg could not extract a frame.
    """
    info = info if info is not None else probe(src)
    if not info.has_video:
        raise MediaError(f"{Path(src).name}: no video to take a poster frame from")
    if at_s is None:
        at_s = min(info.duration * policy.poster_position, policy.poster_max_offset_s)
    # Seeking at or past the last frame yields no frame at all.
    at_s = min(max(at_s, 0.0), max(info.duration - 0.5, 0.0))
    dest = Path(dest_jpg)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".jpg", dir=dest.parent)
    os.close(fd)
    try:
        _ffmpeg([
            "-ss", f"{at_s:.3f}", "-i", str(src), "-an", "-frames:v", "1",
            "-vf", f"scale='min({policy.poster_max_width},iw)':-2",
            "-q:v", str(policy.jpeg_quality), "-f", "image2", "-update", "1", tmp,
        ])
        if os.path.getsize(tmp) == 0:
            raise TranscodeError(f"no frame at {at_s:.1f} s in {src}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def make_storyboard(
    src: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    interval_s: float | None = None,
    tile: tuple[int, int] | None = None,
    thumb_width: int | None = None,
    *,
    info: MediaInfo | None = None,
    policy: ThumbnailPolicy = DEFAULT_THUMBNAIL_POLICY,
) -> Path:
    """Write sprite sheets ``sprite_000.jpg``… and ``storyboard.vtt`` into ``out_dir``.

    Each WebVTT cue covers ``interval_s`` seconds and points at one thumbnail with a
    media fragment: ``sprite_000.jpg#xywh=x,y,w,h``, the format players (Video.js,
    Plyr, Vidstack) use for seek previews.

    Args:
        src: a video file or HLS media playlist.
        out_dir: existing directory to write into.
        interval_s: seconds between thumbnails (default from ``policy``).
        tile: (columns, rows) per sprite sheet (default from ``policy``).
        thumb_width: thumbnail width in pixels; height follows the displayed aspect.
        info: ``probe(src)`` if already known.
        policy: defaults and JPEG quality.

    Returns:
        Path of ``storyboard.vtt``.

    Raises:
        MediaError: ``src`` has no video, or arguments are out of range.
        TranscodeError: ffmpeg failed.
    """
    interval_s = interval_s or policy.storyboard_interval_s
    columns, rows = tile or policy.storyboard_tile
    thumb_width = thumb_width or policy.storyboard_thumb_width
    if interval_s <= 0 or columns < 1 or rows < 1 or thumb_width < 16:
        raise MediaError("storyboard interval, tile and width must be positive")
    info = info if info is not None else probe(src)
    if not info.has_video or not info.display_width or not info.display_height:
        raise MediaError(f"{Path(src).name}: no video to make a storyboard from")
    thumb_width -= thumb_width % 2
    thumb_height = max(2, 2 * round(thumb_width * info.display_height / info.display_width / 2))
    out_dir = Path(out_dir)

    with tempfile.TemporaryDirectory(prefix=".storyboard-", dir=out_dir) as scratch:
        # Two passes: single thumbnails first, so that we know exactly how many there
        # are, then tiling them, which costs nothing next to decoding the video.
        # ``select`` takes the first frame at or after each multiple of the interval
        # (counted from the first frame: HLS input starts at 1.4 s, not 0). The fps
        # filter would round to the nearest multiple and emit nothing for clips
        # shorter than half an interval.
        select = f"select='gte(t-start_t\\,selected_n*{interval_s:g})'"
        _ffmpeg([
            "-i", str(src), "-an",
            "-vf", f"{select},scale={thumb_width}:{thumb_height},setsar=1",
            "-fps_mode", "passthrough",
            "-q:v", str(policy.jpeg_quality), "-start_number", "0",
            os.path.join(scratch, "thumb_%06d.jpg"),
        ])
        count = len([n for n in os.listdir(scratch) if n.startswith("thumb_")])
        # Never more cues than intervals, whatever the rounding of the last frame.
        count = min(count, max(1, math.ceil(info.duration / interval_s - 1e-6)))
        if count == 0:
            raise TranscodeError(f"no frames could be extracted from {src}")
        _ffmpeg([
            "-framerate", "1", "-start_number", "0", "-i", os.path.join(scratch, "thumb_%06d.jpg"),
            "-frames:v", str(math.ceil(count / (columns * rows))),
            "-vf", f"tile={columns}x{rows}", "-q:v", str(policy.jpeg_quality),
            "-start_number", "0", str(out_dir / SPRITE_PATTERN),
        ])

    per_sheet = columns * rows
    lines = ["WEBVTT", ""]
    for index in range(count):
        start = index * interval_s
        end = min((index + 1) * interval_s, info.duration)
        sheet, cell = divmod(index, per_sheet)
        x, y = cell % columns * thumb_width, cell // columns * thumb_height
        lines += [
            f"{_timestamp(start)} --> {_timestamp(max(end, start + 0.001))}",
            f"{SPRITE_PATTERN % sheet}#xywh={x},{y},{thumb_width},{thumb_height}",
            "",
        ]
    vtt = out_dir / STORYBOARD_NAME
    write_text_atomic(vtt, "\n".join(lines))
    return vtt


def _ffmpeg(args: list[str]) -> None:
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args]
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise ToolMissing("ffmpeg is not installed (run `make sysdeps`)") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.decode("utf-8", "replace").strip().splitlines()[-10:])
        raise TranscodeError(f"ffmpeg failed with exit status {done.returncode}", tail)


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"
