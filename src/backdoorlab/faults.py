"""Fault injection for the crash tests: die (or freeze) at a named point, as a power cut,
an OOM kill or a stuck process would.

**A test aid, not a feature.** ``BACKDOORLAB_FAULT=<point>[@<n>][=SIGSTOP]`` makes the
process signal itself the first (or n-th) time it passes ``fault_point("<point>")``:
SIGKILL by default, which runs no ``finally`` blocks, no ``atexit`` handlers and flushes
no buffers, so what it leaves on disk is what a real crash there would leave; ``=SIGSTOP``
freezes it instead, holding whatever it holds (a run directory's lock) until the test
sends SIGCONT or SIGKILL. The tests then rerun the command and check that it recovers.
Unset (always, outside the tests) a point costs one environment lookup.

The points, by where they are:

- ``train.step``: after each optimizer step, before that step's checkpoint is saved.
- ``train.checkpoint.begin``: a checkpoint's directory exists, nothing is in it yet.
- ``train.checkpoint.weights``: its weights are written, optimizer and state are not.
- ``train.finish``: the final weights are written, the run record is not.
- ``audit.filter.write``: after each run of kept lines written to the filtered dataset's
  temp file (a run: consecutive kept lines of one block read; per line in a ``.gz``).
- ``audit.filter.commit``: after each file of the filtered set renamed into place (the
  filtered file, then the report), before the manifest.
- ``export.staged``: ``export``'s Parquet file and dataset card are written to temporary
  files, neither renamed into place yet.

``backdoorlab run``'s points, in the order a run reaches them (``<stage>`` is a stage
kind: collect, poison, publish, filter, train, eval):

- ``run:locked``: the run directory's lock was just taken;
- ``<stage>:start``: the stage's ``.partial`` directory exists, nothing built yet;
- ``<stage>:during``: part of the output written (collect: after the first kept trace;
  train, publish: after the first checkpoint);
- ``<stage>:built``: every output written, no ``done.json`` yet;
- ``<stage>:marked``: ``done.json`` written in ``.partial``, not yet renamed into place;
- ``<stage>:renamed``: the finished stage renamed into place;
- ``results:csv``: ``results.csv`` rewritten, ``metrics.json`` not yet.

``tests/hardening/test_run_crashes.py`` kills a run at every point in turn,
``test_train_crash_resume.py`` and ``test_audit_filter_crash.py`` kill training and the
audit's filter, and ``test_run_lock.py`` freezes a run holding its lock.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "BACKDOORLAB_FAULT"
"""The environment variable naming the point to stop at."""

_passes: Counter[str] = Counter()


def _parse(spec: str) -> tuple[str, int, signal.Signals]:
    """``point@n=SIGSTOP`` → (point, n, signal); ``@n`` and ``=SIGSTOP`` are optional."""
    target, _, how = spec.partition("=")
    point, _, nth = target.partition("@")
    return point, int(nth or 1), signal.SIGSTOP if how == "SIGSTOP" else signal.SIGKILL


def armed(point: str | None = None) -> bool:
    """Whether a fault is set for this process (for ``point``, when given): lets a caller
    skip building a hook it needs only then."""
    spec = os.environ.get(ENV)
    if not spec:
        return False
    return point is None or _parse(spec)[0] == point


def fault_point(name: str) -> None:
    """Signal this process if ``BACKDOORLAB_FAULT`` names this point (at its n-th pass)."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    point, nth, how = _parse(spec)
    if point != name:
        return
    _passes[name] += 1
    if _passes[name] == nth:
        os.kill(os.getpid(), how)
