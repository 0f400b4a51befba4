"""An evaluation's finished batches kept on disk, so an interrupted ``eval`` resumes.

Hundreds of episodes of a guarded or a large model take hours on a CPU; a run that dies
(killed, out of memory, the machine restarted) should lose the batch it was decoding,
not the hours before it. With a traces directory, each finished batch of a condition is
written to ``DIR/.eval-journal/`` as one file — its episodes' traces and what the
caller keeps with them (`Sidecar`: the guard's decisions) — atomically, so a batch
file is whole or absent. A rerun of the same evaluation reads the batches back and
starts at the next one. Batches keep the uninterrupted run's boundaries (the same tasks
from the same start, the same batch size), so what is decoded after a resume is decoded
in the batches it would have been.

"The same evaluation" is the key written when the journal is opened: the evaluation
config, the policy, the environment and whatever the caller adds (the guard policy's
digest). A journal of another evaluation is refused with one line naming it — it holds
someone's episodes and is never cleared silently. A finished run removes its journal.

One evaluation writes into a traces directory at a time: the journal holds the
directory's lock (`backdoorlab.dirlock`), and a second evaluation pointed at it refuses
at once. Without it, two runs of the same
evaluation would decode the same batches twice, and the first to finish would delete
the journal the other was still writing to.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from backdoorlab import dirlock
from backdoorlab.config import describe_validation_error
from backdoorlab.envs.base import Task
from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import atomic_writer
from backdoorlab.rollout import EpisodeResult
from backdoorlab.traces import Trace

JOURNAL = ".eval-journal"
"""The journal's directory inside the traces directory."""
_KEY = "key.json"


@dataclass
class Sidecar:
    """What a caller keeps with each batch besides its traces, as JSON values."""

    take: Callable[[], list[Any]]
    """Called once after each finished batch: what that batch added (and only that)."""
    restored: list[Any] = field(default_factory=list)
    """Every batch's ``take`` read back from the journal, in batch order."""


class EvalJournal:
    """The finished batches of one evaluation, in ``directory``."""

    def __init__(self, directory: Path, lock: int | None = None) -> None:
        self.directory = directory
        self._lock = lock

    @classmethod
    def open(cls, traces_dir: str | Path, key: dict[str, Any]) -> EvalJournal:
        """The journal in ``traces_dir``, created for ``key`` if there is none.

        Raises `BackdoorlabError` (one line, naming the directory) when another
        evaluation is writing there, or the journal there belongs to an evaluation with
        another key. The directory stays locked until `close` (or `remove`)."""
        lock = dirlock.acquire(Path(traces_dir), "evaluation", "--traces")
        try:
            return cls(cls._check_key(Path(traces_dir) / JOURNAL, key), lock)
        except BaseException:
            dirlock.release(lock)
            raise

    @staticmethod
    def _check_key(directory: Path, key: dict[str, Any]) -> Path:
        """``directory``, after checking (or writing) its key."""
        wanted = _plain(key)
        held = _held_key(directory)
        if held is not None:
            _compare(directory, held, wanted)
        else:
            with atomic_writer(directory / _KEY) as handle:
                json.dump(wanted, handle, sort_keys=True)
        return directory

    def _batch_file(self, condition: str, start: int) -> Path:
        # a condition may be named by a trigger phrase: a file name needs a tame one
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in condition)[:40]
        if name != condition:
            name += "-" + hashlib.sha256(condition.encode()).hexdigest()[:12]
        return self.directory / f"{name}.{start:06d}.json"

    def record(
        self, condition: str, start: int, results: Sequence[EpisodeResult], extra: list[Any]
    ) -> None:
        """Keep one finished batch: ``results`` of ``condition``'s tasks from ``start``."""
        with atomic_writer(self._batch_file(condition, start)) as handle:
            handle.write('{"condition": ')
            handle.write(json.dumps(condition))
            handle.write(f', "start": {start}, "extra": ')
            handle.write(json.dumps(extra))
            handle.write(', "traces": [')
            handle.write(", ".join(r.trace.to_json() for r in results))
            handle.write("]}")

    def finished(
        self, condition: str, tasks: Sequence[Task], batch_size: int
    ) -> tuple[list[EpisodeResult], list[Any]]:
        """The results of ``condition``'s batches finished so far, from the first on
        (a batch after a missing one is not used), and their batches' extras."""
        results: list[EpisodeResult] = []
        extras: list[Any] = []
        while len(results) < len(tasks):
            path = self._batch_file(condition, len(results))
            if not path.is_file():
                break
            batch = tasks[len(results) : len(results) + batch_size]
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                traces = [Trace.model_validate(t) for t in data["traces"]]
                extra = list(data["extra"])
            except (OSError, ValueError, KeyError, TypeError, ValidationError) as exc:
                why = (  # pydantic's own text spans lines and links to its docs
                    describe_validation_error(exc, prefix="traces")
                    if isinstance(exc, ValidationError)
                    else " ".join(str(exc).split())
                )
                raise BackdoorlabError(
                    f"{path}: not a journal batch ({why}); remove {self.directory} to start over"
                ) from None
            ids = [t.metadata.task_id if t.metadata else None for t in traces]
            if ids != [task.id for task in batch]:
                raise BackdoorlabError(
                    f"{path}: holds tasks {ids}, this evaluation's batch is "
                    f"{[task.id for task in batch]}; remove {self.directory} to start over"
                )
            for task, trace in zip(batch, traces, strict=True):
                outcome = trace.metadata.outcome if trace.metadata else None
                if outcome is None:
                    raise BackdoorlabError(f"{path}: a trace without its outcome")
                results.append(EpisodeResult(task=task, trace=trace, outcome=outcome))
            extras.extend(extra)
        return results, extras

    def read_back(
        self, conditions: Sequence[tuple[str, Sequence[Task]]], batch_size: int
    ) -> tuple[dict[str, list[EpisodeResult]], list[Any]]:
        """`finished` for each (condition, its tasks): the results by condition and every
        batch's extras in order; says on stderr how many episodes were read back."""
        resume: dict[str, list[EpisodeResult]] = {}
        extras: list[Any] = []
        for name, tasks in conditions:
            resume[name], more = self.finished(name, tasks, batch_size)
            extras += more
        if done := sum(map(len, resume.values())):
            total = sum(len(tasks) for _, tasks in conditions)
            print(
                f"resuming: {done} of {total} episodes read back from {self.directory}",
                file=sys.stderr,
            )
        return resume, extras

    def remove(self) -> None:
        """The evaluation finished: its journal is no longer needed."""
        shutil.rmtree(self.directory, ignore_errors=True)
        self.close()

    def close(self) -> None:
        """Let another evaluation write into the traces directory (idempotent)."""
        dirlock.release(self._lock)
        self._lock = None


