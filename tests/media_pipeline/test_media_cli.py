import json
import subprocess
import sys
from pathlib import Path

import pytest

from media_pipeline import parse_master_playlist
from media_pipeline.cli import main, render_bar, run_transcode_cli

REPO = Path(__file__).resolve().parents[2]


def test_render_bar():
    assert render_bar(0.5, width=10) == "transcoding [#####.....]  50%"
    assert render_bar(1.5, width=4) == "transcoding [####] 100%"


def test_probe_prints_json(media, capsys):
    assert main(["probe", str(media.path("rotated"))]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["display_width"], data["display_height"]) == (240, 320)


def test_probe_of_garbage_exits_2_with_reason(media, capsys):
    assert main(["probe", str(media.path("text"))]) == 2
    assert "not a readable audio or video file" in capsys.readouterr().err
    assert main(["probe", "--validate", str(media.path("no_streams"))]) == 2


@pytest.mark.slow
def test_transcode_command_draws_progress_and_publishes(media, tmp_path, capsys):
    out = tmp_path / "asset"
    assert main(["transcode", str(media.path("short")), str(out), "--no-thumbnails"]) == 0
    captured = capsys.readouterr()
    assert "transcoding [" in captured.err and captured.err.rstrip().endswith("100%")
    assert "240p/index.m3u8: 320x240" in captured.out
    assert parse_master_playlist((out / "master.m3u8").read_text()).variants[0].width == 320


@pytest.mark.slow
def test_run_transcode_cli_for_the_elearn_command(media, tmp_path):
    lines, bar = [], []

    class Stream:
        def write(self, text):
            bar.append(text)

        def flush(self):
            pass

    result = run_transcode_cli(media.path("audio_only"), tmp_path / "a", echo=lines.append, progress_stream=Stream())
    assert result.master_playlist.is_file()
    assert "audio only; 1 rendition(s): audio" in lines[0]
    assert any("mp4a.40.2" in line for line in lines)
    assert "100%" in bar[-2]


def test_transcode_refuses_invalid_source_without_output(media, tmp_path, capsys):
    assert main(["transcode", str(media.path("truncated_faststart")), str(tmp_path / "x")]) == 2
    assert "incomplete" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_python_dash_m_entry_point(media):
    done = subprocess.run([sys.executable, "-m", "media_pipeline", "probe", str(media.path("audio_only"))],
                          capture_output=True, text=True, cwd=REPO, check=True)
    assert json.loads(done.stdout)["has_video"] is False
