"""Read what a media file contains, with ffprobe (through ffmpeg-python)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from .errors import MediaError, ToolMissing

#: avg_frame_rate and r_frame_rate of a constant-rate file agree to rounding; a relative
#: gap larger than this means timestamps are irregular (phone recordings, screen capture).
VFR_TOLERANCE = 0.02


@dataclass(frozen=True)
class StreamInfo:
    """One elementary stream as ffprobe reports it."""

    index: int
    codec_type: str
    codec_name: str | None
    profile: str | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    bit_rate: int | None = None
    #: Cover art in MP3/M4A files is a "video" stream that must not count as video.
    attached_picture: bool = False


@dataclass(frozen=True)
class MediaInfo:
    """Facts about a media file needed to validate it and plan its renditions.

    ``width``/``height`` are the coded size; ``display_width``/``display_height`` are
    what the viewer sees after applying ``rotation`` (phones store portrait video as
    landscape plus a rotation flag).
    """

    path: str
    format_name: str
    duration: float
    size_bytes: int
    streams: tuple[StreamInfo, ...]
    has_video: bool
    has_audio: bool
    video_codec: str | None = None
    audio_codec: str | None = None
    #: ffmpeg index of the stream behind ``video_codec``/``width``…; not always 0 when
    #: a file carries cover art or several angles.
    video_stream_index: int | None = None
    width: int | None = None
    height: int | None = None
    rotation: int = 0
    display_width: int | None = None
    display_height: int | None = None
    avg_frame_rate: Fraction | None = None
    r_frame_rate: Fraction | None = None
    variable_frame_rate: bool = False

    @property
    def frame_rate(self) -> float | None:
        """Best single figure for the frame rate (average for VFR sources)."""
        rate = self.avg_frame_rate if self.variable_frame_rate else (self.r_frame_rate or self.avg_frame_rate)
        return float(rate) if rate else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (fractions as ``"num/den"`` strings)."""
        data = asdict(self)
        for key in ("avg_frame_rate", "r_frame_rate"):
            value = getattr(self, key)
            data[key] = f"{value.numerator}/{value.denominator}" if value is not None else None
        data["frame_rate"] = self.frame_rate
        return data


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Describe the media file at ``path``.

    Args:
        path: a local file.

    Returns:
        A ``MediaInfo``. Probing succeeds for some files that are still unusable (no
        streams, zero duration); pass the result to ``validate`` before publishing.

    Raises:
        MediaError: the file does not exist, is empty, or ffprobe cannot read it.
        ToolMissing: ffprobe is not installed.
    """
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path.name}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise MediaError(f"{path.name}: the file is empty")
    try:
        raw = ffmpeg.probe(str(path))
    except FileNotFoundError as exc:
        raise ToolMissing("ffprobe is not installed (run `make sysdeps`)") from exc
    except ffmpeg.Error as exc:
        detail = _last_line(exc.stderr)
        raise MediaError(
            f"{path.name}: not a readable audio or video file" + (f" ({detail})" if detail else "")
        ) from exc
    return media_info_from_ffprobe(raw, path=str(path), size_bytes=size)


def media_info_from_ffprobe(raw: dict[str, Any], *, path: str, size_bytes: int) -> MediaInfo:
    """Build a ``MediaInfo`` from ffprobe's JSON (``-show_format -show_streams``).

    Separate from ``probe`` so that unusual ffprobe outputs can be tested without files.

    Args:
        raw: ffprobe's JSON output, parsed.
        path: the file's path, kept in the result.
        size_bytes: the file's size, used when ffprobe reports none.
    """
    fmt = raw.get("format") or {}
    raw_streams = raw.get("streams") or []
    streams = tuple(_stream_info(s) for s in raw_streams)

    video_raw = next(
        (s for s in raw_streams if s.get("codec_type") == "video"
         and not (s.get("disposition") or {}).get("attached_pic")),
        None,
    )
    audio_raw = next((s for s in raw_streams if s.get("codec_type") == "audio"), None)

    duration = _float(fmt.get("duration"))
    if duration is None:
        durations = [s.duration for s in streams if s.duration is not None]
        duration = max(durations) if durations else 0.0

    fields: dict[str, Any] = {}
    if video_raw is not None:
        width, height = _int(video_raw.get("width")), _int(video_raw.get("height"))
        rotation = _rotation(video_raw)
        display_width: int | None
        display_height: int | None
        if width and height and rotation in (90, 270):
            display_width, display_height = height, width
        else:
            display_width, display_height = width, height
        avg = _fraction(video_raw.get("avg_frame_rate"))
        real = _fraction(video_raw.get("r_frame_rate"))
        fields.update(
            video_codec=video_raw.get("codec_name"),
            video_stream_index=int(video_raw.get("index", 0)),
            width=width,
            height=height,
            rotation=rotation,
            display_width=display_width,
            display_height=display_height,
            avg_frame_rate=avg,
            r_frame_rate=real,
            variable_frame_rate=bool(avg and real and abs(avg - real) / real > VFR_TOLERANCE),
        )
    if audio_raw is not None:
        fields["audio_codec"] = audio_raw.get("codec_name")

    return MediaInfo(
        path=path,
        format_name=str(fmt.get("format_name") or ""),
        duration=float(duration),
        size_bytes=_int(fmt.get("size")) or size_bytes,
        streams=streams,
        has_video=video_raw is not None,
        has_audio=audio_raw is not None,
        **fields,
    )


def _stream_info(raw: dict[str, Any]) -> StreamInfo:
    return StreamInfo(
        index=int(raw.get("index", 0)),
        codec_type=str(raw.get("codec_type") or "unknown"),
        codec_name=raw.get("codec_name"),
        profile=raw.get("profile"),
        width=_int(raw.get("width")),
        height=_int(raw.get("height")),
        duration=_float(raw.get("duration")),
        bit_rate=_int(raw.get("bit_rate")),
        attached_picture=bool((raw.get("disposition") or {}).get("attached_pic")),
    )


def _rotation(stream: dict[str, Any]) -> int:
    """Clockwise display rotation normalised to 0, 90, 180 or 270.

    Newer ffmpeg reports the display matrix in side data; older files and muxers only
    carry the legacy ``rotate`` tag. The sign convention differs between ffmpeg
    versions, but only whether width and height swap matters to us, and that is
    the same for +90 and -90.
    """
    value: Any = None
    for side in stream.get("side_data_list") or []:
        if side.get("side_data_type") == "Display Matrix" and "rotation" in side:
            value = side["rotation"]
            break
    if value is None:
        value = (stream.get("tags") or {}).get("rotate")
    number = _float(value)
    if number is None:
        return 0
    return round(number / 90.0) % 4 * 90


def _fraction(value: Any) -> Fraction | None:
    if not value or not isinstance(value, str):
        return None
    try:
        num, _, den = value.partition("/")
        result = Fraction(int(num), int(den or 1))
    except (ValueError, ZeroDivisionError):
        return None
    return result if result > 0 else None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "N/A", "") else None
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None


def _last_line(stderr: bytes | None) -> str:
    lines = [ln.strip() for ln in (stderr or b"").decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def segment_start_time(segment: str | os.PathLike[str]) -> float:
    """The presentation start time of an (unencrypted) HLS segment, 0.0 when it cannot be read."""
    try:
        fmt = ffmpeg.probe(str(segment))["format"]
        return float(fmt.get("start_time") or 0.0)
    except (ffmpeg.Error, ValueError, KeyError):
        return 0.0
