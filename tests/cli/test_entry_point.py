"""The installed ``elearn`` program, run as a process: exit 0 on success; one readable line and a non-zero
status on bad input, never a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.media.clips import make_clip, needs_ffmpeg

ELEARN = Path(sys.executable).with_name("elearn")


def run(instance: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ELEARN_INSTANCE": str(instance), "ELEARN_SECRET_KEY": "cli-test-key"}
    for name in ("DATABASE_URL", "ELEARN_QUEUE_URL", "ELEARN_DATA_DIR", "ELEARN_INDEX_DIR"):
        env.pop(name, None)
    return subprocess.run([str(ELEARN), *args], env=env, capture_output=True, text=True, input=stdin,
                          timeout=300)


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """The one error line a refused command prints (after click's usage lines for a malformed call), checking
    that it failed without a traceback."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-instance")
    assert run(path, "init-db").returncode == 0
    return path


@needs_ffmpeg
def test_transcode_exits_zero_when_published_and_one_line_for_a_bad_file(instance, tmp_path):
    good = run(instance, "transcode", str(make_clip(tmp_path / "clip.mp4", seconds=1.0)), str(tmp_path / "out"))
    assert good.returncode == 0, good.stderr  # once it passed its result to sys.exit: status 1
    assert (tmp_path / "out" / "master.m3u8").exists()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video at all" * 100)
    line = refused(run(instance, "transcode", str(bad), str(tmp_path / "bad-out")))
    assert "bad.mp4" in line and not (tmp_path / "bad-out").exists()


def test_bad_input_to_the_commands_is_one_line_and_a_failure(instance, tmp_path):
    for org in ("99999", str(10**30)):  # no such organisation, and an id beyond any column
        assert "组织不存在" in refused(run(instance, "create-user", "someone", "--name", "某人", "--org", org,
                                         "--password", "Passw0rd-long"))
    assert "nobody" in refused(run(instance, "issue-token", "nobody"))
    refused(run(instance, "restore", str(tmp_path / "no-such-backup"), "--yes"))
    refused(run(instance, "create-user", "x", "--name", "x", "--org", "not-a-number", "--password", "p"))
