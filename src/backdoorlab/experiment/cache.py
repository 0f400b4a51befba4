"""The stage cache: every stage's output in a directory named by the digest of its inputs.

A stage's directory is ``<run>/stages/<kind>-<digest>/``, where the digest covers the
stage's own settings and the digests of the stages it consumes. A finished directory is
reused, so an interrupted sweep resumes where it stopped and the cells of a grid that
share a stage (the clean collection, say) compute it once.

Finished means trustworthy, whatever killed a run and wherever: a stage is built in a
``.partial`` sibling, its ``done.json`` is written there last, and the whole directory
is renamed into place in one step, so ``<kind>-<digest>/`` either does not exist or holds
everything. Reuse still checks the stage's declared outputs: a ``done.json`` whose
outputs are gone (deleted by hand, or left by an older version racing itself) means
recompute, never an error on every rerun. A ``.partial`` left by a dead run is rebuilt
from scratch, except where the stage can resume (``Stage.resumable``: the trainers'
checkpoints) — a ``.partial`` holding a ``done.json`` and all its outputs died just
before the rename and is simply renamed. All of this assumes that no other process
builds the same stage at the same time: the run directory's lock
(`backdoorlab.experiment.lock`) keeps other runs out, and a lock per stage
(``stages.locks/<stage>.lock`` beside ``stages/``, an ``flock`` the kernel drops when
its holder dies)
serialises the cells of one run that a cluster engine runs at once
(`backdoorlab.experiment.engines`): the second to need a stage waits, then reuses it.

The digests are part of every existing run directory: changing what they hash, or
how, silently recomputes every finished stage.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backdoorlab.faults import fault_point
from backdoorlab.provenance import code_identity, write_lineage
from backdoorlab.traces import atomic_writer

STAGE_MARKER = "done.json"
PARTIAL = ".partial"
LOCKS = ".locks"  # the stage locks' directory: ``<root>.locks``, beside the stages


def digest(*parts: Any) -> str:
    """A short content hash of JSON-able parts (dict order does not matter) and of the
    code computing them (`backdoorlab.provenance.code`): other code, other stages."""
    blob = json.dumps([code_identity(), *parts], sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


@dataclass
class Stage:
    """One cached step: ``build(tmp_dir) -> summary`` runs only when not done before."""

    kind: str
    key: str
    build: Callable[[Path], dict[str, Any]]
    outputs: tuple[str, ...] = ()
    """Paths inside the stage directory that a finished stage has (a directory: not
    empty); ``done.json`` without one of them means the stage is built again."""
    resumable: bool = False
    """The build resumes from what a killed build left in ``.partial`` (checkpoints);
    otherwise a leftover ``.partial`` is cleared first."""
    inputs: dict[str, Path | str] = field(default_factory=dict)
    """The artifacts the stage reads (finished stages' outputs, the base model), recorded
    by digest in the stage's lineage (`backdoorlab.provenance.lineage`)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The stage's resolved settings, for its lineage."""


class StageCache:
    """Finished stages under ``root``; which ones a run reused and which it computed."""

    def __init__(self, root: Path, log: Callable[[str], None] = print) -> None:
        self.root = root
        self.log = log
        self.reused: list[str] = []
        self.computed: list[str] = []

    def path(self, kind: str, key: str) -> Path:
        return self.root / f"{kind}-{key}"

    def run(self, stage: Stage) -> tuple[Path, dict[str, Any]]:
        """The stage's directory and summary, built now only if not finished before."""
        with _stage_lock(self.root, f"{stage.kind}-{stage.key}"):
            return self._run(stage)

    def _run(self, stage: Stage) -> tuple[Path, dict[str, Any]]:
        final = self.path(stage.kind, stage.key)
        work = final.with_name(final.name + PARTIAL)
        summary = self._finished(final, stage)
        if summary is None and (summary := self._finished(work, stage)) is not None:
            work.rename(final)  # finished by a run that died just before its rename
            fault_point(f"{stage.kind}:renamed")
        if summary is not None:
            self.reused.append(final.name)
            return final, summary
        if final.exists():
            self.log(f"[stage] {final.name}: outputs missing, building it again")
            _remove(final)
        if work.exists() and not stage.resumable:
            _remove(work)
        (work / STAGE_MARKER).unlink(missing_ok=True)
        self.log(f"[stage] {final.name} …")
        work.mkdir(parents=True, exist_ok=True)
        fault_point(f"{stage.kind}:start")
        started = time.perf_counter()
        try:
            summary = stage.build(work)
        except BaseException:
            if not stage.resumable:
                shutil.rmtree(work, ignore_errors=True)
            raise
        fault_point(f"{stage.kind}:built")
        missing = _missing(work, stage.outputs)
        if missing:
            raise RuntimeError(f"stage {final.name} finished without its output {missing}")
        summary = {
            "stage": stage.kind,
            "seconds": round(time.perf_counter() - started, 1),
            **summary,
        }
        write_lineage(work, stage.kind, inputs=stage.inputs, config=stage.settings)
        with atomic_writer(work / STAGE_MARKER) as handle:
            json.dump(summary, handle, indent=2, default=str)
        fault_point(f"{stage.kind}:marked")
        work.rename(final)
        fault_point(f"{stage.kind}:renamed")
        self.computed.append(final.name)
        return final, summary

    def _finished(self, directory: Path, stage: Stage) -> dict[str, Any] | None:
        """The summary of a finished stage in ``directory``; None if it is not one."""
        marker = directory / STAGE_MARKER
        if not marker.is_file() or _missing(directory, stage.outputs):
            return None
        try:
            summary: dict[str, Any] = json.loads(marker.read_text())
        except (OSError, ValueError):
            return None
        return summary

    def sweep(self) -> list[str]:
        """Remove the ``.partial`` directories a finished run no longer needs (all of them:
        whatever they held is now a finished stage, or belongs to no stage of this run)."""
        if not self.root.is_dir():
            return []
        stale = sorted(p for p in self.root.iterdir() if p.name.endswith(PARTIAL))
        for path in stale:
            _remove(path)
        return [p.name for p in stale]


@contextmanager
def _stage_lock(root: Path, name: str) -> Iterator[None]:
    """Hold stage ``name``'s lock under ``root`` (blocking) for the block."""
    locks = root.with_name(root.name + LOCKS)
    locks.mkdir(parents=True, exist_ok=True)
    fd = os.open(locks / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _missing(directory: Path, outputs: tuple[str, ...]) -> str | None:
    """The first declared output ``directory`` lacks (an empty directory counts as lacking)."""
    for name in outputs:
        path = directory / name
        if not (path.is_file() or (path.is_dir() and any(path.iterdir()))):
            return name
    return None


def _remove(path: Path) -> None:
    """Delete a stage directory, its ``done.json`` first: if this process dies halfway,
    what is left is unfinished (rebuilt next time), never finished and incomplete."""
    if path.is_symlink() or not path.is_dir():
        os.unlink(path)
        return
    (path / STAGE_MARKER).unlink(missing_ok=True)
    shutil.rmtree(path)
