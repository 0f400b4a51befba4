"""Where a grid's cells run: in this process (the default), or as Ray tasks on a cluster.

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
    """One cell after the other in this process; a failure stops the run (the default)."""

    def run(
        self, runner: Runner, cells: Sequence[Cell], base_key: str, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        for cell in cells:
            runner.cell(rows, cell, base_key)
        return rows


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

        from backdoorlab.experiment import results

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
            task.remote(runner.config, str(runner.run_dir), index, base_key): index
            for index in range(len(cells))
        }
        done: dict[int, list[dict[str, Any]]] = {}
        failed: list[str] = []
        while pending:
            [ref], _ = ray.wait(list(pending), num_returns=1)
            index = pending.pop(ref)
            where = f"cell {index + 1}/{len(cells)} {cells[index].grid or '(no grid)'}"
            try:
                cell_rows, reused, computed = ray.get(ref)
            except Exception as err:  # RayTaskError wraps the cell's own exception
                reason = getattr(err, "cause", None) or err
                failed.append(f"{where}: {reason}")
                self.log(f"[cell] {where} failed: {reason}")
                continue
            runner.cache.reused += reused
            runner.cache.computed += computed
            done[index] = cell_rows
            self.log(f"[cell] {where} done ({len(done)}/{len(cells)} finished)")
            results.write(runner.run_dir, rows + [r for i in sorted(done) for r in done[i]])
        rows += [r for i in sorted(done) for r in done[i]]
        if failed:
            results.write(runner.run_dir, rows)
            raise CellsFailed(
                f"{len(failed)} of {len(cells)} cells failed (the others' rows are in "
                f"{runner.run_dir}/results.csv; a rerun resumes): " + "; ".join(failed)
            )
        return rows


def _run_cell(
    config: Any, run_dir: str, index: int, base_key: str
) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """One cell in a Ray worker: its rows and the stages it reused and computed.

    The worker takes no run-directory lock (the driver holds it for the whole run); the
    stage locks keep concurrent cells from building one stage twice."""
    from backdoorlab.experiment.runner import Runner
    from backdoorlab.experiment.spec import check

    runner = Runner(config, run_dir, write_progress=False)
    cell = check(config)[index]
    rows: list[dict[str, Any]] = []
    runner.cell(rows, cell, base_key)
    return rows, runner.cache.reused, runner.cache.computed
