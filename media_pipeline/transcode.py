"""Transcode a source into an HLS ladder with one ffmpeg process.

The source is decoded once; ``split`` feeds one scaler and one libx264 encoder per
rendition. Keyframes are forced at the same instants in every rendition, so segment
boundaries line up and players can switch renditions at any segment.

Output goes to a hidden temporary directory next to ``out_dir`` and is renamed into
place only when everything (segments, master playlist, thumbnails) is complete.
"""

from __future__ import annotations

import ctypes
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .encrypt import encrypt_asset_dir, write_timeline
from .errors import ToolMissing, TranscodeCancelled, TranscodeError
from .ladder import Rendition, audio_only_rendition, output_frame_rate, video_renditions
from .playlist import (
    LISTEN_PLAYLIST_NAME,
    MASTER_PLAYLIST_NAME,
    MEDIA_PLAYLIST_NAME,
    MasterPlaylist,
    Variant,
    measure_variant,
    parse_media_playlist,
    write_text_atomic,
)
from .policy import (
    DEFAULT_ENCODER_SETTINGS,
    DEFAULT_LADDER_POLICY,
    DEFAULT_SEGMENT_SECONDS,
    EncoderSettings,
)
from .probe import MediaInfo, probe, segment_start_time
from .thumbnails import make_poster, make_storyboard

PR_SET_PDEATHSIG = 1  # linux/prctl.h
log = logging.getLogger(__name__)

ProgressCallback = Callable[[float], None]

SEGMENT_PATTERN = "seg_%05d.ts"
POSTER_NAME = "poster.jpg"
#: Share of the progress bar given to encoding when thumbnails follow.
_ENCODE_SHARE_WITH_THUMBNAILS = 0.95
_POLL_SECONDS = 0.1
#: ffmpeg flushes and exits within this time after SIGTERM; after it, SIGKILL.
_TERMINATE_GRACE_SECONDS = 5.0
#: The output may be shorter than the source by this much (rounding, edit lists)
#: before we call the source truncated.
_SHORT_OUTPUT_TOLERANCE_S = 1.0
_SHORT_OUTPUT_TOLERANCE_FRACTION = 0.05
#: How far a boundary of the audio-only rendition may lie from the video's: the muxer cuts audio at a frame
#: boundary (1024 samples, 21 ms at 48 kHz); more means the cuts are not at the same instants at all.
ALIGNMENT_TOLERANCE_S = 0.1


@dataclass(frozen=True)
class TranscodeResult:
    """What ``transcode`` published. Paths point inside ``out_dir``.

    ``variants`` are those of the master playlist (the video renditions; the audio one for a source without
    video); ``listen_variant`` is the audio-only rendition of a video source, listed alone in
    ``listen_playlist`` (both None for a source without audio, or when it could not be aligned).
    """

    out_dir: Path
    master_playlist: Path
    variants: tuple[Variant, ...]
    duration: float
    poster: Path | None
    storyboard: Path | None
    elapsed_s: float
    listen_playlist: Path | None = None
    listen_variant: Variant | None = None

    @property
    def all_variants(self) -> tuple[Variant, ...]:
        """Every published rendition: the master's variants, then the audio-only one if any."""
        return self.variants + ((self.listen_variant,) if self.listen_variant is not None else ())


