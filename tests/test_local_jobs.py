"""`backdoorlab run --jobs N`: the grid's cells side by side on this machine.

Each cell runs in a spawned process of its own (`LocalEngine`), as a Ray worker would run
it: the rows come back in grid order and equal the one-after-the-other engine's, a stage
two cells share is computed once, a cell that fails is reported while the others finish,
and each job gets its share of the cores.
"""

import csv
import os
import time

import pytest
import yaml

from backdoorlab.errors import BackdoorlabError
from backdoorlab.experiment import Runner, load_config
from backdoorlab.experiment.engines import CellsFailed, LocalEngine, _job_threads
from tests.grids import GRID


def _config(tmp_path, grid, name="exp.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(GRID | {"grid": grid}))
    return load_config(path)


def _table(run_dir):
    with open(run_dir / "results.csv") as handle:
        return list(csv.DictReader(handle))


def test_cells_side_by_side_match_the_serial_run_and_a_failure_is_reported(tmp_path):
    run_dir = tmp_path / "run"
    lines: list[str] = []
    engine = LocalEngine(jobs=2, log=lines.append)
    config = _config(tmp_path, GRID["grid"])
    with pytest.raises(CellsFailed, match=r"1 of 3 cells failed.*cell 3/3.*'attack.count': 99"):
        Runner(config, run_dir, log=lambda _: None, engine=engine).run()
    table = _table(run_dir)
    assert [row["attack.count"] for row in table] == ["0", "2"]  # grid order, the failed one out
    assert [row["poisoned_traces"] for row in table] == ["0", "2"]
    assert sum("done" in line for line in lines) == 2
    assert any(line.startswith("[cell] cell 3/3") and "failed" in line for line in lines)
    stages = [p.name for p in (run_dir / "stages").iterdir() if (p / "done.json").is_file()]
    assert sum(name.startswith("collect-") for name in stages) == 1  # shared, computed once

    # the good cells one after the other in a fresh directory: the same rows
    good = _config(tmp_path, {"attack.count": [0, 2]}, "good.yaml")
    serial = Runner(good, tmp_path / "serial", log=lambda _: None).run()
    assert [(r["TSR"], r["ASR"], r["poisoned_traces"]) for r in serial] == [
        (float(t["TSR"]), float(t["ASR"]) if t["ASR"] else t["ASR"], int(t["poisoned_traces"]))
        for t in table
    ]
    # and side by side again over the first directory: every stage reused
    rerun = Runner(good, run_dir, log=lambda _: None, engine=engine, overwrite=True)
    assert [r["poisoned_traces"] for r in rerun.run()] == [0, 2]
    assert rerun.reused and not rerun.computed


def test_one_job_runs_in_this_process(tmp_path, monkeypatch):
    """jobs=1 (and more jobs than cells: one cell) starts no process."""
    import concurrent.futures

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", None)  # would fail if used
    config = _config(tmp_path, {"attack.count": [2]})
    rows = Runner(config, tmp_path / "run", log=lambda _: None, engine=LocalEngine(4)).run()
    assert [r["poisoned_traces"] for r in rows] == [2]


def test_a_job_gets_its_share_of_the_cores_unless_the_user_set_one(monkeypatch):
    import signal

    previous = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell's background job starts
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        _job_threads(3)
        assert os.environ["OMP_NUM_THREADS"] == "3"
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # interruptible
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        _job_threads(3)
        assert os.environ["OMP_NUM_THREADS"] == "1"
    finally:
        signal.signal(signal.SIGINT, previous)


def test_jobs_below_one_are_refused():
    with pytest.raises(BackdoorlabError, match="--jobs: must be 1 or more, not 0"):
        LocalEngine(0)


def test_an_interrupted_run_starts_no_queued_cell_and_leaves_no_job_behind(tmp_path):
    """SIGINT to the driver alone while its two jobs train (long trainings, so no cell can
    finish first): KeyboardInterrupt propagates, the third cell never starts, and no job
    or stage process is left to write after the run has returned."""
    import multiprocessing
    import signal
    import threading

    stages = tmp_path / "run" / "stages"

    def interrupt_once_both_train() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if stages.is_dir() and sum(p.name.startswith("train-") for p in stages.iterdir()) >= 2:
                break
            time.sleep(0.1)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    grid = GRID | {"train": GRID["train"] | {"max_steps": 100_000}}
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump(grid | {"grid": {"attack.count": [0, 1, 2]}}))
    runner = Runner(load_config(path), tmp_path / "run", log=lambda _: None, engine=LocalEngine(2))
    watcher = threading.Thread(target=interrupt_once_both_train, daemon=True)
    # SIGINT as in a terminal: a pytest-xdist worker runs with it ignored
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        watcher.start()
        with pytest.raises(KeyboardInterrupt):
            runner.run()
        watcher.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert not multiprocessing.active_children()
    started = sorted(p.name for p in stages.iterdir())
    assert sum(name.startswith("train-") for name in started) == 2
    time.sleep(2)  # nothing left running writes another stage
    assert sorted(p.name for p in stages.iterdir()) == started
