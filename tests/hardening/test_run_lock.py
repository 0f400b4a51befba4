"""Two `backdoorlab run` in one run directory: the second refuses at once, or waits.

Without a lock, two runs built the same stages into the same ``.partial`` directories and
renamed them over each other: one of three tries left a train stage with ``done.json`` and
no ``model/`` (every rerun then failed), another a traceback. The holder here is a run
stopped with SIGSTOP at a fault point (`backdoorlab.faults`): it holds the lock
for as long as the test wants, with no sleeps and no timing to race.
"""

from __future__ import annotations

import os
import select
import signal

import pytest
from experiment_runs import copy_of, run, start, stop_at, workdir

from backdoorlab.experiment.lock import RunDirectoryBusy, run_lock


def test_a_second_run_refuses_at_once_naming_the_holder_and_leaves_its_work_alone(tmp_path):
    cwd = workdir(tmp_path)
    holder = stop_at(cwd, "collect:start")  # its .partial made, nothing in it yet
    try:
        (partial,) = (cwd / "run" / "stages").glob("collect-*.partial")
        second = run(cwd)
        assert second.returncode == 2
        assert second.stderr.strip() == (
            f"error: run: in use by another backdoorlab run (pid {holder.pid});"
            " wait for it to finish, or pass --wait"
        )
        assert partial.is_dir()  # the holder's work, untouched
    finally:
        holder.kill()
        holder.wait()


def test_wait_waits_for_the_holder_then_reuses_what_it_built(tmp_path_factory):
    cwd = copy_of(tmp_path_factory, "wait")  # finished: both runs are pure reuse
    holder = stop_at(cwd, "run:locked")
    waiter = start(cwd, "--wait")
    try:
        assert waiter.stderr is not None
        ready, _, _ = select.select([waiter.stderr], [], [], 120)
        assert ready, "the waiting run said nothing"
        assert waiter.stderr.readline().strip() == (
            f"[run] run: waiting for pid {holder.pid} to finish …"
        )
        assert waiter.poll() is None  # still waiting
        os.kill(holder.pid, signal.SIGCONT)
        assert holder.wait(timeout=120) == 0
        _, err = waiter.communicate(timeout=120)
        assert waiter.returncode == 0, err
        assert "stages computed: 0, reused: 4" in err
    finally:
        for process in (holder, waiter):
            process.kill()
            process.wait()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path_factory):
    cwd = copy_of(tmp_path_factory, "killed-holder")
    holder = stop_at(cwd, "run:locked")
    holder.kill()
    holder.wait()
    after = run(cwd)
    assert after.returncode == 0, after.stderr
    assert "stages computed: 0, reused: 4" in after.stderr


def test_the_lock_in_one_process(tmp_path):
    """flock locks per open file: a second Runner in the same process is refused too."""
    busy = pytest.raises(RunDirectoryBusy, match=f"pid {os.getpid()}")
    with run_lock(tmp_path, log=lambda _: None), busy, run_lock(tmp_path, log=lambda _: None):
        pass
    with run_lock(tmp_path, log=lambda _: None):  # released
        pass
