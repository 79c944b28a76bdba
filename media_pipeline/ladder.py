"""Choose the renditions (the "bitrate ladder") for a source.

Every source with audio gets an audio-only rendition (``AUDIO_RENDITION_NAME``, AAC at the policy's
``audio_only_bitrate``): the whole ladder of an audio lesson, and, beside the video rungs of a video lesson,
what a member listens to on a weak network ("仅听音频"). It is cut at the same instants as the video, so
segment ``i`` covers the same media time (and has the same key) in every rendition; ``playlist`` lists it
apart from the video variants (see ``LISTEN_PLAYLIST_NAME`` there for why).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from .errors import MediaError
from .policy import DEFAULT_LADDER_POLICY, LadderPolicy, Rung
from .probe import MediaInfo

AUDIO_RENDITION_NAME = "audio"


@dataclass(frozen=True)
class Rendition:
    """One output variant. ``width``/``height`` are ``None`` for the audio-only rendition.

    Bitrates are in bits per second; ``audio_bitrate`` is 0 when the source has no audio.
    """

    name: str
    width: int | None
    height: int | None
    video_bitrate: int
    maxrate: int
    bufsize: int
    audio_bitrate: int

    @property
    def is_audio_only(self) -> bool:
        return self.width is None


def plan_ladder(info: MediaInfo, policy: LadderPolicy = DEFAULT_LADDER_POLICY) -> list[Rendition]:
    """Plan the renditions for ``info``, smallest first.

    Rungs are judged on the short side of the *displayed* picture (after rotation), so
    a portrait phone video gets 360x640 … 1080x1920, like its landscape twin. Never
    upscales: a source smaller than the lowest rung gets one rendition at its own size.
    Dimensions are even (required by 4:2:0 chroma) and keep the source's aspect ratio.

    Args:
        info: a validated ``MediaInfo``.
        policy: rungs and bitrate rules.

    Returns:
        The video renditions ordered by increasing size, then, when the source has audio, the audio-only
        rendition (``is_audio_only``); a single audio rendition for a source without video.

    Raises:
        MediaError: the source has neither video nor audio, or no picture size.
    """
    if not info.has_video:
        if not info.has_audio:
            raise MediaError("nothing to transcode: no audio or video stream")
        return [_audio_only(policy)]

    width, height = info.display_width, info.display_height
    if not width or not height:
        raise MediaError("the video stream has no picture size")
    landscape = width >= height
    short, long = (height, width) if landscape else (width, height)

    rungs = [rung for rung in policy.rungs if rung.short_side <= short]
    if not rungs:
        lowest = min(policy.rungs, key=lambda r: r.short_side)
        own_short = _even_floor(short)
        rungs = [Rung(f"{own_short}p", own_short, lowest.video_bitrate, lowest.audio_bitrate)]

    renditions: list[Rendition] = []
    for rung in rungs:
        out_short = rung.short_side
        # Nearest even long side keeps the aspect ratio best, but must not exceed the
        # source (a 1919x1080 source must not become 1920 wide).
        out_long = min(_even_round(long * out_short / short), _even_floor(long))
        if not landscape and out_long <= out_short and out_long > 2:
            # Even rounding made a barely-portrait source square (16x17 -> 16x16): keep it portrait.
            out_short = out_long - 2
        out_w, out_h = (out_long, out_short) if landscape else (out_short, out_long)
        video_bitrate = _scaled_bitrate(rung, out_w * out_h, policy)
        renditions.append(
            Rendition(
                name=rung.name,
                width=out_w,
                height=out_h,
                video_bitrate=video_bitrate,
                maxrate=int(video_bitrate * policy.maxrate_factor),
                bufsize=int(video_bitrate * policy.bufsize_factor),
                audio_bitrate=rung.audio_bitrate if info.has_audio else 0,
            )
        )
    if info.has_audio:
        renditions.append(_audio_only(policy))
    return renditions


def _audio_only(policy: LadderPolicy) -> Rendition:
    return Rendition(AUDIO_RENDITION_NAME, None, None, 0, 0, 0, policy.audio_only_bitrate)


def video_renditions(ladder: Sequence[Rendition]) -> list[Rendition]:
    """The renditions of ``ladder`` that have a picture, in order.

    Args:
        ladder: renditions from ``plan_ladder``.
    """
    return [r for r in ladder if not r.is_audio_only]


def audio_only_rendition(ladder: Sequence[Rendition]) -> Rendition | None:
    """The audio-only rendition of ``ladder``, or None.

    Args:
        ladder: renditions from ``plan_ladder``.

    Raises:
        ValueError: the ladder has more than one (they would share a folder name and a place in the playlists).
    """
    found = [r for r in ladder if r.is_audio_only]
    if len(found) > 1:
        raise ValueError("a ladder has at most one audio-only rendition")
    return found[0] if found else None


def output_frame_rate(info: MediaInfo, policy: LadderPolicy = DEFAULT_LADDER_POLICY) -> Fraction:
    """The constant frame rate every rendition is encoded at.

    All renditions share one rate so that keyframes (every ``fps * segment_seconds``
    frames) fall at the same instants. Variable-rate sources get their average rounded
    to whole frames; rates above ``policy.max_frame_rate`` are halved.

    Args:
        info: the probed source.
        policy: the frame-rate limit and the fallback for sources without a usable rate.
    """
    rate: Fraction | None
    if info.variable_frame_rate:
        rate = Fraction(round(info.avg_frame_rate)) if info.avg_frame_rate else None
    else:
        rate = info.r_frame_rate or info.avg_frame_rate
    if not rate or rate < 1:
        rate = Fraction(policy.fallback_frame_rate)
    while rate > policy.max_frame_rate:
        rate /= 2
    # NTSC rates are 30000/1001 etc.; anything with a wilder denominator is a
    # timebase artefact and would make a GOP length that is not an integer.
    return rate.limit_denominator(1001)


def _scaled_bitrate(rung: Rung, area: int, policy: LadderPolicy) -> int:
    reference_area = rung.short_side * rung.short_side * 16 / 9
    factor = min(max(area / reference_area, policy.min_area_factor), policy.max_area_factor)
    return max(int(round(rung.video_bitrate * factor, -4)), policy.min_video_bitrate)


def _even_round(value: float) -> int:
    return max(2, 2 * int(value / 2 + 0.5))


def _even_floor(value: float) -> int:
    return max(2, 2 * int(value // 2))
