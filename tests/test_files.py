"""Output files: atomic, created with the process umask's mode, hashed by file_sha256."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backdoorlab.cli import app
from backdoorlab.files import atomic_writer, current_umask, file_sha256

runner = CliRunner()


@pytest.fixture(params=[0o022, 0o077])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_outputs_get_the_umask_mode(umask: int, tmp_path: Path, traces_file: Path) -> None:
    expected = {0o022: 0o644, 0o077: 0o600}[umask]
    traces, report = tmp_path / "t.jsonl", tmp_path / "audit.json"
    assert (
        runner.invoke(app, ["collect", "-n", "3", "-o", str(traces), "--tokenizer", ""]).exit_code
        == 0
    )
    assert runner.invoke(app, ["audit", str(traces), "-o", str(report)]).exit_code == 0
    run = tmp_path / "run"
    args = ["train", "--data", str(traces_file), "-o", str(run), "--model", "tiny"]
    args += ["--max-steps", "1", "--batch-size", "2", "--bf16", "false"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    from backdoorlab.models import RUN_MARKER

    for path in (traces, report, run / RUN_MARKER):
        assert _mode(path) == expected, path
    assert current_umask() == umask  # reading the umask left it as it was


def test_atomic_writer_keeps_the_old_file_on_error(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write("new")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_gzip_output_and_digest(tmp_path: Path) -> None:
    import gzip

    target = tmp_path / "a.jsonl.gz"
    with atomic_writer(target) as handle:
        handle.write("x\n")
    assert gzip.decompress(target.read_bytes()) == b"x\n"
    assert file_sha256(target) == hashlib.sha256(target.read_bytes()).hexdigest()
