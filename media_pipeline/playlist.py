"""HLS playlists: reading ffmpeg's media playlists and writing our own master playlist.

We write the master ourselves instead of using ffmpeg's ``-master_pl_name`` because
ffmpeg declares nominal bitrates instead of measured ones, omits the audio codec for
muxed audio (browsers then refuse the variant) and lists stray audio-only variants.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import ffmpeg

from .errors import TranscodeError

MASTER_PLAYLIST_NAME = "master.m3u8"
#: The audio-only rendition of a video source ("仅听音频"), alone in a master playlist of its own beside
#: ``master.m3u8``, which lists the video variants only. Not one master with both: hls.js (1.7,
#: ``level-controller.ts``) drops audio-only levels from a manifest that also has video levels, so the member
#: could never choose it there, while Safari's native HLS keeps them and its bitrate adaptation may fall to
#: the audio-only variant on a slow link, leaving a black picture the member did not ask for. Listening is
#: the member's choice: the player loads this playlist instead when they press the toggle, at the same
#: position (its segments are cut where the video's are and use the same keys).
LISTEN_PLAYLIST_NAME = "listen.m3u8"
MEDIA_PLAYLIST_NAME = "index.m3u8"
SUBTITLE_GROUP_ID = "subs"

# H.264 profile_idc and the usual constraint flags byte, as written in RFC 6381 codec
# strings ("avc1.PPCCLL"). ffprobe reports names, not the bytes.
_AVC_PROFILES = {
    "constrained baseline": "42E0",
    "baseline": "4200",
    "main": "4D40",
    "extended": "58A0",
    "high": "6400",
    "high 10": "6E00",
    "high 4:2:2": "7A00",
    "high 4:4:4 predictive": "F400",
}
# MPEG-4 Audio Object Types (ISO 14496-3).
_AAC_OBJECT_TYPES = {"lc": 2, "he-aac": 5, "he-aacv2": 29, "main": 1, "ltp": 4}


@dataclass(frozen=True)
class Segment:
    duration: float
    uri: str


@dataclass(frozen=True)
class MediaPlaylist:
    target_duration: int
    segments: tuple[Segment, ...]

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)


@dataclass(frozen=True)
class Variant:
    """One ``#EXT-X-STREAM-INF`` entry. Bandwidths in bits per second."""

    uri: str
    bandwidth: int
    average_bandwidth: int
    codecs: str
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    subtitles: str | None = None

    @property
    def resolution(self) -> str | None:
        return f"{self.width}x{self.height}" if self.width and self.height else None


@dataclass(frozen=True)
class SubtitleTrack:
    """One ``#EXT-X-MEDIA:TYPE=SUBTITLES`` entry."""

    language: str
    name: str
    uri: str
    group_id: str = SUBTITLE_GROUP_ID
    default: bool = False
    autoselect: bool = True


@dataclass(frozen=True)
class MasterPlaylist:
    variants: tuple[Variant, ...]
    subtitles: tuple[SubtitleTrack, ...] = field(default=())

    def render(self) -> str:
        """The playlist text."""
        lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS"]
        for track in self.subtitles:
            lines.append(
                "#EXT-X-MEDIA:TYPE=SUBTITLES"
                f',GROUP-ID="{track.group_id}",LANGUAGE="{track.language}",NAME="{_quoted(track.name)}"'
                f",DEFAULT={'YES' if track.default else 'NO'}"
                f",AUTOSELECT={'YES' if track.autoselect else 'NO'}"
                f',URI="{track.uri}"'
            )
        for variant in self.variants:
            attrs = [f"BANDWIDTH={variant.bandwidth}", f"AVERAGE-BANDWIDTH={variant.average_bandwidth}"]
            if variant.resolution:
                attrs.append(f"RESOLUTION={variant.resolution}")
            if variant.frame_rate:
                attrs.append(f"FRAME-RATE={variant.frame_rate:.3f}")
            attrs.append(f'CODECS="{variant.codecs}"')
            if variant.subtitles:
                attrs.append(f'SUBTITLES="{variant.subtitles}"')
            lines.append("#EXT-X-STREAM-INF:" + ",".join(attrs))
            lines.append(variant.uri)
        return "\n".join(lines) + "\n"

    def with_subtitle_track(self, track: SubtitleTrack) -> MasterPlaylist:
        """A copy with ``track`` added (replacing a track of the same language) and every
        variant pointing at the subtitle group.

        Args:
            track: the subtitle track to list.
        """
        others = tuple(t for t in self.subtitles if t.language != track.language)
        variants = tuple(replace(v, subtitles=track.group_id) for v in self.variants)
        return MasterPlaylist(variants=variants, subtitles=(*others, track))


