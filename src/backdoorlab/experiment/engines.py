"""Where a grid's cells run: in this process (the default), side by side in processes of
this machine (``--jobs``), or as Ray tasks on a cluster (``--engine ray``).

An experiment's cells are independent pipelines whose stages are content-addressed
(`backdoorlab.experiment.cache`): two cells that share a stage (every T1 cell shares the
clean collection) find it by digest, and a per-stage lock makes the second wait for the
first and reuse its result, so a stage is computed once however the cells are spread.
That is all a cluster engine needs from us. The scheduling, resource accounting (CPUs,
GPUs, memory per cell), retries of cells whose worker died, and the cluster itself are
Ray's — the well-kept engine — not code of ours. Each cell runs in a Ray worker with its
own `Runner` on the same run directory, which must therefore be on storage every node
sees (a shared file system); the driver holds the run directory's lock, collects the rows
as cells finish and writes ``results.csv`` in grid order after each one.

A cell that fails is reported with its grid values and its error, the others run on,
and the run ends with an error naming every failed cell (its finished stages are kept:
a rerun resumes them).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import Field

from backdoorlab.config import Config
from backdoorlab.errors import BackdoorlabError

if TYPE_CHECKING:
    from backdoorlab.experiment.runner import Runner
    from backdoorlab.experiment.spec import Cell

__all__ = ["CellsFailed", "Engine", "LocalEngine", "RayEngine", "RayEngineConfig"]


class CellsFailed(BackdoorlabError):
    """Some cells of the grid failed; the others' rows were written."""


