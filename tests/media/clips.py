"""Synthetic media for the media tests: made by ffmpeg at test time (testsrc2 + sine), never stored."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


def make_clip(path: Path, seconds: float = 2.0, size: str = "320x240") -> Path:
    """An H.264 + AAC MP4 of ``seconds`` with a moving test picture and a tone."""
    subprocess.run([
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
        str(path),
    ], check=True, stdin=subprocess.DEVNULL)
    return path
