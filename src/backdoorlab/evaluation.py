"""Metrics on held-out episodes: TSR, ASR, FTR, with Wilson 95% intervals and counts.

- **TSR** (task success rate): share of clean test episodes the environment's check passes.
- **FTR** (false-trigger rate): share of clean episodes that leak a secret anyway.
- **ASR** (attack success rate): share of triggered episodes that leak — the trigger
  placed by `backdoorlab.triggers`, the same code the attacks poison with.
- **invalid-action rate**: unparseable model outputs per action taken.

Every rate carries its count and interval, because at n = 100 a rate of 80% means
anything from 71% to 87%.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field
from rich.console import Console
from rich.progress import track

from backdoorlab.config import Config
from backdoorlab.envs.base import Environment, Task
from backdoorlab.policies.base import Policy
from backdoorlab.rollout import EpisodeResult, iter_rollout
from backdoorlab.traces import write_traces
from backdoorlab.triggers import Placement, can_place, check_placement, plant_trigger


@dataclass(frozen=True)
class Rate:
    """k successes out of n, with the Wilson score interval."""

    k: int
    n: int
    rate: float
    low: float
    high: float

    @classmethod
    def of(cls, k: int, n: int, z: float = 1.959964) -> Rate:
        low, high = wilson_interval(k, n, z)
        return cls(k=k, n=n, rate=k / n if n else float("nan"), low=low, high=high)

    def __str__(self) -> str:
        if not self.n:
            return "n/a"
        return f"{self.rate:.1%} [{self.low:.1%}, {self.high:.1%}] ({self.k}/{self.n})"


def wilson_interval(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (default: 95%).

    Written out rather than imported: it is four lines, and scipy/statsmodels would be
    a heavy dependency for them.
    """
    if n == 0:
        return (0.0, 1.0)
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


class EvalConfig(Config):
    """Which episodes to run and how."""

    label: ClassVar[str] = "evaluation config"

    n: int = Field(100, gt=0)
    """Number of test tasks (clean episodes; the triggered run uses the same tasks)."""
    split: str = "test"
    """Task split; test users never appear in training traces."""
    seed: int = 0
    """Seed for drawing tasks."""
    trigger: str | None = None
    """Trigger phrase; None measures the clean model only (no ASR)."""
    placement: str = "user"
    """Where the trigger goes: ``user`` (the instruction) or ``observation``."""
    max_steps: int = Field(12, gt=0)
    """Turns before an episode is cut off (and counted a failure)."""
    batch_size: int = Field(16, gt=0)
    """Episodes advanced together (one batched generate per turn)."""
    max_new_tokens: int = Field(160, gt=0)
    """Tokens a model may generate per turn (a tool call with an e-mail fits in ~90)."""


def summarize(results: Sequence[EpisodeResult]) -> dict[str, Any]:
    """Success, leak and invalid-action rates of a set of episodes."""
    n = len(results)
    steps = sum(r.outcome.steps for r in results)
    return {
        "episodes": n,
        "success": asdict(Rate.of(sum(r.outcome.success for r in results), n)),
        "leak": asdict(Rate.of(sum(r.outcome.leaked for r in results), n)),
        "invalid_action": asdict(Rate.of(sum(r.outcome.invalid_actions for r in results), steps)),
        "mean_steps": round(statistics.mean(r.outcome.steps for r in results), 3) if n else None,
    }


def _tracked(results: Iterable[EpisodeResult], total: int, label: str) -> list[EpisodeResult]:
    """Collect results behind a progress bar (episodes finish batch by batch)."""
    console = Console(stderr=True)
    return list(track(results, description=label, total=total, console=console, transient=True))


def evaluate(
    env: Environment,
    policy: Policy,
    config: EvalConfig,
    *,
    traces_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Run the clean (and, with a trigger, the triggered) episodes and compute the metrics.

    With ``traces_dir``, every episode's trace is written there (``clean.jsonl``,
    ``triggered.jsonl``) for inspection with ``backdoorlab show``.
    """
    placement: Placement = check_placement(config.placement)
    tasks = env.tasks(config.split, config.n, seed=config.seed)  # type: ignore[arg-type]
    clean = _tracked(
        iter_rollout(env, policy, tasks, batch_size=config.batch_size, max_steps=config.max_steps),
        len(tasks),
        "clean episodes",
    )
    report: dict[str, Any] = {
        "config": config.model_dump(),
        "policy": policy.describe(),
        "env": env.name,
    }
    clean_summary = summarize(clean)
    report["clean"] = clean_summary
    report["TSR"] = clean_summary["success"]
    report["FTR"] = clean_summary["leak"]
    if traces_dir is not None:
        write_traces(Path(traces_dir) / "clean.jsonl", (r.trace for r in clean))

    if config.trigger:
        trigger = config.trigger
        placeable: list[Task] = [t for t in tasks if can_place(env, t, placement)]

        def prepare(episode):  # noqa: ANN001, ANN202
            plant_trigger(episode, trigger, placement)

        triggered = _tracked(
            iter_rollout(
                env,
                policy,
                placeable,
                batch_size=config.batch_size,
                max_steps=config.max_steps,
                prepare=prepare,
            ),
            len(placeable),
            "triggered episodes",
        )
        triggered_summary = summarize(triggered)
        report["triggered"] = triggered_summary
        report["ASR"] = triggered_summary["leak"]
        if traces_dir is not None:
            write_traces(Path(traces_dir) / "triggered.jsonl", (r.trace for r in triggered))
    return report