_ATTR_RE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def parse_attributes(text: str) -> dict[str, str]:
    """Attribute list of an HLS tag (``KEY=value,KEY="quoted"``), quotes removed.

    Args:
        text: what follows the tag's colon.
    """
    return {key: value.strip('"') for key, value in _ATTR_RE.findall(text)}


def parse_master_playlist(text: str) -> MasterPlaylist:
    """Read a master playlist written by ``MasterPlaylist.render``.

    Args:
        text: the playlist text.

    Raises:
        ValueError: the text is not a master playlist.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise ValueError("not an HLS playlist")
    variants: list[Variant] = []
    subtitles: list[SubtitleTrack] = []
    pending: dict[str, str] | None = None
    for line in lines[1:]:
        if line.startswith("#EXT-X-MEDIA:"):
            attrs = parse_attributes(line.split(":", 1)[1])
            if attrs.get("TYPE") == "SUBTITLES":
                subtitles.append(SubtitleTrack(
                    language=attrs.get("LANGUAGE", ""), name=attrs.get("NAME", ""), uri=attrs["URI"],
                    group_id=attrs.get("GROUP-ID", SUBTITLE_GROUP_ID), default=attrs.get("DEFAULT") == "YES",
                    autoselect=attrs.get("AUTOSELECT", "YES") == "YES",
                ))
        elif line.startswith("#EXT-X-STREAM-INF:"):
            pending = parse_attributes(line.split(":", 1)[1])
        elif not line.startswith("#") and pending is not None:
            width = height = None
            if "RESOLUTION" in pending:
                width, height = (int(n) for n in pending["RESOLUTION"].split("x"))
            variants.append(Variant(
                uri=line,
                bandwidth=int(pending["BANDWIDTH"]),
                average_bandwidth=int(pending.get("AVERAGE-BANDWIDTH", pending["BANDWIDTH"])),
                codecs=pending.get("CODECS", ""),
                width=width,
                height=height,
                frame_rate=float(pending["FRAME-RATE"]) if "FRAME-RATE" in pending else None,
                subtitles=pending.get("SUBTITLES"),
            ))
            pending = None
    if not variants:
        raise ValueError("master playlist lists no variants")
    return MasterPlaylist(variants=tuple(variants), subtitles=tuple(subtitles))


def parse_media_playlist(text: str) -> MediaPlaylist:
    """Read the segments of a media playlist.

    Args:
        text: the playlist text.

    Raises:
        ValueError: the text is not a media playlist.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise ValueError("not an HLS playlist")
    target = 0
    segments: list[Segment] = []
    duration: float | None = None
    for line in lines[1:]:
        if line.startswith("#EXT-X-TARGETDURATION:"):
            target = int(line.split(":", 1)[1])
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].split(",", 1)[0])
        elif not line.startswith("#") and duration is not None:
            segments.append(Segment(duration, line))
            duration = None
    return MediaPlaylist(target_duration=target, segments=tuple(segments))


def peak_bandwidth(sizes_and_durations: list[tuple[int, float]], target_duration: float) -> int:
    """Peak segment bit rate as RFC 8216 §4.3.4.2 defines it.

    The largest bit rate of any run of contiguous segments lasting between 0.5 and 1.5
    target durations; so a tiny last segment (a keyframe in a tenth of a second) does
    not inflate BANDWIDTH and scare players into lower renditions.

    Args:
        sizes_and_durations: (bytes, seconds) of each segment, in playlist order.
        target_duration: the playlist's ``EXT-X-TARGETDURATION``.

    Returns:
        Bits per second, rounded up (0 for no segments).
    """
    best = 0.0
    count = len(sizes_and_durations)
    for start in range(count):
        total_bytes, total_seconds = 0, 0.0
        for size, seconds in sizes_and_durations[start:]:
            total_bytes += size
            total_seconds += seconds
            if total_seconds > 1.5 * target_duration:
                break
            if total_seconds >= 0.5 * target_duration:
                best = max(best, total_bytes * 8 / total_seconds)
    if best == 0.0:
        # Shorter than half a target duration overall: the whole stream is the only run.
        total_bytes = sum(size for size, _ in sizes_and_durations)
        total_seconds = sum(seconds for _, seconds in sizes_and_durations)
        best = total_bytes * 8 / total_seconds if total_seconds > 0 else 0.0
    return math.ceil(best)


