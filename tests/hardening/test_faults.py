"""The fault-injection hook the crash tests use (`backdoorlab.faults`): which pass of which
point signals, and with which signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from backdoorlab.faults import ENV, armed

SRC = str(Path(__file__).resolve().parents[2] / "src")
PASSES = (
    "import sys; from backdoorlab.faults import fault_point\n"
    "for i in range(1, 4):\n"
    "    fault_point('other'); fault_point('p')\n"
    "    print(i, flush=True)\n"
)


def _passes(spec: str | None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != ENV} | {"PYTHONPATH": SRC}
    if spec is not None:
        env[ENV] = spec
    return subprocess.Popen(
        [sys.executable, "-c", PASSES], env=env, stdout=subprocess.PIPE, text=True
    )


@pytest.mark.parametrize(
    ("spec", "printed", "code"),
    [
        (None, "1\n2\n3\n", 0),
        ("q", "1\n2\n3\n", 0),
        ("p", "", -signal.SIGKILL),
        ("p@2", "1\n", -signal.SIGKILL),
        ("p@3", "1\n2\n", -signal.SIGKILL),
        ("p@4", "1\n2\n3\n", 0),
    ],
)
def test_the_nth_pass_of_the_named_point_kills(spec: str | None, printed: str, code: int) -> None:
    process = _passes(spec)
    out, _ = process.communicate(timeout=60)
    assert (out, process.returncode) == (printed, code)


def test_sigstop_freezes_at_the_point_and_a_continued_process_goes_on() -> None:
    process = _passes("p@2=SIGSTOP")
    try:
        _, status = os.waitpid(process.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status) and os.WSTOPSIG(status) == signal.SIGSTOP
        os.kill(process.pid, signal.SIGCONT)
        out, _ = process.communicate(timeout=60)
        assert (out, process.returncode) == ("1\n2\n3\n", 0)  # the point fires once only
    finally:
        process.kill()
        process.wait()


def test_armed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert not armed() and not armed("p")
    monkeypatch.setenv(ENV, "p@2=SIGSTOP")
    assert armed() and armed("p") and not armed("q")
