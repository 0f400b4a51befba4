"""Start `backdoorlab serve` in a child process, as a user would, and read its address.

Shared by the benchmarks that compare served and in-process runs (serve_vs_hf.py,
trained_formats_served.py) and the guard proxy's (guard_proxy.py), so each starts its
server and parses its ``serving ... at URL`` (``guarding ... at URL``) line the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys


def start_serve(model: str, *options: str) -> tuple[subprocess.Popen[str], str]:
    """``backdoorlab serve MODEL --port 0 OPTIONS...`` on loopback; (process, base URL).

    The child gets this process's ``sys.path`` as its PYTHONPATH, so it imports the same
    backdoorlab. Exits with the line serve printed when the first line is not the
    ``serving`` one (the caller cannot measure anything without a server).
    """
    return _start(["serve", model, "--port", "0", *options], "serving ")


def start_proxy(upstream: str, *options: str) -> tuple[subprocess.Popen[str], str]:
    """``backdoorlab guard proxy --upstream URL --port 0 OPTIONS...``; (process, base
    URL), as `start_serve`."""
    return _start(["guard", "proxy", "--upstream", upstream, "--port", "0", *options], "guarding ")


def _start(arguments: list[str], ready: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "backdoorlab.cli", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith(ready):
        process.kill()
        raise SystemExit(f"{arguments[0]} did not start: {line!r}")
    return process, line.split(" at ")[-1].strip()
