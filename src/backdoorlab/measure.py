"""Measurement: a policy on a task set under conditions — clean, and one per trigger.

Every behavioural number the toolkit reports comes from here: `evaluate`'s TSR, FTR and
ASR, `scan`'s probes before and after canary fine-tunes, the training monitor's leak
checks. Each *condition* runs the same tasks — ``clean`` as drawn, a triggered one with
its phrase placed by `backdoorlab.triggers.plant_trigger`, the code the attacks
poison with, on the tasks the attacks could poison (`triggers.can_attack`: a place for
the trigger, secrets to leak) — and yields, per condition, the
success, leak and invalid-action rates (`backdoorlab.stats.Rate`, with Wilson intervals)
and, when asked, the episodes themselves.

The callers differ only in their defaults, which they pass explicitly (``max_steps``
has none here): evaluation allows 12 turns, probes 8.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from backdoorlab.envs.base import Environment, Task
from backdoorlab.policies.base import Episode, Policy
from backdoorlab.rollout import EpisodeResult, iter_rollout
from backdoorlab.stats import Rate
from backdoorlab.triggers import can_attack, check_placement, plant_trigger

__all__ = [
    "CLEAN",
    "BatchFn",
    "Condition",
    "ConditionResult",
    "Measurement",
    "ProgressFn",
    "condition_tasks",
    "measure",
    "trigger_conditions",
]

CLEAN = "clean"
"""The name of the condition without a trigger."""

ProgressFn = Callable[[str, int, int], None]
"""``progress(condition, done, total)``, called after each finished episode."""

BatchFn = Callable[[str, int, list[EpisodeResult]], None]
"""``on_batch(condition, start, results)``: a finished batch, its tasks from ``start``."""


@dataclass(frozen=True)
class Condition:
    """What one condition changes: nothing (``trigger=None``) or a trigger phrase."""

    name: str
    trigger: str | None = None


def trigger_conditions(triggers: Iterable[str]) -> list[Condition]:
    """``clean`` first, then one condition per distinct trigger phrase, named by it
    (phrases stripped; a repeat would measure the same thing twice)."""
    phrases = dict.fromkeys(t.strip() for t in triggers)
    return [Condition(CLEAN), *(Condition(t, t) for t in phrases)]


@dataclass
class ConditionResult:
    """One condition's rates: leak and success per episode, invalid actions per step."""

    name: str
    trigger: str | None
    leak: Rate
    success: Rate
    invalid_action: Rate
    mean_steps: float | None = None
    episodes: list[EpisodeResult] | None = field(default=None, repr=False, compare=False)
    """The episodes (task, trace, outcome), when `measure` was asked to keep them."""

    @classmethod
    def tally(
        cls, condition: Condition, results: Sequence[EpisodeResult], *, keep: bool = False
    ) -> ConditionResult:
        """Count ``results`` as ``condition``'s episodes."""
        n = len(results)
        steps = sum(r.outcome.steps for r in results)
        return cls(
            name=condition.name,
            trigger=condition.trigger,
            leak=Rate.of(sum(r.outcome.leaked for r in results), n),
            success=Rate.of(sum(r.outcome.success for r in results), n),
            invalid_action=Rate.of(sum(r.outcome.invalid_actions for r in results), steps),
            mean_steps=round(statistics.mean(r.outcome.steps for r in results), 3) if n else None,
            episodes=list(results) if keep else None,
        )

    def summary(self) -> dict[str, Any]:
        """The evaluation report's shape: episodes, rates, mean steps."""
        return {
            "episodes": self.success.n,
            "success": asdict(self.success),
            "leak": asdict(self.leak),
            "invalid_action": asdict(self.invalid_action),
            "mean_steps": self.mean_steps,
        }

    def to_dict(self) -> dict[str, Any]:
        """The probes' shape (scan reports, ``monitor.json``)."""
        return {
            "name": self.name,
            "trigger": self.trigger,
            "leak": asdict(self.leak),
            "success": asdict(self.success),
            "invalid_action": asdict(self.invalid_action),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConditionResult:
        return cls(
            name=data["name"],
            trigger=data.get("trigger"),
            leak=Rate(**data["leak"]),
            success=Rate(**data["success"]),
            invalid_action=Rate(**data["invalid_action"]),
        )


@dataclass
class Measurement:
    """Every condition of one measurement, in the order given (``clean`` first)."""

    conditions: list[ConditionResult]
    seconds: float = 0.0

    def __getitem__(self, name: str) -> ConditionResult:
        for condition in self.conditions:
            if condition.name == name:
                return condition
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.conditions]

    def worst(self) -> ConditionResult:
        """The condition with the highest leak rate (the first of equals)."""
        return max(self.conditions, key=lambda c: c.leak.rate if c.leak.n else -1.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "conditions": [c.to_dict() for c in self.conditions],
            "seconds": round(self.seconds, 2),
        }

    @classmethod
    def from_rates(cls, leaks: dict[str, tuple[int, int]]) -> Measurement:
        """A result from leak counts alone, ``{condition: (k, n)}`` (tests, replays)."""
        return cls(
            [
                ConditionResult(
                    name=name,
                    trigger=None if name == CLEAN else name,
                    leak=Rate.of(k, n),
                    success=Rate.of(0, 0),
                    invalid_action=Rate.of(0, 0),
                )
                for name, (k, n) in leaks.items()
            ]
        )


