"""Command line: ``python -m media_pipeline transcode SRC OUTDIR`` and ``probe FILE``.

``run_transcode_cli`` is the piece the elearn CLI (``elearn transcode``) reuses.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TextIO

from .errors import MediaError, SubtitleError, ToolMissing, TranscodeCancelled, TranscodeError
from .ladder import plan_ladder
from .policy import DEFAULT_LIMITS
from .probe import probe
from .transcode import TranscodeResult, transcode
from .validate import validate

_BAR_WIDTH = 30

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # the shell's convention for SIGINT


class ProgressBar:
    """A one-line text progress bar redrawn in place (``\\r``) on a terminal stream."""

    def __init__(self, stream: TextIO, label: str = "transcoding", width: int = _BAR_WIDTH):
        self.stream, self.label, self.width = stream, label, width
        self._shown = -1

    def __call__(self, fraction: float) -> None:
        percent = int(fraction * 100)
        if percent == self._shown:
            return  # ffmpeg reports twice a second; redraw only on visible change
        self._shown = percent
        self.stream.write("\r" + render_bar(fraction, self.label, self.width))
        if fraction >= 1.0:
            self.stream.write("\n")
        self.stream.flush()


def render_bar(fraction: float, label: str = "transcoding", width: int = _BAR_WIDTH) -> str:
    """One line of progress: ``label [#########.........]  45%``.

    Args:
        fraction: progress in [0, 1] (clamped).
        label: text before the bar.
        width: characters between the brackets.
    """
    fraction = min(max(fraction, 0.0), 1.0)
    filled = round(fraction * width)
    return f"{label} [{'#' * filled}{'.' * (width - filled)}] {fraction * 100:3.0f}%"


def run_transcode_cli(
    src: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    echo: Callable[[str], object] = print,
    *,
    progress_stream: TextIO | None = None,
    cancel_event: threading.Event | None = None,
    thumbnails: bool = True,
    max_duration_s: float | None = None,
) -> TranscodeResult:
    """Probe, validate, plan and transcode ``src`` into ``outdir``, reporting as a CLI does.

    A progress bar is drawn on ``progress_stream`` (stderr by default); a summary of the
    published variants goes through ``echo`` (``click.echo`` in the elearn CLI).

    Args:
        src: the uploaded recording.
        outdir: where the HLS asset is published (replaced if it exists).
        echo: prints one line of the summary.
        progress_stream: where the progress bar is drawn.
        cancel_event: set it to stop the transcode.
        thumbnails: also make the poster and storyboard.
        max_duration_s: overrides ``DEFAULT_LIMITS.max_duration_s``.

    Returns:
        What ``transcode`` published.

    Raises:
        MediaError: the source is not acceptable media.
        TranscodeError, TranscodeCancelled, ToolMissing: as ``transcode``.
    """
    info = probe(src)
    validate(info, limits=DEFAULT_LIMITS, max_duration_s=max_duration_s)
    ladder = plan_ladder(info)
    echo(f"{os.fspath(src)}: {info.duration:.1f} s, "
         + (f"{info.display_width}x{info.display_height} {info.video_codec}" if info.has_video else "audio only")
         + f"; {len(ladder)} rendition(s): {', '.join(r.name for r in ladder)}")
    bar = ProgressBar(progress_stream if progress_stream is not None else sys.stderr)
    result = transcode(src, outdir, ladder, bar, cancel_event=cancel_event, thumbnails=thumbnails, info=info)
    for variant in result.all_variants:
        echo(f"  {variant.uri}: {variant.resolution or 'audio'} {variant.codecs} "
             f"avg {variant.average_bandwidth / 1000:.0f} kb/s, peak {variant.bandwidth / 1000:.0f} kb/s")
    if result.listen_playlist is not None:
        echo(f"audio only (listening): {result.listen_playlist}")
    echo(f"wrote {result.master_playlist} in {result.elapsed_s:.1f} s "
         f"({result.duration / max(result.elapsed_s, 1e-9):.1f}x real time)")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m media_pipeline``; returns the process exit status.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        ``EXIT_OK``, ``EXIT_BAD_INPUT`` (unusable media or subtitles), ``EXIT_FAILED`` (ffmpeg
        failed or is missing) or ``EXIT_INTERRUPTED``; errors are printed, not raised.

    Raises:
        SystemExit: invalid usage (status 2), or ``--help``.
    """
    parser = argparse.ArgumentParser(prog="python -m media_pipeline", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    transcode_cmd = commands.add_parser("transcode", help="encode SRC into an HLS ladder at OUTDIR")
    transcode_cmd.add_argument("src")
    transcode_cmd.add_argument("outdir")
    transcode_cmd.add_argument("--no-thumbnails", action="store_true", help="skip poster and storyboard")
    transcode_cmd.add_argument("--max-duration", type=float, default=None, metavar="SECONDS")
    probe_cmd = commands.add_parser("probe", help="print what FILE contains, as JSON")
    probe_cmd.add_argument("file")
    probe_cmd.add_argument("--validate", action="store_true", help="also check it is publishable")
    args = parser.parse_args(argv)

    try:
        if args.command == "probe":
            info = probe(args.file)
            if args.validate:
                validate(info)
            print(json.dumps(info.to_dict(), indent=2, ensure_ascii=False))
        else:
            run_transcode_cli(args.src, args.outdir, thumbnails=not args.no_thumbnails,
                              max_duration_s=args.max_duration)
    except (MediaError, SubtitleError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (TranscodeError, ToolMissing) as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (TranscodeCancelled, KeyboardInterrupt):
        print("\ncancelled; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK
