"""Benchmark: media_pipeline.transcode against bare ffmpeg.

Makes a synthetic 1080p clip (testsrc2 + sine), then times
  (a) ``media_pipeline.transcode`` (thumbnails off, every segment encrypted under its own
      AES-128 key as the app transcodes): probe, one ffmpeg, progress parsing, master
      playlist from ffprobe of the outputs, encryption, atomic rename;
  (b) the same single ffmpeg command run bare (same split filter, same encoder
      settings, no progress pipe): the floor for (a);
  (c) one ffmpeg process per rendition, one after the other: what decoding the
      source once saves.
Prints wall times, (a)/(b) (goal ≤ 1.05), speed as a multiple of real time, and (c)/(b).

Wall time on a shared machine is noisy, so the variants run interleaved, each
``--repeat`` times, and the fastest run counts. CPU time (ffmpeg, ffprobe and our own
Python) is printed too: it hardly depends on what else the machine is doing.

    .venv/bin/python benchmarks/bench_transcode.py [--seconds 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from media_pipeline import build_ffmpeg_command, plan_ladder, probe, transcode
from media_pipeline.encrypt import new_secret


def make_source(dest: Path, seconds: int) -> None:
    subprocess.run([
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", str(dest),
    ], check=True)


def cpu_seconds() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def timed(action) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its finished children)."""
    cpu, started = cpu_seconds(), time.perf_counter()
    action()
    return time.perf_counter() - started, cpu_seconds() - cpu


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="length of the synthetic clip")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each variant; the fastest counts")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_transcode-"))
    try:
        src = work / "source_1080p.mp4"
        make_source(src, args.seconds)
        info = probe(src)
        ladder = plan_ladder(info)
        print(f"source: {info.display_width}x{info.display_height} {float(info.frame_rate):g} fps, "
              f"{info.duration:.1f} s, audio {info.audio_codec}; machine: {os.cpu_count()} CPU(s)")
        print("ladder: " + ", ".join(f"{r.name} {r.width}x{r.height} {r.video_bitrate // 1000}k"
                                     for r in ladder))

        load_before = f"{os.getloadavg()[0]:.2f}"
        ours, bare, per_rendition = [], [], []
        for _ in range(args.repeat):
            out = work / "ours"
            ours.append(timed(lambda out=out: transcode(src, out, ladder, thumbnails=False, info=info,
                                                         encryption_secret=new_secret())))

            bare_dir = fresh(work / "bare")
            cmd = build_ffmpeg_command(src, bare_dir, ladder, info, progress=False)
            bare.append(timed(lambda cmd=cmd: subprocess.run(cmd, check=True)))

            separate_dir = fresh(work / "separate")
            commands = [build_ffmpeg_command(src, separate_dir, [r], info, progress=False) for r in ladder]
            per_rendition.append(timed(lambda commands=commands: [subprocess.run(c, check=True) for c in commands]))

        a, b, c = (min(wall for wall, _ in runs) for runs in (ours, bare, per_rendition))
        cpu = {name: min(run[1] for run in runs) for name, runs in
               (("a", ours), ("b", bare), ("c", per_rendition))}
        print(f"load average before: {load_before}, after: {os.getloadavg()[0]:.2f}; "
              f"fastest of {args.repeat} run(s)")
        print(f"(a) media_pipeline.transcode    {a:7.2f} s wall {cpu['a']:7.2f} s CPU  "
              f"{info.duration / a:5.2f}x real time")
        print(f"(b) bare single ffmpeg         {b:7.2f} s wall {cpu['b']:7.2f} s CPU  "
              f"{info.duration / b:5.2f}x real time")
        print(f"(c) one ffmpeg per rendition   {c:7.2f} s wall {cpu['c']:7.2f} s CPU  "
              f"{info.duration / c:5.2f}x real time ({len(ladder)} processes, sequential)")
        print(f"ours / bare          = {a / b:.3f} wall, {cpu['a'] / cpu['b']:.3f} CPU   (goal <= 1.05)")
        print(f"per-rendition / bare = {c / b:.3f} wall, {cpu['c'] / cpu['b']:.3f} CPU")
        print("all runs, wall s: ours " + ", ".join(f"{w:.2f}" for w, _ in ours)
              + "; bare " + ", ".join(f"{w:.2f}" for w, _ in bare)
              + "; per-rendition " + ", ".join(f"{w:.2f}" for w, _ in per_rendition))
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
