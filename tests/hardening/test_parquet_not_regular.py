"""A ``.parquet`` trace input that is not a regular file: refused in one line before
pyarrow opens it.

Parquet is read from its footer, by seeking; pyarrow opening a named pipe with no writer
blocked where neither SIGTERM nor Ctrl-C could end it (only kill -9), in `show`,
`export`, `view` and `audit` alike. Each case runs in a child process: a hang times out
(the child is killed) and fails the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from child_cli import child_cli

COMMANDS = [
    ["show"],
    ["view", "-o", "{d}/v.html"],
    ["export", "-o", "{d}/o.parquet"],
    ["audit"],
]


def _argv(command: list[str], traces: Path, d: Path) -> list[str]:
    return [command[0], str(traces), *(a.format(d=d) for a in command[1:])]


def _one_error(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_parquet_named_pipe_without_writer_is_refused_at_once(command, tmp_path):
    pipe = tmp_path / "x.parquet"
    os.mkfifo(pipe)
    done = child_cli(
        *_argv(command, pipe, tmp_path), timeout=90
    )  # a hang raises TimeoutExpired: fails
    assert done.returncode == 2, done.stderr[-2000:]
    line = _one_error(done.stderr)
    assert str(pipe) in line and "not a regular file (a named pipe)" in line, line
    assert not (tmp_path / "o.parquet").exists()
    assert not (tmp_path / "v.html").exists()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_parquet_link_to_a_device_is_refused(command, tmp_path):
    device = tmp_path / "null.parquet"
    device.symlink_to("/dev/null")
    done = child_cli(*_argv(command, device, tmp_path), timeout=90)
    assert done.returncode == 2, done.stderr[-2000:]
    line = _one_error(done.stderr)
    assert str(device) in line and "not a regular file (a device)" in line, line


def test_the_check_comes_before_pyarrow(tmp_path, monkeypatch):
    """In process: pyarrow is never asked to open the pipe (it would block here)."""
    import pyarrow.parquet as pq

    from backdoorlab.errors import TraceFormatError
    from backdoorlab.traces import iter_trace_lines

    monkeypatch.setattr(pq, "ParquetFile", lambda *a, **k: pytest.fail("pyarrow opened it"))
    pipe = tmp_path / "x.parquet"
    os.mkfifo(pipe)
    with pytest.raises(TraceFormatError, match="not a regular file \\(a named pipe\\)"):
        list(iter_trace_lines(pipe))
