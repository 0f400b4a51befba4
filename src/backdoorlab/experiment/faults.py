"""A fault-injection hook for tests: a named point of ``backdoorlab run`` kills the process.

**A test aid, not a feature.** With ``BACKDOORLAB_FAULT=<point>`` in the environment, the
process sends itself SIGKILL when it reaches ``<point>``, exactly as a crash, an OOM kill
or a power cut of the process would stop it there (no ``finally``, no ``atexit``, no
flushing). ``BACKDOORLAB_FAULT=<point>=SIGSTOP`` stops it instead, which holds whatever it
holds (the run directory's lock) until the test sends SIGCONT or SIGKILL. Unset, a point
costs one dictionary lookup.

Points, in the order a run reaches them (``<stage>`` is a stage kind: collect, poison,
publish, filter, train, eval):

- ``run:locked``: the run directory's lock was just taken;
- ``<stage>:start``: the stage's ``.partial`` directory exists, nothing built yet;
- ``<stage>:during``: part of the output written (collect: after the first kept trace;
  train: after the first checkpoint);
- ``<stage>:built``: every output written, no ``done.json`` yet;
- ``<stage>:marked``: ``done.json`` written in ``.partial``, not yet renamed into place;
- ``<stage>:renamed``: the finished stage renamed into place;
- ``results:csv``: ``results.csv`` rewritten, ``metrics.json`` not yet.

A point fires each time it is reached: the first stage of its kind that gets there dies.
``tests/hardening/test_run_crashes.py`` kills a run at every point in turn and checks that
the rerun gives the results of an uninterrupted run.
"""

from __future__ import annotations

import os
import signal

ENV = "BACKDOORLAB_FAULT"


def fault(point: str) -> None:
    """Stop the process here if ``BACKDOORLAB_FAULT`` names ``point`` (see the module)."""
    wanted = os.environ.get(ENV)
    if wanted is None:
        return
    name, _, how = wanted.partition("=")
    if name == point:
        os.kill(os.getpid(), signal.SIGSTOP if how == "SIGSTOP" else signal.SIGKILL)


def armed(point: str) -> bool:
    """Whether ``point`` would fire: lets a caller skip building a hook it needs only then."""
    return os.environ.get(ENV, "").partition("=")[0] == point