def build_ffmpeg_command(
    src: str | os.PathLike[str],
    work_dir: str | os.PathLike[str],
    ladder: Sequence[Rendition],
    info: MediaInfo,
    *,
    segment_seconds: int = DEFAULT_SEGMENT_SECONDS,
    settings: EncoderSettings = DEFAULT_ENCODER_SETTINGS,
    frame_rate: Fraction | None = None,
    progress: bool = True,
) -> list[str]:
    """The ffmpeg argument list that encodes ``ladder`` from ``src`` into ``work_dir``.

    Each rendition lands in ``work_dir/<rendition.name>/index.m3u8`` with its segments.
    Public so that the benchmark can run exactly the same encode without our wrapper.

    Args:
        src: the source file.
        work_dir: directory for the renditions' playlists and segments.
        ladder: renditions from ``plan_ladder``.
        info: ``probe(src)``.
        segment_seconds: HLS segment and keyframe interval.
        settings: encoder options.
        frame_rate: output frame rate (default: ``output_frame_rate(info)``).
        progress: add ``-progress pipe:1`` (what ``transcode`` reads).

    Raises:
        ValueError: empty ladder, or a video ladder for a source without video.
    """
    if not ladder:
        raise ValueError("the ladder is empty")
    work_dir = Path(work_dir)
    video = video_renditions(ladder)
    listen = audio_only_rendition(ladder)
    if video and not info.has_video:
        raise ValueError("video renditions requested for a source without video")
    if listen is not None and not info.has_audio:
        raise ValueError("an audio rendition requested for a source without audio")
    with_audio = info.has_audio
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", str(src)]

    stream_map: list[str] = []
    audio_bitrates: list[int] = []
    if video:
        rate = frame_rate or output_frame_rate(info, DEFAULT_LADDER_POLICY)
        gop = max(1, round(rate * segment_seconds))
        # fps before split: the constant-rate conversion (needed for VFR phone footage)
        # happens once, and every branch sees identical frames and timestamps.
        video_input = f"0:{info.video_stream_index}" if info.video_stream_index is not None else "0:v:0"
        graph = [f"[{video_input}]fps={rate.numerator}/{rate.denominator},split={len(video)}"
                 + "".join(f"[s{i}]" for i in range(len(video)))]
        for i, r in enumerate(video):
            graph.append(f"[s{i}]scale={r.width}:{r.height},setsar=1,format={settings.pixel_format}[v{i}]")
        cmd += ["-filter_complex", ";".join(graph)]
        for i, r in enumerate(video):
            cmd += ["-map", f"[v{i}]"]
            if with_audio:
                cmd += ["-map", "0:a:0"]
                audio_bitrates.append(r.audio_bitrate)
            stream_map.append(f"v:{i},a:{i},name:{r.name}" if with_audio else f"v:{i},name:{r.name}")
        cmd += [
            "-c:v", "libx264", "-preset", settings.preset, "-profile:v", settings.video_profile,
            "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
            "-force_key_frames", f"expr:gte(t,n_forced*{segment_seconds})",
            "-fps_mode", "cfr",
        ]
        for i, r in enumerate(video):
            cmd += [f"-b:v:{i}", str(r.video_bitrate), f"-maxrate:v:{i}", str(r.maxrate),
                    f"-bufsize:v:{i}", str(r.bufsize)]
    else:
        cmd += ["-vn"]
    if listen is not None:
        # The same encoder run as the video: the HLS muxer cuts this audio-only variant at the first audio
        # frame on or after each multiple of segment_seconds, where the video's forced keyframes are.
        cmd += ["-map", "0:a:0"]
        stream_map.append(f"a:{len(audio_bitrates)},name:{listen.name}")
        audio_bitrates.append(listen.audio_bitrate)
    if audio_bitrates:
        cmd += ["-c:a", "aac"]
        for i, bitrate in enumerate(audio_bitrates):
            cmd += [f"-b:a:{i}", str(bitrate)]
        cmd += ["-ar", str(settings.audio_sample_rate), "-ac", str(settings.audio_channels)]
    if settings.threads:
        cmd += ["-threads", str(settings.threads)]
    cmd += [
        "-f", "hls", "-hls_time", str(segment_seconds), "-hls_playlist_type", "vod",
        "-hls_flags", "independent_segments", "-hls_segment_type", "mpegts",
        "-hls_segment_filename", str(work_dir / "%v" / SEGMENT_PATTERN),
        "-var_stream_map", " ".join(stream_map),
    ]
    if progress:
        cmd += ["-progress", "pipe:1", "-nostats"]
    cmd.append(str(work_dir / "%v" / MEDIA_PLAYLIST_NAME))
    return cmd


