"""media_pipeline: turn uploaded lecture recordings into adaptive HLS streams.

A pure library (no Flask, no database): probe and validate uploads, plan a bitrate
ladder, transcode with a single ffmpeg process, write the master playlist, make
posters and storyboards, and import subtitles. Needs ``ffmpeg``/``ffprobe`` on PATH.

Typical use::

    info = probe(path)
    validate(info)
    result = transcode(path, out_dir, plan_ladder(info), on_progress=print)
"""

from .errors import MediaError, SubtitleError, ToolMissing, TranscodeCancelled, TranscodeError
from .ladder import AUDIO_RENDITION_NAME, Rendition, output_frame_rate, plan_ladder
from .playlist import (
    LISTEN_PLAYLIST_NAME,
    MasterPlaylist,
    SubtitleTrack,
    Variant,
    parse_master_playlist,
    parse_media_playlist,
)
from .policy import (
    DEFAULT_ENCODER_SETTINGS,
    DEFAULT_LADDER_POLICY,
    DEFAULT_LIMITS,
    DEFAULT_SEGMENT_SECONDS,
    DEFAULT_THUMBNAIL_POLICY,
    EncoderSettings,
    LadderPolicy,
    Limits,
    Rung,
    ThumbnailPolicy,
)
from .probe import MediaInfo, StreamInfo, probe
from .subtitles import Cue, add_subtitle_track, parse_cues, subtitles_to_webvtt
from .thumbnails import make_poster, make_storyboard
from .transcode import TranscodeResult, build_ffmpeg_command, transcode
from .validate import validate

__all__ = [
    "AUDIO_RENDITION_NAME",
    "DEFAULT_ENCODER_SETTINGS",
    "DEFAULT_LADDER_POLICY",
    "DEFAULT_LIMITS",
    "DEFAULT_SEGMENT_SECONDS",
    "DEFAULT_THUMBNAIL_POLICY",
    "LISTEN_PLAYLIST_NAME",
    "Cue",
    "EncoderSettings",
    "LadderPolicy",
    "Limits",
    "MasterPlaylist",
    "MediaError",
    "MediaInfo",
    "Rendition",
    "Rung",
    "StreamInfo",
    "SubtitleError",
    "SubtitleTrack",
    "ThumbnailPolicy",
    "ToolMissing",
    "TranscodeCancelled",
    "TranscodeError",
    "TranscodeResult",
    "Variant",
    "add_subtitle_track",
    "build_ffmpeg_command",
    "make_poster",
    "make_storyboard",
    "output_frame_rate",
    "parse_cues",
    "parse_master_playlist",
    "parse_media_playlist",
    "plan_ladder",
    "probe",
    "subtitles_to_webvtt",
    "transcode",
    "validate",
]
