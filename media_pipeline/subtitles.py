"""Subtitles: SRT/WebVTT import, cue parsing, and adding a track to a published HLS asset."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .encrypt import read_timeline
from .errors import SubtitleError
from .playlist import (
    MASTER_PLAYLIST_NAME,
    SUBTITLE_GROUP_ID,
    SubtitleTrack,
    parse_master_playlist,
    parse_media_playlist,
    write_text_atomic,
)
from .probe import segment_start_time

#: Subtitle uploads larger than this are not subtitles (a 3-hour film's SRT is ~200 kB).
MAX_SUBTITLE_BYTES = 5 * 1024 * 1024
#: MPEG-TS clock rate, for X-TIMESTAMP-MAP.
_MPEGTS_HZ = 90_000

_TIMESTAMP = r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})"
_TIMING_RE = re.compile(rf"^\s*{_TIMESTAMP}\s*-->\s*{_TIMESTAMP}(.*)$")
_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class Cue:
    """One subtitle cue; ``settings`` keeps WebVTT positioning (``line:90%`` …)."""

    start_s: float
    end_s: float
    text: str
    settings: str = ""


def subtitles_to_webvtt(data: bytes, filename: str) -> str:
    """Convert an uploaded ``.srt`` or ``.vtt`` file to normalised WebVTT text.

    Accepts UTF-8 (with or without BOM), UTF-16 with BOM, and GB18030 (which covers
    GBK/GB2312, the usual encoding of subtitles made on Chinese Windows).

    Args:
        data: the file's bytes.
        filename: its name; only the extension is used.

    Returns:
        WebVTT text starting with ``WEBVTT``, cues in time order.

    Raises:
        SubtitleError: wrong extension, undecodable bytes, malformed timings, or no cues.
    """
    extension = Path(filename).suffix.lower()
    if extension not in (".srt", ".vtt"):
        raise SubtitleError(f"{filename}: subtitles must be .srt or .vtt files")
    if len(data) > MAX_SUBTITLE_BYTES:
        raise SubtitleError(f"{filename}: too large for a subtitle file")
    text = _decode(data, filename)
    if text.lstrip().startswith("WEBVTT"):
        cues = _parse_blocks(text, filename, webvtt=True)
    else:
        if extension == ".vtt":
            raise SubtitleError(f"{filename}: a WebVTT file must start with the line WEBVTT")
        cues = _parse_blocks(text, filename, webvtt=False)
    return render_webvtt(cues)


def parse_cues(webvtt_text: str) -> list[Cue]:
    """Cues of a WebVTT document, in file order.

    Args:
        webvtt_text: a WebVTT document (a BOM is allowed).

    Raises:
        SubtitleError: not WebVTT, or a malformed timing line.
    """
    if not webvtt_text.lstrip("\ufeff").lstrip().startswith("WEBVTT"):
        raise SubtitleError("not a WebVTT document (missing WEBVTT header)")
    return _parse_blocks(webvtt_text.lstrip("\ufeff"), "WebVTT", webvtt=True, require_cues=False)


def render_webvtt(cues: list[Cue], header: str = "WEBVTT") -> str:
    """WebVTT text for ``cues``, sorted by start time.

    Args:
        cues: the cues, in any order.
        header: the first block (``WEBVTT`` and header lines such as ``X-TIMESTAMP-MAP``).
    """
    lines = [header, ""]
    for cue in sorted(cues, key=lambda c: (c.start_s, c.end_s)):
        timing = f"{format_timestamp(cue.start_s)} --> {format_timestamp(cue.end_s)}"
        lines.append(f"{timing} {cue.settings}".rstrip())
        # "-->" inside text would be read as a timing line.
        lines.append(cue.text.replace("-->", "→"))
        lines.append("")
    return "\n".join(lines)


def add_subtitle_track(
    out_dir: str | os.PathLike[str],
    webvtt_text: str,
    lang: str = "zh-CN",
    name: str = "中文",
) -> Path:
    """Publish a subtitle track on a transcoded asset.

    Writes ``subs_<lang>.vtt`` and its one-segment media playlist ``subs_<lang>.m3u8``,
    then rewrites ``master.m3u8`` with an ``EXT-X-MEDIA:TYPE=SUBTITLES`` entry in group
    ``subs`` and ``SUBTITLES="subs"`` on every variant. Adding a language that exists
    replaces it. Every file is replaced atomically; callers serialise additions to the
    same asset (the job queue does).

    Args:
        out_dir: a directory produced by ``transcode``.
        webvtt_text: from ``subtitles_to_webvtt``.
        lang: BCP 47 language tag, also used in file names.
        name: label shown in the player's menu.

    Returns:
        Path of the subtitle media playlist.

    Raises:
        SubtitleError: bad language tag, no cues, or ``out_dir`` is not a transcoded asset.
    """
    if not _LANG_RE.match(lang):
        raise SubtitleError(f"invalid language tag {lang!r}")
    cues = parse_cues(webvtt_text)
    if not cues:
        raise SubtitleError("the subtitles contain no cues")
    out_dir = Path(out_dir)
    master_path = out_dir / MASTER_PLAYLIST_NAME
    try:
        master = parse_master_playlist(master_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SubtitleError(f"{out_dir} is not a transcoded asset: {exc}") from exc

    first_variant = out_dir / master.variants[0].uri
    media = parse_media_playlist(first_variant.read_text(encoding="utf-8"))
    duration = media.duration

    # hls.js and Safari place WebVTT cues on the MPEG-TS timeline through this map;
    # without it cues drift by the muxer's start offset (1.4 s with ffmpeg).
    start = _segment_start_time(first_variant.parent / media.segments[0].uri)
    header = f"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{round(start * _MPEGTS_HZ)},LOCAL:00:00:00.000"
    vtt_name, playlist_name = f"subs_{lang}.vtt", f"subs_{lang}.m3u8"
    write_text_atomic(out_dir / vtt_name, render_webvtt(cues, header=header))
    write_text_atomic(out_dir / playlist_name, "\n".join([
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{max(1, math.ceil(duration))}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        f"#EXTINF:{duration:.3f},",
        vtt_name,
        "#EXT-X-ENDLIST",
        "",
    ]))
    # The first language is the default, so players show captions without the viewer hunting for them
    # (hls.js switches captions off when no track says DEFAULT=YES).
    others_default = any(t.default for t in master.subtitles if t.language != lang)
    track = SubtitleTrack(language=lang, name=name, uri=playlist_name, group_id=SUBTITLE_GROUP_ID,
                          default=not others_default)
    write_text_atomic(master_path, master.with_subtitle_track(track).render())
    return out_dir / playlist_name


def format_timestamp(seconds: float) -> str:
    """``HH:MM:SS.mmm`` as WebVTT writes it.

    Args:
        seconds: a non-negative time, rounded to the millisecond.
    """
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _decode(data: bytes, filename: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break  # binary data that happens to decode
        return text.replace("\r\n", "\n").replace("\r", "\n")
    raise SubtitleError(f"{filename}: not a text file in UTF-8 or GB18030")


def _parse_timestamp(hours: str | None, minutes: str, seconds: str, fraction: str) -> float:
    if int(minutes) > 59 or int(seconds) > 59:
        raise ValueError("minutes and seconds must be below 60")
    # Whole milliseconds first, one division last: 1.344 stays 1.344, not 1.3439999.
    millis = ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(fraction.ljust(3, "0"))
    return millis / 1000


def _parse_blocks(text: str, filename: str, *, webvtt: bool, require_cues: bool = True) -> list[Cue]:
    cues: list[Cue] = []
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    for line_number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not current:
                blocks.append((line_number, current))
            current.append(line.rstrip())
        else:
            current = []
    for index, (first_line, lines) in enumerate(blocks):
        if webvtt and index == 0 and lines[0].startswith("WEBVTT"):
            continue  # header block, may carry X-TIMESTAMP-MAP
        if webvtt and lines[0].split(" ", 1)[0] in ("NOTE", "STYLE", "REGION"):
            continue
        timing_at = next((i for i, ln in enumerate(lines[:2]) if "-->" in ln), None)
        if timing_at is None:
            if cues and not webvtt:
                # SRT cues sometimes contain blank lines; such a paragraph belongs to
                # the cue before it.
                last = cues[-1]
                cues[-1] = Cue(last.start_s, last.end_s, last.text + "\n" + "\n".join(lines), last.settings)
                continue
            raise SubtitleError(f"{filename}, line {first_line}: expected a timing line like "
                                "'00:00:01,000 --> 00:00:02,500'")
        timing_line = lines[timing_at]
        match = _TIMING_RE.match(timing_line)
        try:
            if not match:
                raise ValueError("unrecognised")
            start = _parse_timestamp(*match.group(1, 2, 3, 4))
            end = _parse_timestamp(*match.group(5, 6, 7, 8))
        except ValueError as exc:
            raise SubtitleError(
                f"{filename}, line {first_line + timing_at}: bad timing {timing_line.strip()!r}") from exc
        if end <= start:
            raise SubtitleError(f"{filename}, line {first_line + timing_at}: cue ends before it starts")
        settings = match.group(9).strip() if webvtt else ""
        cue_text = "\n".join(lines[timing_at + 1:])
        if cue_text.strip():
            cues.append(Cue(start, end, cue_text, settings))
    if require_cues and not cues:
        raise SubtitleError(f"{filename}: contains no subtitle cues")
    return cues


def _segment_start_time(segment: Path) -> float:
    # Encrypted segments cannot be probed: the pipeline noted the start time before encrypting them.
    timeline = read_timeline(segment.parent.parent)
    if timeline is not None and isinstance(timeline.get("start_time"), int | float):
        return float(timeline["start_time"])
    return segment_start_time(segment)