def transcode(
    src: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    ladder: Sequence[Rendition],
    on_progress: ProgressCallback | None = None,
    *,
    segment_seconds: int = DEFAULT_SEGMENT_SECONDS,
    cancel_event: threading.Event | None = None,
    thumbnails: bool = True,
    info: MediaInfo | None = None,
    settings: EncoderSettings = DEFAULT_ENCODER_SETTINGS,
    encryption_secret: bytes | None = None,
) -> TranscodeResult:
    """Encode ``src`` into an HLS ladder published at ``out_dir``.

    ``out_dir`` then holds ``master.m3u8``, one directory per rendition
    (``<name>/index.m3u8`` and ``seg_*.ts``) and, with ``thumbnails``, ``poster.jpg``
    and ``storyboard.vtt`` with its sprite sheets. It appears all at once: work happens
    in a hidden sibling directory renamed into place at the end; an existing
    ``out_dir`` is replaced (renamed away, then deleted).

    Args:
        src: the source file, normally validated with ``probe`` + ``validate``.
        out_dir: directory to create or replace; its parent is created if needed.
        ladder: renditions from ``plan_ladder``.
        on_progress: called with a non-decreasing fraction in [0, 1], last with 1.0,
            from the calling thread.
        segment_seconds: HLS segment and keyframe interval.
        cancel_event: when set, ffmpeg is killed and ``TranscodeCancelled`` raised.
        thumbnails: also make the poster and the storyboard (video sources only).
        info: ``probe(src)`` if the caller already has it.
        settings: encoder options.
        encryption_secret: when given, every segment is encrypted under its own AES-128 key derived from it
            (see :mod:`media_pipeline.encrypt`); the playlists name the keys at ``keys/<i>``.

    Raises:
        TranscodeError: ffmpeg failed or the output is incomplete.
        TranscodeCancelled: ``cancel_event`` was set.
        MediaError: ``src`` cannot be probed (when ``info`` is not given).
        ToolMissing: ffmpeg is not installed.
    In every error case nothing is left at ``out_dir`` (an existing one is untouched)
    and the temporary directory is removed.
    """
    started = time.monotonic()
    out_dir = Path(out_dir).absolute()
    info = info if info is not None else probe(src)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    reporter = _ProgressReporter(on_progress)
    with_thumbnails = thumbnails and info.has_video
    encode_share = _ENCODE_SHARE_WITH_THUMBNAILS if with_thumbnails else 1.0
    try:
        cmd = build_ffmpeg_command(src, work, ladder, info, segment_seconds=segment_seconds, settings=settings)
        _run_ffmpeg(cmd, info.duration, lambda f: reporter(min(f, 0.999) * encode_share), cancel_event)

        video = video_renditions(ladder)
        listen = audio_only_rendition(ladder) if video else None
        # Segment i of the first rendition is the reference: its media time is what key i stands for.
        reference = work / (video or list(ladder))[0].name / MEDIA_PLAYLIST_NAME
        _check_complete(reference, info.duration)
        variants = tuple(
            measure_variant(work / r.name / MEDIA_PLAYLIST_NAME, f"{r.name}/{MEDIA_PLAYLIST_NAME}")
            for r in (video or ladder)
        )
        write_text_atomic(work / MASTER_PLAYLIST_NAME, MasterPlaylist(variants=variants).render())
        listen_variant = None
        if listen is not None and align_to_reference(work / listen.name / MEDIA_PLAYLIST_NAME, reference):
            listen_variant = measure_variant(work / listen.name / MEDIA_PLAYLIST_NAME,
                                             f"{listen.name}/{MEDIA_PLAYLIST_NAME}")
            write_text_atomic(work / LISTEN_PLAYLIST_NAME, MasterPlaylist(variants=(listen_variant,)).render())
        elif listen is not None:
            log.warning("%s: the audio-only rendition is not cut where the video is; not published", src)
            shutil.rmtree(work / listen.name, ignore_errors=True)
        published = [r.name for r in ladder if r is not listen or listen_variant is not None]

        poster = storyboard = None
        if with_thumbnails:
            _raise_if_cancelled(cancel_event)
            make_poster(src, work / POSTER_NAME, info=info)
            _raise_if_cancelled(cancel_event)
            # The smallest rendition decodes many times faster than the source and is
            # plenty for 160-pixel previews.
            smallest = min(video, key=lambda r: (r.width or 0) * (r.height or 0))
            storyboard_path = make_storyboard(work / smallest.name / MEDIA_PLAYLIST_NAME, work)
            poster, storyboard = POSTER_NAME, storyboard_path.name
        _raise_if_cancelled(cancel_event)
        duration = _playlist_duration(reference)
        if encryption_secret is not None:
            first = parse_media_playlist(reference.read_text(encoding="utf-8"))
            write_timeline(work, segment_start_time(reference.parent / first.segments[0].uri))
            encrypt_asset_dir(work, published, encryption_secret)
        _publish(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    reporter(1.0)
    return TranscodeResult(
        out_dir=out_dir,
        master_playlist=out_dir / MASTER_PLAYLIST_NAME,
        variants=variants,
        listen_playlist=out_dir / LISTEN_PLAYLIST_NAME if listen_variant is not None else None,
        listen_variant=listen_variant,
        duration=duration,
        poster=out_dir / poster if poster else None,
        storyboard=out_dir / storyboard if storyboard else None,
        elapsed_s=time.monotonic() - started,
    )


class _ProgressReporter:
    """Forwards only increasing fractions, so callers may draw bars without jitter."""

    def __init__(self, callback: ProgressCallback | None):
        self.callback = callback
        self.last = -1.0

    def __call__(self, fraction: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if self.callback is not None and fraction > self.last:
            self.last = fraction
            self.callback(fraction)


def parse_progress_line(line: str, state: dict[str, str]) -> bool:
    """Feed one line of ``ffmpeg -progress`` output into ``state``.

    Args:
        line: one ``key=value`` line.
        state: the keys seen so far in the current block (updated).

    Returns:
        True when the line closes a progress block (``progress=continue|end``).
    """
    key, sep, value = line.strip().partition("=")
    if not sep:
        return False
    state[key] = value
    return key == "progress"


def progress_seconds(state: dict[str, str]) -> float | None:
    """Encoded media time in a progress block, in seconds.

    ``out_time_ms`` is, despite its name, in microseconds too (a long-standing ffmpeg
    quirk); it is only used when ``out_time_us`` is missing (older ffmpeg).

    Args:
        state: one block of ``parse_progress_line``.

    Returns:
        Seconds, or None when the block has no usable time.
    """
    for key in ("out_time_us", "out_time_ms"):
        value = state.get(key, "")
        try:
            micros = int(value)
        except ValueError:
            continue
        return max(micros, 0) / 1_000_000
    return None


def _run_ffmpeg(
    cmd: list[str],
    duration: float,
    on_fraction: Callable[[float], None],
    cancel_event: threading.Event | None,
) -> None:
    lines: queue.Queue[str | None] = queue.Queue()
    with tempfile.TemporaryFile() as stderr:
        try:
            # A new session: Ctrl-C in a terminal reaches us, not ffmpeg, so we decide
            # the order of killing and cleaning up.
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
                text=True, encoding="utf-8", errors="replace", start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        except FileNotFoundError as exc:
            raise ToolMissing("ffmpeg is not installed (run `make sysdeps`)") from exc
        reader = threading.Thread(target=_pump_lines, args=(proc.stdout, lines), daemon=True)
        reader.start()
        state: dict[str, str] = {}
        try:
            finished_reading = False
            while not finished_reading:
                if cancel_event is not None and cancel_event.is_set():
                    _stop(proc)
                    raise TranscodeCancelled("transcode cancelled")
                try:
                    line = lines.get(timeout=_POLL_SECONDS)
                except queue.Empty:
                    continue
                if line is None:
                    finished_reading = True
                elif parse_progress_line(line, state):
                    seconds = progress_seconds(state)
                    if seconds is not None and duration > 0:
                        on_fraction(seconds / duration)
            while proc.poll() is None:
                if cancel_event is not None and cancel_event.is_set():
                    _stop(proc)
                    raise TranscodeCancelled("transcode cancelled")
                time.sleep(_POLL_SECONDS)
        finally:
            if proc.poll() is None:
                _stop(proc)
            reader.join(timeout=_TERMINATE_GRACE_SECONDS)
            if proc.stdout is not None:
                proc.stdout.close()
        if proc.returncode != 0:
            stderr.seek(0)
            tail = _tail(stderr.read().decode("utf-8", "replace"))
            raise TranscodeError(f"ffmpeg failed with exit status {proc.returncode}", tail)


def _pump_lines(stream, lines: queue.Queue) -> None:
    try:
        for line in stream:
            lines.put(line)
    except ValueError:
        pass  # stream closed while cancelling
    finally:
        lines.put(None)


def _die_with_parent() -> None:
    """In the forked child: ask Linux to SIGKILL ffmpeg when the process (thread) that started it dies.

    Without it a worker killed mid-job leaves ffmpeg running, writing into a folder the next attempt removes.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=_TERMINATE_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _raise_if_cancelled(cancel_event: threading.Event | None) -> None:
    if cancel_event is not None and cancel_event.is_set():
        raise TranscodeCancelled("transcode cancelled")


def align_to_reference(playlist: Path, reference: Path, tolerance_s: float = ALIGNMENT_TOLERANCE_S) -> bool:
    """Make the media playlist ``playlist`` end where ``reference`` does and tell whether its segments are cut at
    the same media times (within ``tolerance_s``), so that segment ``i`` and key ``i`` mean the same
    stretch of media in both.

    Segments beyond the reference's last (audio that outlasts the picture by a fraction of a second, which would
    make a segment no key covers) are removed, files and playlist entries.

    Args:
        playlist: the audio-only rendition's media playlist (rewritten when shortened).
        reference: the first video rendition's media playlist.
        tolerance_s: the largest difference allowed between boundaries.

    Raises:
        TranscodeError: a playlist cannot be read.
    """
    try:
        text = playlist.read_text(encoding="utf-8")
        own = parse_media_playlist(text)
        ref = parse_media_playlist(reference.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TranscodeError(f"unreadable media playlist: {exc}") from exc
    if not own.segments or len(own.segments) < len(ref.segments):
        return False
    for extra in own.segments[len(ref.segments):]:
        (playlist.parent / extra.uri).unlink(missing_ok=True)
    if len(own.segments) > len(ref.segments):
        write_text_atomic(playlist, _first_segments(text, len(ref.segments)))
    # The cuts between segments must agree; the very end may not (audio a little longer or shorter than video).
    own_end = ref_end = 0.0
    for mine, theirs in zip(own.segments[:len(ref.segments) - 1], ref.segments[:-1], strict=True):
        own_end += mine.duration
        ref_end += theirs.duration
        if abs(own_end - ref_end) > tolerance_s:
            return False
    return True


def _first_segments(text: str, count: int) -> str:
    """A VOD media playlist's text cut after its ``count``-th segment (its header comes before the first)."""
    kept: list[str] = []
    seen = 0
    for line in text.splitlines():
        if seen == count:
            break
        stripped = line.strip()
        if stripped:
            kept.append(stripped)
            seen += not stripped.startswith("#")
    return "\n".join([*kept, "#EXT-X-ENDLIST"]) + "\n"


def _playlist_duration(playlist: Path) -> float:
    return parse_media_playlist(playlist.read_text(encoding="utf-8")).duration


def _check_complete(playlist: Path, source_duration: float) -> None:
    produced = _playlist_duration(playlist)
    allowed_gap = max(_SHORT_OUTPUT_TOLERANCE_S, _SHORT_OUTPUT_TOLERANCE_FRACTION * source_duration)
    if produced < source_duration - allowed_gap:
        raise TranscodeError(
            f"only {produced:.1f} s of {source_duration:.1f} s could be decoded; "
            "the source is probably truncated or corrupt"
        )


def _publish(work: Path, out_dir: Path) -> None:
    """Move the finished ``work`` directory to ``out_dir``, replacing an old one.

    Two renames instead of one because a directory cannot be renamed over a non-empty
    one; the window where ``out_dir`` is missing is a few microseconds.
    """
    os.chmod(work, 0o755)  # mkdtemp makes it 0700; the web server must read it
    old: Path | None = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(out_dir, old)
    try:
        os.rename(work, out_dir)
    except BaseException:
        if old is not None:
            os.rename(old, out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
