"""``backdoorlab ARGV`` in a child process, for the tests where a hang or a runaway read
must stay out of the test process (a timeout ends it; ``memory`` caps its address space)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys


def child_cli(
    *argv: str, timeout: float = 60, memory: int | None = None
) -> subprocess.CompletedProcess:
    """Run the command line with stdin closed and a wide console; a hang raises
    `subprocess.TimeoutExpired` (the test fails), a read past ``memory`` bytes fails the
    child alone."""

    def limit() -> None:
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "COLUMNS": "300"}
    return subprocess.run(
        [sys.executable, "-m", "backdoorlab.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit,
        stdin=subprocess.DEVNULL,
    )