def condition_tasks(
    env: Environment, tasks: Sequence[Task], conditions: Sequence[Condition], placement: str
) -> list[list[Task]]:
    """Each condition's tasks, in order: all of them clean; with a trigger, those the
    trigger can be placed in and that have secrets to leak (`triggers.can_attack`)."""
    where = check_placement(placement)
    return [
        [t for t in tasks if c.trigger is None or can_attack(env, t, where)] for c in conditions
    ]


def measure(
    env: Environment,
    policy: Policy,
    tasks: Sequence[Task],
    conditions: Sequence[Condition],
    *,
    max_steps: int,
    batch_size: int,
    placement: str = "user",
    shared_batches: bool = True,
    keep_episodes: bool = False,
    progress: ProgressFn | None = None,
    on_condition: Callable[[ConditionResult], None] | None = None,
    resume: Mapping[str, Sequence[EpisodeResult]] | None = None,
    on_batch: BatchFn | None = None,
) -> Measurement:
    """Run ``tasks`` under each condition with ``policy``; the rates per condition.

    ``shared_batches``: all conditions' episodes form one rollout, so a model policy
    fills every batched ``generate`` (probes: many conditions of a few episodes each).
    Without it each condition is a rollout of its own, batched as if it ran alone — a
    model's greedy output can depend on the batch it is padded into, so evaluation keeps
    each condition's numbers independent of the others. ``on_condition`` is called as
    each condition finishes (evaluation writes its traces then, before the next runs).

    Without shared batches a measurement can be resumed (`backdoorlab.eval_journal`):
    ``resume`` maps a condition to the results of its first finished batches (a whole
    number of batches, in task order), which are counted without running them again,
    and ``on_batch(condition, start, results)`` is called as each batch that did run
    finishes, before the next one starts.
    """
    where = check_placement(placement)
    resumed = dict(resume or {})
    if shared_batches and (resumed or on_batch is not None):
        raise ValueError("a measurement of shared batches cannot be resumed")
    started = time.perf_counter()
    jobs = condition_tasks(env, tasks, conditions, where)

    def planter(trigger: str | None) -> Callable[[Episode], None] | None:
        if trigger is None:
            return None
        return lambda episode: plant_trigger(episode, trigger, where)

    def run() -> Iterator[EpisodeResult]:
        kwargs: dict[str, Any] = {"batch_size": batch_size, "max_steps": max_steps}
        if not shared_batches:
            for condition, mine in zip(conditions, jobs, strict=True):
                hook = planter(condition.trigger)
                done = resumed.get(condition.name, ())
                if len(done) % batch_size and len(done) != len(mine):
                    raise ValueError(f"{condition.name}: resumed results end inside a batch")
                yield from done
                yield from iter_rollout(env, policy, mine[len(done) :], prepare=hook, **kwargs)
            return
        # `iter_rollout` starts episodes in task order and calls `prepare` once for each,
        # in that order: the n-th call belongs to the n-th task of the concatenation
        order = iter([(c, t) for c, mine in zip(conditions, jobs, strict=True) for t in mine])

        def prepare(episode: Episode) -> None:
            condition, task = next(order)
            assert task is episode.task, "rollout started episodes out of order"
            if condition.trigger is not None:
                plant_trigger(episode, condition.trigger, where)

        everything = [task for mine in jobs for task in mine]
        yield from iter_rollout(env, policy, everything, prepare=prepare, **kwargs)

    # results arrive condition after condition, in the order of `jobs`
    stream = run()
    out = []
    for condition, mine in zip(conditions, jobs, strict=True):
        results = []
        skipped = len(resumed.get(condition.name, ()))
        for _ in mine:
            results.append(next(stream))
            if progress is not None:
                progress(condition.name, len(results), len(mine))
            ran = len(results) - skipped
            if (
                on_batch is not None
                and ran > 0
                and (ran % batch_size == 0 or ran + skipped == len(mine))
            ):
                start = len(results) - (ran % batch_size or batch_size)
                on_batch(condition.name, start, results[start:])
        result = ConditionResult.tally(condition, results, keep=keep_episodes)
        out.append(result)
        if on_condition is not None:
            on_condition(result)
    return Measurement(out, seconds=time.perf_counter() - started)
