"""Running one case of the hostile sweep (`hostile_cli`) and judging what it did.

A case is a command line; its verdict compares what happened with the standard: the
exit codes it may end with, no traceback, one line on stderr naming what is wrong, no
hang, every input byte-identical, its output written whole or left as it was (with the
umask's mode, no temporary file behind). A server (`guard proxy`, `serve`) that prints
its ready line has accepted its options: it is stopped there, and "served" is its code.
"""

from __future__ import annotations

import hashlib
import os
import selectors
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

COUNTS = ("traceback", "wrong exit", "hang", "data damage", "unclear error")
"""The kinds of defect counted; a case may have several."""

SERVED = "served"
WAITS = "waits"
"""Still running at the timeout, ended by SIGTERM: a reader waiting on a named pipe's
writer, as ``cat`` does; a hang is one SIGTERM cannot end."""


@dataclass
class Case:
    command: str
    case: str
    argv: list[str]
    expect: tuple[int | str, ...] = (2,)
    """Acceptable exit codes; ``"served"`` for a server that may start."""
    names: str | None = None
    """What the error line must name (the file, the option); None: not checked."""
    keep: list[Path] = field(default_factory=list)
    """Inputs that must stay byte-identical."""
    output: Path | None = None
    stdin: bytes | None = None
    timeout: float = 40
    server: bool = False
    setup: object = None
    """Called with no argument just before the run (a FIFO's writer thread)."""


@dataclass
class Result:
    command: str
    case: str
    code: int | str
    traceback: bool
    output: str
    verdict: str
    defects: list[str]
    stderr: str


def _digest(path: Path) -> str | None:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return "not-regular"
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _temps(output: Path) -> list[str]:
    try:
        return [p.name for p in output.parent.iterdir() if p.name.startswith(f".{output.name}.")]
    except OSError:
        return []


def _run(case: Case, cwd: Path) -> tuple[int | str, str, float]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), COLUMNS="300")

    def child() -> None:
        os.setsid()

    argv = [sys.executable, "-m", "backdoorlab.cli", *case.argv]
    if callable(case.setup):
        case.setup()
    start = time.monotonic()
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE if case.stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=child,
    )
    if case.stdin is not None:
        try:
            process.stdin.write(case.stdin)
            process.stdin.close()
        except BrokenPipeError:
            pass
    out, err, code = _wait(process, case, start)
    return code, err.decode("utf-8", "replace"), time.monotonic() - start


def _wait(process: subprocess.Popen, case: Case, start: float) -> tuple[bytes, bytes, int | str]:
    """Collect stdout/stderr until exit; a server's ready line ends the run ("served"),
    the timeout ends it as "hang"."""
    chunks = {process.stdout: b"", process.stderr: b""}
    selector = selectors.DefaultSelector()
    for stream in chunks:
        selector.register(stream, selectors.EVENT_READ)
    code: int | str | None = None
    while selector.get_map():
        left = case.timeout - (time.monotonic() - start)
        if left <= 0:
            code = "hang"
            break
        for key, _ in selector.select(min(left, 1.0)):
            data = os.read(key.fd, 65536)
            if not data:
                selector.unregister(key.fileobj)
                continue
            chunks[key.fileobj] += data
        if case.server and chunks[process.stdout].startswith((b"guarding ", b"serving ")):
            code = SERVED
            break
    if code is not None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
            if code == "hang":  # still waiting, and SIGTERM (Ctrl-C alike) ends it
                code = WAITS
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return chunks[process.stdout], chunks[process.stderr], code
    return chunks[process.stdout], chunks[process.stderr], process.wait()


def run_case(case: Case, cwd: Path) -> Result:
    kept = {p: _digest(p) for p in case.keep}
    before = _digest(case.output) if case.output is not None else None
    code, err, _ = _run(case, cwd)
    defects: list[str] = []
    tb = "Traceback (most recent call last)" in err
    if tb:
        defects.append("traceback")
    if code in ("hang", WAITS) and code not in case.expect:
        defects.append("hang")
    elif code not in case.expect:
        defects.append("wrong exit")
    lines = [line for line in err.splitlines() if line.strip()]
    if code == 2 and not tb and (len(lines) != 1 or (case.names and case.names not in err)):
        defects.append("unclear error")
    state = "-"
    damaged = [p.name for p, d in kept.items() if _digest(p) != d]
    if case.output is not None:
        state, bad = _output_state(case.output, before, code)
        damaged += bad
    if damaged:
        defects.append("data damage")
    first = lines[-1] if lines else ""
    verdict = ("DEFECT " + ",".join(defects) if defects else "ok") + f" | {first[:150]}"
    if damaged:
        verdict += f" | damaged: {', '.join(damaged)}"
    return Result(case.command, case.case, code, tb, state, verdict, defects, err[-3000:])


def _output_state(output: Path, before: str | None, code: int | str) -> tuple[str, list[str]]:
    after = _digest(output)
    temps = _temps(output)
    bad = [f"temp {t}" for t in temps]
    if code in (0, 1, SERVED) and after not in (None, "not-regular") and after != before:
        mode = os.stat(output).st_mode & 0o777
        state = f"written {mode:o}"
        if mode != 0o640 and not output.is_symlink():  # 0o666 & ~0o027
            bad.append(f"mode {mode:o}, the umask wants 640")
    elif before is None:
        state = "absent" if after is None else "CREATED"
        if after is not None and after != "not-regular":
            bad.append(f"{output.name} created by a failed run")
    else:
        state = "kept" if after == before else "CLOBBERED"
        if after != before:
            bad.append(f"{output.name} changed by a failed run")
    return state + (" +temp" if temps else ""), bad