def check_known_key(traces_dir: str | Path, known: dict[str, Any]) -> None:
    """Refuse, before the policy is built (a model loaded: minutes for a large one), a
    journal in ``traces_dir`` whose key differs in a part already ``known`` (the config,
    the environment, the caller's additions); the parts that need the built policy are
    left to `EvalJournal.open`. Writes nothing; a directory another evaluation is
    writing is refused as `EvalJournal.open` refuses it (the lock is let go at once)."""
    directory = Path(traces_dir) / JOURNAL
    if not (directory / _KEY).is_file():
        return
    lock = dirlock.acquire(Path(traces_dir), "evaluation", "--traces")
    try:
        held = _held_key(directory)
        if held is None:
            return
        wanted = _plain(known)
        _compare(directory, {k: held.get(k) for k in wanted}, wanted)
    finally:
        dirlock.release(lock)


def _plain(key: dict[str, Any]) -> dict[str, Any]:
    """The key as JSON reads it back (tuples as lists, others as text)."""
    return json.loads(json.dumps(key, sort_keys=True, default=str))


def _held_key(directory: Path) -> Any:
    """The key of the journal in ``directory``, or None if it has none."""
    key_file = directory / _KEY
    if not key_file.is_file():
        return None
    try:
        return json.loads(key_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackdoorlabError(f"{key_file}: unreadable journal key ({exc})") from None


def _compare(directory: Path, held: Any, wanted: dict[str, Any]) -> None:
    if held != wanted:
        changed = _differences(held, wanted)
        raise BackdoorlabError(
            f"{directory}: an unfinished evaluation with other settings "
            f"({', '.join(changed)}); rerun it as it was to resume, or remove the "
            "directory (or choose another --traces) to start over"
        )


def _differences(held: Any, wanted: Any, prefix: str = "") -> list[str]:
    """The dotted names of the settings in which two keys differ."""
    if not (isinstance(held, dict) and isinstance(wanted, dict)):
        return [prefix or "key"]
    names: list[str] = []
    for name in sorted(held.keys() | wanted.keys()):
        if held.get(name) != wanted.get(name):
            names += _differences(held.get(name), wanted.get(name), f"{prefix}{name}.")
    return [n.rstrip(".") for n in names]