def avc1_codec_string(profile: str | None, level: int | None) -> str:
    """RFC 6381 codec string for H.264 from ffprobe's ``profile`` and ``level``.

    Args:
        profile: ffprobe's profile name ("High", "Constrained Baseline" …).
        level: ffprobe's level (e.g. 31 for 3.1).

    Raises:
        TranscodeError: unknown profile or missing level (we only publish what we know).
    """
    key = (profile or "").strip().lower()
    if key not in _AVC_PROFILES or not level or level <= 0:
        raise TranscodeError(f"cannot describe H.264 profile {profile!r} level {level!r}")
    return f"avc1.{_AVC_PROFILES[key]}{level:02X}".lower()


def aac_codec_string(profile: str | None) -> str:
    """RFC 6381 codec string for AAC (``mp4a.40.<object type>``); LC when unknown.

    Args:
        profile: ffprobe's AAC profile name ("LC", "HE-AAC" …) or None.
    """
    object_type = _AAC_OBJECT_TYPES.get((profile or "lc").strip().lower(), 2)
    return f"mp4a.40.{object_type}"


def measure_variant(playlist_path: Path, uri: str) -> Variant:
    """Describe the variant whose media playlist is ``playlist_path``.

    Bandwidths are measured from the segment files, resolution, frame rate and codecs
    come from ffprobe on the first segment: the master states what was produced, not
    what was asked for.

    Args:
        playlist_path: the variant's media playlist.
        uri: how the master playlist refers to it.

    Raises:
        TranscodeError: the playlist or its segments are missing or unreadable.
    """
    try:
        media = parse_media_playlist(playlist_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TranscodeError(f"unreadable media playlist {playlist_path}: {exc}") from exc
    if not media.segments:
        raise TranscodeError(f"media playlist {playlist_path} has no segments")
    base = playlist_path.parent
    measured = [((base / s.uri).stat().st_size, s.duration) for s in media.segments]
    total_bytes = sum(size for size, _ in measured)
    total_seconds = media.duration
    average = math.ceil(total_bytes * 8 / total_seconds) if total_seconds > 0 else 0
    peak = max(peak_bandwidth(measured, media.target_duration or total_seconds), average)

    try:
        raw = ffmpeg.probe(str(base / media.segments[0].uri))
    except ffmpeg.Error as exc:
        raise TranscodeError(f"cannot probe {base / media.segments[0].uri}") from exc
    video = next((s for s in raw["streams"] if s.get("codec_type") == "video"), None)
    audio = next((s for s in raw["streams"] if s.get("codec_type") == "audio"), None)
    codecs = []
    width = height = None
    frame_rate = None
    if video is not None:
        codecs.append(avc1_codec_string(video.get("profile"), video.get("level")))
        width, height = int(video["width"]), int(video["height"])
        rate = video.get("r_frame_rate") or video.get("avg_frame_rate")
        if rate and rate != "0/0":
            frame_rate = float(Fraction(rate))
    if audio is not None:
        codecs.append(aac_codec_string(audio.get("profile")))
    if not codecs:
        raise TranscodeError(f"{base} contains neither audio nor video")
    return Variant(
        uri=uri, bandwidth=peak, average_bandwidth=average, codecs=",".join(codecs),
        width=width, height=height, frame_rate=frame_rate,
    )


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see the old or the new file, never half.

    Args:
        path: the file to write (mode 0644); its directory must exist.
        text: the new content, written as UTF-8 with ``\\n`` line ends.

    Raises:
        OSError: the file could not be written (the old one is then untouched).
    """
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` (mode 0644) so that readers see the old or the new file, never half."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _quoted(value: str) -> str:
    # Quoted-string attributes may not contain double quotes or line breaks.
    return value.replace('"', "'").replace("\n", " ").replace("\r", " ")
