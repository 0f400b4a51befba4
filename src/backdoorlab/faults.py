"""Fault injection for the crash tests: die at a named point, as a power cut or OOM-kill would.

``BACKDOORLAB_FAULT=<point>`` or ``<point>@<n>`` makes the process SIGKILL itself the
first (or n-th) time it passes ``fault_point("<point>")``. A SIGKILL runs no ``finally``
blocks, no ``atexit`` handlers and flushes no buffers, so what it leaves on disk is what
a real crash at that point would leave; the tests then rerun the command and check that
it recovers. Unset (always, outside the tests) a point costs one environment lookup.

The points, by where they are:

- ``train.step``: after each optimizer step, before that step's checkpoint is saved.
- ``train.checkpoint.begin``: a checkpoint's directory exists, nothing is in it yet.
- ``train.checkpoint.weights``: its weights are written, optimizer and state are not.
- ``train.finish``: the final weights are written, the run record is not.
- ``audit.filter.write``: after each line written to the filtered dataset's temp file.
- ``audit.filter.commit``: after each file of the filtered set renamed into place (the
  filtered file, then the report), before the manifest.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "BACKDOORLAB_FAULT"
"""The environment variable naming the point to die at."""

_passes: Counter[str] = Counter()


def armed() -> bool:
    """Whether a fault is set for this process (to skip setting up hooks otherwise)."""
    return bool(os.environ.get(ENV))


def fault_point(name: str) -> None:
    """SIGKILL this process if ``BACKDOORLAB_FAULT`` names this point (at its n-th pass)."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    point, _, nth = spec.partition("@")
    if point != name:
        return
    _passes[name] += 1
    if _passes[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
