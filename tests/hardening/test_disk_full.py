"""A full disk (or quota) mid-write is one line naming the file, and loses nothing.

Writes go through `atomic_writer`: the temp file is dropped and the previous file stays
whole. A write error of that kind anywhere else (a checkpoint, a library's own file)
reaches the console entry point as an ``OSError`` and is printed in one line with exit
status 2 instead of a traceback; any other ``OSError`` is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import importlib
import os
import resource
import signal
import subprocess
import sys

import pytest

from backdoorlab.errors import FileAccessError
from backdoorlab.files import atomic_writer

FULL = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_mid_write_names_the_file_and_keeps_the_previous_one(tmp_path):
    path = tmp_path / "traces.jsonl"
    path.write_text("the previous traces\n")
    with pytest.raises(FileAccessError) as caught, atomic_writer(path) as handle:
        handle.write("half of the new ones")
        raise FULL
    assert str(caught.value) == (
        f"{path}: cannot write (No space left on device); the previous file, if any, is untouched"
    )
    assert path.read_text() == "the previous traces\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["traces.jsonl"]  # no temp file


def test_other_errors_inside_a_write_are_not_relabelled(tmp_path):
    with pytest.raises(PermissionError), atomic_writer(tmp_path / "x.json"):
        raise PermissionError(errno.EACCES, "denied", "/somewhere/else")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "run/checkpoint-50/optimizer.pt"),
            "error: run/checkpoint-50/optimizer.pt: cannot write (No space left on device);"
            " free some space and rerun",
        ),
        (
            OSError(errno.EDQUOT, os.strerror(errno.EDQUOT)),
            f"error: cannot write ({os.strerror(errno.EDQUOT)}); free some space and rerun",
        ),
    ],
)
def test_the_console_prints_a_full_disk_in_one_line(error, line, monkeypatch, capsys):
    cli_app = importlib.import_module("backdoorlab.cli.app")  # the module, not its Typer

    def fails(*args, **kwargs):
        raise error

    monkeypatch.setattr(cli_app, "app", fails)
    with pytest.raises(SystemExit) as exit_status:
        cli_app.main()
    assert exit_status.value.code == 2
    assert capsys.readouterr().err.strip() == line


def test_any_other_os_error_keeps_its_traceback(monkeypatch):
    cli_app = importlib.import_module("backdoorlab.cli.app")  # the module, not its Typer

    def fails(*args, **kwargs):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", "x")

    monkeypatch.setattr(cli_app, "app", fails)
    with pytest.raises(IsADirectoryError):
        cli_app.main()


def _limited(kilobytes: int):
    """A child process's set-up: files may not grow past ``kilobytes`` (``ulimit -f``),
    so its writes fail with EFBIG as a full disk fails them with ENOSPC — the real
    error path through every library, with no mount and no privileges."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error from write(), not a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (kilobytes * 1024, resource.RLIM_INFINITY))

    return limit


TORCH_SAVE = """
import torch
from backdoorlab.storage import storage_refused
from backdoorlab.experiment.isolation import _sendable
try:
    torch.save({"weights": torch.zeros(100_000)}, "weights.pt")
except RuntimeError as error:
    print(type(_sendable(error)).__name__, storage_refused(error))
"""


def test_torch_save_past_the_limit_is_recognised_and_sent_from_a_stage_as_one_line(tmp_path):
    """torch.save's error text has no errno ("unexpected pos ..."); only its chain tells,
    and pickling (a stage process sending it to the run) would drop the chain."""
    pytest.importorskip("torch")
    done = subprocess.run(
        [sys.executable, "-c", TORCH_SAVE],
        cwd=tmp_path,
        preexec_fn=_limited(64),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.startswith("FileAccessError PyTorch could not write a file"), done


def test_rust_libraries_errors_are_read_by_their_os_error_number():
    """tokenizers and safetensors end their text with Rust's "(os error N)"."""
    from backdoorlab.storage import storage_refused

    rust = Exception("Error while serializing: I/O error: No space left on device (os error 28)")
    assert str(storage_refused(rust)) == (
        "cannot write (No space left on device); free some space and rerun"
    )
    assert storage_refused(RuntimeError("no such file (os error 2)")) is None
    assert storage_refused(ValueError("a bug")) is None


def test_a_command_past_the_limit_ends_in_one_line_and_exit_2(tmp_path):
    out = tmp_path / "traces.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "backdoorlab.cli", "collect", "-n", "2000", "-o", str(out)],
        preexec_fn=_limited(64),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: {out}: cannot write (File too large); the previous file, if any, is untouched"
    )
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # no temp file, no partial output
