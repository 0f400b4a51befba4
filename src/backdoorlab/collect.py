"""Collection: a policy on tasks of an environment, its traces kept and written.

The one loop behind ``backdoorlab collect``, the experiment runner's collect stage,
``scan``'s canary traces and the fine-tuning-activated attack's training data: they
differ only in the tasks, the policy, an optional hook that prepares each episode (an
attack planting its trigger) and which traces they keep (the usual success filter, or
success *and* leak for a poisoned replay). Every episode's outcome is returned, kept or
not, so a caller can report success and leak rates over all of them.

A collection that fails midway (a model server gone, a `BackdoorlabError` from the
policy) keeps what it finished: the kept traces of the finished episodes are written
next to the output as ``NAME.partial.jsonl`` — never over it, so an earlier complete
file survives — and the error says where and how many.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from backdoorlab.envs.base import Environment, Task
from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import is_stdio
from backdoorlab.policies.base import Policy
from backdoorlab.rollout import EpisodeResult, PrepareHook, iter_rollout
from backdoorlab.stats import Rate
from backdoorlab.traces import Outcome, Trace, write_traces

__all__ = [
    "KEEP",
    "Collection",
    "CollectionInterrupted",
    "KeepFn",
    "collect_traces",
    "partial_path",
    "succeeded",
]

KeepFn = Callable[[EpisodeResult], bool]
"""Whether an episode's trace is kept."""


def succeeded(result: EpisodeResult) -> bool:
    """Keep the episodes whose task succeeded (what training data is made of)."""
    return result.outcome.success


KEEP: dict[str, KeepFn | None] = {"all": None, "success": succeeded}
"""The filters ``collect --keep`` offers, by name (``None``: keep every trace)."""


class CollectionInterrupted(BackdoorlabError):
    """A collection stopped by an error; its finished episodes' traces were kept."""

    def __init__(self, message: str, partial: Path | None, written: int) -> None:
        super().__init__(message)
        self.partial = partial
        self.written = written


def partial_path(output: str | os.PathLike[str]) -> Path:
    """Where an interrupted collection to ``output`` keeps its finished traces."""
    path = Path(output)
    for suffix in (".jsonl.gz", ".jsonl"):
        if path.name.endswith(suffix):
            return path.with_name(f"{path.name[: -len(suffix)]}.partial{suffix}")
    return path.with_name(f"{path.name}.partial.jsonl")


@dataclass
class Collection:
    """What one collection produced."""

    traces: list[Trace]
    """The kept traces, in task order."""
    outcomes: list[Outcome]
    """Every episode's outcome, kept or not, in task order."""
    path: Path | None = None
    """Where the kept traces were written, if anywhere."""

    @property
    def written(self) -> int:
        return len(self.traces)

    @property
    def success(self) -> Rate:
        """Share of all episodes whose task succeeded."""
        return Rate.of(sum(o.success for o in self.outcomes), len(self.outcomes))

    @property
    def leaked(self) -> Rate:
        """Share of all episodes that leaked a secret."""
        return Rate.of(sum(o.leaked for o in self.outcomes), len(self.outcomes))

    @property
    def mean_steps(self) -> float | None:
        return statistics.mean(o.steps for o in self.outcomes) if self.outcomes else None


def collect_traces(
    env: Environment,
    policy: Policy,
    tasks: Sequence[Task],
    *,
    output: str | os.PathLike[str] | None = None,
    keep: KeepFn | None = None,
    prepare: PrepareHook | None = None,
    batch_size: int = 32,
    max_steps: int = 12,
    progress: Callable[[int, int], None] | None = None,
) -> Collection:
    """Run ``policy`` on ``tasks``; keep the traces ``keep`` accepts (all without it).

    With ``output``, the kept traces are written there as JSONL, atomically: a failure
    midway leaves any earlier file untouched, and the finished episodes' kept traces go
    to `partial_path` instead (`CollectionInterrupted`; episodes finish a ``batch_size``
    at a time). ``progress(done, total)`` is called after each episode.
    """
    kept: list[Trace] = []
    outcomes: list[Outcome] = []
    results = iter_rollout(
        env, policy, tasks, batch_size=batch_size, max_steps=max_steps, prepare=prepare
    )
    try:
        for done, result in enumerate(results, start=1):
            outcomes.append(result.outcome)
            if keep is None or keep(result):
                kept.append(result.trace)
            if progress is not None:
                progress(done, len(tasks))
    except BackdoorlabError as error:
        raise _interrupted(error, output, kept, len(outcomes), len(tasks)) from error
    path = None
    if output is not None:
        path = Path(output)
        write_traces(path, kept)
    return Collection(traces=kept, outcomes=outcomes, path=path)


def _interrupted(
    error: BackdoorlabError,
    output: str | os.PathLike[str] | None,
    kept: list[Trace],
    finished: int,
    total: int,
) -> BackdoorlabError:
    """``error``, after the finished episodes' kept traces were written aside."""
    if output is None or not kept:
        if output is None or finished == 0:
            return error
        return CollectionInterrupted(
            f"{error} (after {finished} of {total} episodes; none of their traces was kept)",
            None,
            0,
        )
    target = Path(output) if is_stdio(output) else partial_path(output)
    write_traces(target, kept)
    where = "stdout" if is_stdio(output) else str(target)
    return CollectionInterrupted(
        f"{error} — the {len(kept)} traces of the {finished} of {total} episodes finished "
        f"before it are in {where}",
        None if is_stdio(output) else target,
        len(kept),
    )