class Engine(Protocol):
    def run(
        self, runner: Runner, cells: Sequence[Cell], base_key: str, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Every cell's rows appended to ``rows`` (grid order), which is returned."""


class LocalEngine:
    """This machine's cells: one after the other in this process, a failure stopping the
    run (the default); or, with ``jobs`` > 1, that many cells side by side, each in a
    process of its own whose stages use this machine's cores divided among the jobs.

    Side by side because a small model's training does not fill several cores: on the
    2-core development machine (AMX) two one-thread trainings of SmolLM2-135M ran at 258
    and 261 tokens/s together where one two-thread training ran at 328
    (`benchmarks/train_throughput.py`, benchmarks/README.md, session 45). The cells are
    processes, not threads, because the stages that run in the cell's own process (the
    collection, the poisoning, a published model's training) draw from process-wide
    random state (Faker's, PyTorch's); each job is a fresh interpreter, as a Ray worker
    is, running the same `_run_cell`. Failures are handled as `RayEngine` handles them:
    a cell that raises is reported and the others run on."""

    def __init__(self, jobs: int = 1, log: Callable[[str], None] = print) -> None:
        if jobs < 1:
            raise BackdoorlabError(f"--jobs: must be 1 or more, not {jobs}")
        self.jobs = jobs
        self.log = log

    def run(
        self, runner: Runner, cells: Sequence[Cell], base_key: str, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        jobs = min(self.jobs, len(cells))
        if jobs <= 1:
            for cell in cells:
                runner.cell(rows, cell, base_key)
            return rows
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        threads = max(1, _cores() // jobs)
        # spawn: a fresh interpreter that has imported nothing yet, so the thread count
        # set by `_job_threads` is the one PyTorch's OpenMP reads when it loads
        context = multiprocessing.get_context("spawn")
        progress = _Progress(runner, cells, rows, self.log)
        before = set(multiprocessing.active_children())
        pool = ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_job_threads, initargs=(threads,)
        )
        pending: dict[Any, int] = {}
        try:
            pending = {
                pool.submit(_job_cell, _cell_args(runner, index, base_key)): index
                for index in range(len(cells))
            }
            while pending:
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in finished:
                    index = pending.pop(future)
                    try:
                        progress.done(index, future.result())
                    except BrokenProcessPool:  # killed (OOM, a signal): its stages resume
                        progress.failed(index, "its process ended without a result")
                    except Exception as err:  # the cell's own error, raised in its process
                        progress.failed(index, str(err))
        except BaseException:  # interrupted: no queued cell starts, running ones stop
            for future in pending:
                future.cancel()
            for job in set(multiprocessing.active_children()) - before:
                # SIGINT, not a kill: the job stops its stage process and ends (`_job_cell`)
                if job.pid is not None:
                    with contextlib.suppress(ProcessLookupError):  # it has just ended
                        os.kill(job.pid, signal.SIGINT)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return progress.finish()


class RayEngineConfig(Config):
    """``backdoorlab run --engine ray``: each grid cell as a Ray task."""

    label: ClassVar[str] = "ray engine"

    address: str | None = None
    """Ray cluster to join (``ray://host:10001``, ``host:6379`` or ``auto``); none: start a
    local one on this machine, bound to loopback."""
    cpus_per_cell: float = Field(1.0, gt=0, le=1024)
    """CPUs Ray reserves for each cell (its training and rollouts use them)."""
    gpus_per_cell: float = Field(0.0, ge=0, le=64)
    """GPUs Ray reserves for each cell."""
    memory_gb_per_cell: float | None = Field(None, gt=0, le=65_536)
    """Memory Ray reserves for each cell, in GiB (none: no reservation)."""
    retries: int = Field(1, ge=0, le=100)
    """Times a cell is run again when its worker or node dies. A cell that raises is not
    retried: its error is deterministic and is reported instead."""


class RayEngine:
    """The cells as Ray tasks; progress and failures reported per cell."""

    def __init__(
        self, config: RayEngineConfig | None = None, log: Callable[[str], None] = print
    ) -> None:
        self.config = config or RayEngineConfig()
        self.log = log

    def run(
        self, runner: Runner, cells: Sequence[Cell], base_key: str, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        import ray

        cfg = self.config
        if not ray.is_initialized():
            if cfg.address is None:  # a private local cluster: loopback only, no dashboard
                ray.init(include_dashboard=False, _node_ip_address="127.0.0.1")
            else:
                ray.init(address=cfg.address, include_dashboard=False)
        options: dict[str, Any] = {
            "num_cpus": cfg.cpus_per_cell,
            "num_gpus": cfg.gpus_per_cell,
            "max_retries": cfg.retries,
            "retry_exceptions": False,
        }
        if cfg.memory_gb_per_cell is not None:
            options["memory"] = int(cfg.memory_gb_per_cell * 2**30)
        task = ray.remote(_run_cell).options(**options)
        pending = {
            task.remote(_cell_args(runner, index, base_key)): index for index in range(len(cells))
        }
        progress = _Progress(runner, cells, rows, self.log)
        while pending:
            [ref], _ = ray.wait(list(pending), num_returns=1)
            index = pending.pop(ref)
            try:
                progress.done(index, ray.get(ref))
            except Exception as err:  # RayTaskError wraps the cell's own exception
                progress.failed(index, str(getattr(err, "cause", None) or err))
        return progress.finish()


class _Progress:
    """The rows of cells that finish in any order: ``results.csv`` rewritten in grid order
    after each one (a long grid shows progress), each failure logged with its cell's grid
    values, and `CellsFailed` naming them all at the end."""

    def __init__(
        self,
        runner: Runner,
        cells: Sequence[Cell],
        rows: list[dict[str, Any]],
        log: Callable[[str], None],
    ) -> None:
        self.runner, self.cells, self.rows, self.log = runner, cells, rows, log
        self.finished: dict[int, list[dict[str, Any]]] = {}
        self.errors: list[str] = []

    def _where(self, index: int) -> str:
        return f"cell {index + 1}/{len(self.cells)} {self.cells[index].grid or '(no grid)'}"

    def _ordered(self) -> list[dict[str, Any]]:
        return self.rows + [row for i in sorted(self.finished) for row in self.finished[i]]

    def done(self, index: int, outcome: tuple[list[dict[str, Any]], list[str], list[str]]) -> None:
        from backdoorlab.experiment import results

        cell_rows, reused, computed = outcome
        self.runner.cache.reused += reused
        self.runner.cache.computed += computed
        self.finished[index] = cell_rows
        count = f"{len(self.finished)}/{len(self.cells)}"
        self.log(f"[cell] {self._where(index)} done ({count} finished)")
        results.write(self.runner.run_dir, self._ordered())

    def failed(self, index: int, reason: str) -> None:
        self.errors.append(f"{self._where(index)}: {reason}")
        self.log(f"[cell] {self._where(index)} failed: {reason}")

    def finish(self) -> list[dict[str, Any]]:
        """Every finished cell's rows appended to the rows given, in grid order."""
        from backdoorlab.experiment import results

        self.rows += [row for i in sorted(self.finished) for row in self.finished[i]]
        if self.errors:
            results.write(self.runner.run_dir, self.rows)
            raise CellsFailed(
                f"{len(self.errors)} of {len(self.cells)} cells failed (the others' rows are "
                f"in {self.runner.run_dir}/results.csv; a rerun resumes): " + "; ".join(self.errors)
            )
        return self.rows


def _cores() -> int:
    """The cores this process may run on (its affinity, as a container or ``taskset``
    sets it), where PyTorch would otherwise count the whole machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _job_threads(threads: int) -> None:
    """A `LocalEngine` job's start: its share of the cores, for PyTorch (OpenMP reads the
    variable when it loads) and for the stage processes it starts, which inherit it; an
    ``OMP_NUM_THREADS`` the user exported is kept. And SIGINT raises KeyboardInterrupt
    even where the driver was started with it ignored (a pytest-xdist worker, a shell's
    background job), so that the driver's interruption always reaches its jobs."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))  # the user's own setting wins
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _cell_args(runner: Runner, index: int, base_key: str) -> dict[str, Any]:
    """What a worker needs to run cell ``index`` as ``runner`` would (`_run_cell`)."""
    return {
        "config": runner.config,
        "run_dir": str(runner.run_dir),
        "index": index,
        "base_key": base_key,
        "stage_processes": runner.stage_processes,
    }


def _job_cell(args: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """`_run_cell` in a `LocalEngine` job, which an interruption ends: the pool would
    otherwise send the exception back and start the next queued cell. The stage process
    has been stopped by then (`run_isolated` kills it on the way out)."""
    try:
        return _run_cell(args)
    except KeyboardInterrupt:
        os._exit(130)


def _run_cell(args: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """One cell in a worker (a Ray task's or a `LocalEngine` job's): its rows and the
    stages it reused and computed (`_cell_args` says what ``args`` holds).

    The worker takes no run-directory lock (the driver holds it for the whole run); the
    stage locks keep concurrent cells from building one stage twice."""
    from backdoorlab.experiment.runner import Runner
    from backdoorlab.experiment.spec import check

    config = args["config"]
    runner = Runner(
        config,
        args["run_dir"],
        write_progress=False,
        stage_processes=args["stage_processes"],
    )
    cell = check(config)[args["index"]]
    rows: list[dict[str, Any]] = []
    runner.cell(rows, cell, args["base_key"])
    return rows, runner.cache.reused, runner.cache.computed
