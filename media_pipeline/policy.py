"""Every policy number of the media pipeline, in one place.

Validation limits, the bitrate ladder and the encoder settings are frozen dataclasses
with module-level defaults. Callers that need other numbers (tests, a site with other
bandwidth) pass their own instance instead of editing literals scattered in the code.
"""

from __future__ import annotations

from dataclasses import dataclass

#: HLS segment length. 6 s is Apple's current recommendation: short enough for quick
#: start and bitrate switching, long enough to keep the playlist and request count small.
DEFAULT_SEGMENT_SECONDS = 6


@dataclass(frozen=True)
class Limits:
    """What ``validate`` accepts."""

    #: A lecture plus discussion fits in four hours; anything longer is almost
    #: certainly a recording left running, and would occupy a worker for hours.
    max_duration_s: float = 4 * 3600
    #: Below this there is nothing to watch and segmenting misbehaves.
    min_duration_s: float = 0.1
    #: Smaller than a thumbnail: a broken header rather than a real video.
    min_dimension: int = 16
    #: 8K; beyond this libx264 and the browsers' decoders give up.
    max_dimension: int = 8192
    #: Higher rates are corrupt timestamps rather than real high-speed footage.
    max_frame_rate: float = 240.0
    #: How far the sum of the streams' declared payload may exceed the file size
    #: before we call the file truncated (container overhead and rounding).
    truncation_tolerance: float = 1.05


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Rung:
    """One step of the ladder, defined for a 16:9 picture."""

    name: str
    #: Height for landscape, width for portrait: the short side of the displayed picture.
    short_side: int
    video_bitrate: int
    audio_bitrate: int


@dataclass(frozen=True)
class LadderPolicy:
    """How ``plan_ladder`` turns a source into renditions."""

    #: Bitrates for talking-head lectures and slides (low motion) in H.264; a little
    #: under the figures of Apple's authoring spec, which targets high-motion content.
    rungs: tuple[Rung, ...] = (
        Rung("360p", 360, 700_000, 96_000),
        Rung("480p", 480, 1_200_000, 128_000),
        Rung("720p", 720, 2_500_000, 128_000),
        Rung("1080p", 1080, 4_500_000, 160_000),
    )
    #: Peak allowed over the average: keeps segment sizes, hence BANDWIDTH, predictable.
    maxrate_factor: float = 1.1
    #: VBV buffer relative to the average: one and a half seconds of video.
    bufsize_factor: float = 1.5
    #: Non-16:9 pictures get bitrate in proportion to their area, within these bounds,
    #: so that a 2.39:1 film and a 9:16 phone video are neither starved nor bloated.
    min_area_factor: float = 0.25
    max_area_factor: float = 2.0
    min_video_bitrate: int = 150_000
    #: Audio lessons: one AAC stream, speech at this rate is transparent.
    audio_only_bitrate: int = 128_000
    #: Above this the output frame rate is halved (120 → 60, 100 → 50).
    max_frame_rate: float = 60.0
    #: Used when the source declares no usable frame rate at all.
    fallback_frame_rate: int = 30


DEFAULT_LADDER_POLICY = LadderPolicy()


@dataclass(frozen=True)
class EncoderSettings:
    """ffmpeg encoder options shared by every rendition."""

    #: ``veryfast`` is the usual VOD trade-off on small servers: about twice the speed of
    #: ``medium`` for ~10 % more bits at equal quality.
    preset: str = "veryfast"
    #: High profile is decoded by every phone and browser of the last decade.
    video_profile: str = "high"
    pixel_format: str = "yuv420p"
    audio_sample_rate: int = 48_000
    audio_channels: int = 2
    #: Extra ``-threads`` for the encoder; 0 lets ffmpeg decide.
    threads: int = 0


DEFAULT_ENCODER_SETTINGS = EncoderSettings()


@dataclass(frozen=True)
class ThumbnailPolicy:
    """Posters and storyboards (scrubbing previews)."""

    storyboard_interval_s: float = 5.0
    #: Columns × rows per sprite sheet; 10 × 10 keeps a sheet under ~1 MB at 160 px.
    storyboard_tile: tuple[int, int] = (10, 10)
    storyboard_thumb_width: int = 160
    #: Poster frame: this fraction into the video (skips black intros and fades) ...
    poster_position: float = 0.1
    #: ... but no later than this.
    poster_max_offset_s: float = 10.0
    poster_max_width: int = 1280
    #: ffmpeg's mjpeg quality scale, 2 (best) to 31.
    jpeg_quality: int = 4


DEFAULT_THUMBNAIL_POLICY = ThumbnailPolicy()
