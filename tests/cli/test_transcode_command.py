from elearn.site import cli as site_cli


def test_transcode_command_exits_zero_when_it_published(runner, monkeypatch, tmp_path):
    # It once passed run_transcode_cli's result (a TranscodeResult) to sys.exit: status 1 and a repr on stderr.
    src = tmp_path / "in.mp4"
    src.write_bytes(b"not really a video")
    calls = []

    def published(src_arg, outdir, echo):
        calls.append((src_arg, outdir))
        echo("wrote master.m3u8")
        return object()

    monkeypatch.setattr(site_cli, "run_transcode_cli", published)
    result = runner.invoke(args=["transcode", str(src), str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert calls == [(str(src), str(tmp_path / "out"))]
    assert "wrote master.m3u8" in result.output
