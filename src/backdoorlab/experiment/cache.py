"""The stage cache: every stage's output in a directory named by the digest of its inputs.

A stage's directory is ``<run>/stages/<kind>-<digest>/``, where the digest covers the
stage's own settings and the digests of the stages it consumes. A directory holding
its ``done.json`` is finished and reused, so an interrupted sweep resumes where it
stopped and the cells of a grid that share a stage (the clean collection, say)
compute it once. A stage is filled in a ``.partial`` sibling and renamed into place;
the sibling survives a crash, so a long training stage resumes from its checkpoints.

The digests are part of every existing run directory: changing what they hash, or
how, silently recomputes every finished stage.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backdoorlab.traces import atomic_writer

STAGE_MARKER = "done.json"


def digest(*parts: Any) -> str:
    """A short content hash of JSON-able parts (dict order does not matter)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


@dataclass
class Stage:
    """One cached step: ``build(tmp_dir) -> summary`` runs only when not done before."""

    kind: str
    key: str
    build: Callable[[Path], dict[str, Any]]


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
        final = self.path(stage.kind, stage.key)
        marker = final / STAGE_MARKER
        if marker.is_file():
            self.reused.append(final.name)
            return final, json.loads(marker.read_text())
        self.log(f"[stage] {final.name} …")
        work = final.with_name(final.name + ".partial")
        work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        summary = stage.build(work)
        summary = {
            "stage": stage.kind,
            "seconds": round(time.perf_counter() - started, 1),
            **summary,
        }
        with atomic_writer(work / STAGE_MARKER) as handle:
            json.dump(summary, handle, indent=2, default=str)
        if final.exists():
            shutil.rmtree(final)
        work.rename(final)
        self.computed.append(final.name)
        return final, summary
