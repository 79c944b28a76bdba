"""Refuse uploads that are not playable media, before a worker spends time on them."""

from __future__ import annotations

import os

from .errors import MediaError
from .policy import DEFAULT_LIMITS, Limits
from .probe import MediaInfo

#: Demuxers that "succeed" on arbitrary bytes (a text file is a valid ANSI-art "video").
_NON_MEDIA_FORMATS = {"tty", "txt", "ansi"}
_NON_MEDIA_CODECS = {"ansi", "text", "bintext", "xbin", "idf"}


def validate(info: MediaInfo, *, limits: Limits = DEFAULT_LIMITS, max_duration_s: float | None = None) -> None:
    """Check that ``info`` describes something we can transcode and publish.

    Audio-only files are accepted (audio lessons). Returns nothing; a file that passes
    can go to ``plan_ladder`` and ``transcode``.

    Args:
        info: result of ``probe``.
        limits: policy numbers; ``DEFAULT_LIMITS`` unless the site configures others.
        max_duration_s: overrides ``limits.max_duration_s`` (a per-course setting).

    Raises:
        MediaError: with a sentence saying what is wrong, fit to show the uploader.
    """
    name = os.path.basename(info.path) or "the file"
    max_duration = limits.max_duration_s if max_duration_s is None else max_duration_s

    if not info.streams:
        raise MediaError(f"{name}: contains no audio or video streams")
    if info.format_name in _NON_MEDIA_FORMATS or (info.video_codec in _NON_MEDIA_CODECS):
        raise MediaError(f"{name}: is a text file, not audio or video")
    if not info.has_video and not info.has_audio:
        kinds = ", ".join(sorted({s.codec_type for s in info.streams}))
        raise MediaError(f"{name}: contains no audio or video, only {kinds}")
    if info.duration < limits.min_duration_s:
        raise MediaError(f"{name}: has no duration (empty recording)")
    if info.duration > max_duration:
        raise MediaError(
            f"{name}: is {_hms(info.duration)} long; the maximum is {_hms(max_duration)}"
        )
    if info.has_video:
        _validate_picture(name, info, limits)
    _validate_complete(name, info, limits)


def _validate_picture(name: str, info: MediaInfo, limits: Limits) -> None:
    width, height = info.width or 0, info.height or 0
    if not (limits.min_dimension <= width <= limits.max_dimension
            and limits.min_dimension <= height <= limits.max_dimension):
        raise MediaError(
            f"{name}: picture size {width}x{height} is outside the supported range "
            f"{limits.min_dimension}–{limits.max_dimension} pixels"
        )
    rate = info.frame_rate
    if rate is not None and rate > limits.max_frame_rate:
        raise MediaError(f"{name}: frame rate {rate:.0f} fps is not plausible (corrupt timestamps?)")


def _validate_complete(name: str, info: MediaInfo, limits: Limits) -> None:
    """Catch files cut short by an interrupted upload or copy.

    Files whose index is at the end (plain MP4) fail in ``probe`` already. Those with
    the index first (``faststart``) probe fine, but their index promises more sample
    bytes than the file holds.
    """
    declared_bits = 0.0
    for stream in info.streams:
        if stream.bit_rate and stream.duration and not stream.attached_picture:
            declared_bits += stream.bit_rate * stream.duration
    declared_bytes = declared_bits / 8
    if declared_bytes > info.size_bytes * limits.truncation_tolerance + 4096:
        percent = 100 * info.size_bytes / declared_bytes
        raise MediaError(
            f"{name}: the file is incomplete (only about {percent:.0f} % of its data is present); "
            "upload it again"
        )


def _hms(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
