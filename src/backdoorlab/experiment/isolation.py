"""A stage's work in a process of its own, forked from a server that never computed.

In one process the main job's second fine-tune ran ~25% slower than the same fine-tune
alone (10 steps, two threads: 95.1 s alone, 107.5 s after a training, 120.6 s after a
training and an evaluation; `benchmarks/inprocess_training.py`), and the process's peak
memory is the largest stage plus what the earlier ones left in its heap. A fine-tune or
an evaluation in a fresh process starts from a clean heap and gives all of its memory
back when it ends: the main job's config at 10 steps, one thread, two runs each way
(`benchmarks/README.md`, session 8): its second fine-tune 127.8 / 129.9 s against 142.4
/ 147.2 s in one process, its evaluations 8–18% faster, the largest process 3.33 GiB
against 3.80.

The processes come from multiprocessing's ``forkserver``: a server started once per run
imports the heavy modules (`PRELOAD`) and forks each stage's process from itself. Fork,
not spawn, so a stage does not pay the imports again (~6 s); from the server, not from
the run, because the run may have computed with PyTorch's OpenMP threads already, and a
process forked after that hangs in its first parallel region. The function and its
arguments travel pickled between our own processes, with the run's working directory and
environment; the result comes back the same way.

The fork server starts under jemalloc where the system has it (`backdoorlab.allocator`:
the main job's fine-tune peaked ~1.1 GiB lower over 24 steps).

A stage process killed by a signal (the OOM killer, a crash test's SIGKILL) takes the
run with it by the same signal, as though the stage had run in the run's own process:
what it finished is on disk (checkpoints, finished stages), and a rerun resumes it.
An exception in the stage is raised again in the run (a bug's with the stage process's
traceback as a note).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from backdoorlab.allocator import preload_library
from backdoorlab.errors import BackdoorlabError
from backdoorlab.storage import storage_refused

__all__ = ["PRELOAD", "run_isolated"]

T = TypeVar("T")

PRELOAD = [
    "backdoorlab.experiment.stages",
    "backdoorlab.training.sft",
    "backdoorlab.evaluation",
    "backdoorlab.policies.hf",
    "peft",
    "trl",
]
"""Modules the fork server imports once, so that every stage process starts with them."""


def _context() -> Any:  # -> multiprocessing.context.ForkServerContext
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # read when the server starts: the first call
    return context


def _child(
    send: Connection,
    where: tuple[str, dict[str, str]],
    function: Callable[..., Any],
    args: tuple,
    kwargs: dict,
) -> None:
    # the run's working directory and environment now, not the fork server's at its
    # start (the opt-ins `--allow-network`/`--allow-pickle` are environment variables)
    os.chdir(where[0])
    os.environ.clear()
    os.environ.update(where[1])
    try:
        outcome: tuple[bool, Any] = (True, function(*args, **kwargs))
    except BaseException as exc:  # noqa: BLE001 - raised again in the run
        outcome = (False, _sendable(exc))
    try:
        send.send(outcome)
    finally:
        send.close()


def _sendable(exc: BaseException) -> BaseException:
    """``exc`` as the run will raise it: with this process's traceback as a note (the
    run's own traceback ends at `run_isolated`), or, if it does not survive pickling (an
    exception class with its own ``__init__`` arguments), a plain one with its text. A
    write the storage refused becomes its one-line error here, where the exception's
    chain (which pickling drops) still tells what it was."""
    full = storage_refused(exc)
    if full is not None:
        return full
    if not isinstance(exc, BackdoorlabError):  # a user's error needs no traceback
        exc.add_note("in the stage's process:\n" + "".join(traceback.format_exception(exc)))
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        kind = BackdoorlabError if isinstance(exc, BackdoorlabError) else RuntimeError
        plain = kind(f"{exc}" if kind is BackdoorlabError else f"{type(exc).__name__}: {exc}")
        plain.__notes__ = list(getattr(exc, "__notes__", []))
        return plain


def _start(process: Any) -> None:
    """``process.start()``; the first start execs the fork server, and it does so under
    jemalloc where the system has it (`backdoorlab.allocator`): every stage process forked
    from it allocates through it. ``_child`` then restores the run's own environment."""
    library = preload_library()
    if library is None:
        process.start()
        return
    os.environ["LD_PRELOAD"] = library
    try:
        process.start()
    finally:
        del os.environ["LD_PRELOAD"]


def run_isolated(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` in a fresh process; its result, or its exception."""
    context = _context()
    receive, send = context.Pipe(duplex=False)
    where = (os.getcwd(), dict(os.environ))
    process = context.Process(target=_child, args=(send, where, function, args, kwargs))
    _start(process)
    send.close()
    try:
        try:
            outcome = receive.recv()
        except EOFError:  # the process ended without a word: killed
            outcome = None
        process.join()
    finally:
        if process.is_alive():  # the run was interrupted: the stage goes with it
            process.kill()
            process.join()
        receive.close()
    if outcome is None:
        code = process.exitcode
        if code is not None and code < 0:
            os.kill(os.getpid(), -code)  # its death is the run's (see the module docstring)
        raise BackdoorlabError(f"a stage's process ended with exit code {code} and no result")
    ok, value = outcome
    if ok:
        return value  # type: ignore[no-any-return]
    raise value
