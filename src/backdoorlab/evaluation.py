"""The evaluation report: TSR, ASR and FTR of a policy on held-out episodes.

- **TSR** (task success rate): share of clean test episodes the environment's check passes.
- **FTR** (false-trigger rate): share of clean episodes that leak a secret anyway.
- **ASR** (attack success rate): share of triggered episodes that leak — the trigger
  placed by `backdoorlab.triggers`, the same code the attacks poison with.
- **invalid-action rate**: unparseable model outputs per action taken.

The episodes run through `backdoorlab.measure` (two conditions, ``clean`` and
``triggered``); this module names the metrics and writes the report the ``eval`` command
and the experiment runner's eval stage publish.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field
from rich.console import Console
from rich.progress import Progress

from backdoorlab.bounds import MAX_BATCH, MAX_LOOKUP, MAX_TASKS, MAX_TOKENS, MAX_TURNS, Phrase, Seed
from backdoorlab.config import Config
from backdoorlab.envs.base import Environment, Split
from backdoorlab.eval_journal import EvalJournal, Sidecar
from backdoorlab.measure import (
    CLEAN,
    Condition,
    ConditionResult,
    ProgressFn,
    condition_tasks,
    measure,
)
from backdoorlab.policies.base import Policy
from backdoorlab.rollout import EpisodeResult
from backdoorlab.traces import write_traces
from backdoorlab.triggers import PlacementSetting

TRIGGERED = "triggered"
"""The name of the condition with the trigger (its traces: ``triggered.jsonl``)."""


class EvalConfig(Config):
    """Which episodes to run and how."""

    label: ClassVar[str] = "evaluation config"

    n: int = Field(100, gt=0, le=MAX_TASKS)
    """Number of test tasks (clean episodes; the triggered run uses the same tasks)."""
    split: Split = "test"
    """Task split; test users never appear in training traces."""
    seed: Seed = 0
    """Seed for drawing tasks."""
    trigger: Phrase | None = None
    """Trigger phrase; None measures the clean model only (no ASR)."""
    placement: PlacementSetting = "user"
    """Where the trigger goes: ``user`` (the instruction) or ``observation``."""
    max_steps: int = Field(12, gt=0, le=MAX_TURNS)
    """Turns before an episode is cut off (and counted a failure)."""
    batch_size: int = Field(16, gt=0, le=MAX_BATCH)
    """Episodes advanced together (one batched generate per turn)."""
    max_new_tokens: int = Field(160, gt=0, le=MAX_TOKENS)
    """Tokens a model may generate per turn (a tool call with an e-mail fits in ~90)."""
    lookup_tokens: int = Field(4, ge=0, le=MAX_LOOKUP)
    """A local model's greedy decoding: tokens drafted per step from the episode's own
    context and checked in the same forward pass (`policies.lookup`); 0: one token a
    step (the same tokens up to rounding, slower)."""


@contextmanager
def _progress_bars() -> Iterator[ProgressFn]:
    """One transient bar per condition on stderr (episodes finish batch by batch)."""
    with Progress(console=Console(stderr=True), transient=True) as bars:
        ids: dict[str, Any] = {}

        def advance(name: str, done: int, total: int) -> None:
            if name not in ids:
                ids[name] = bars.add_task(f"{name} episodes", total=total)
            bars.update(ids[name], completed=done)

        yield advance


def evaluation_key(
    config: EvalConfig,
    env: Environment,
    extra: dict[str, Any] | None = None,
    policy: Policy | None = None,
) -> dict[str, Any]:
    """What makes two runs the same evaluation, to its journal (`backdoorlab.eval_journal`):
    the config, the environment, the caller's ``extra`` and the policy. Without
    ``policy``, the part known before it is built (`eval_journal.check_known_key`)."""
    key = {
        "config": config.model_dump(),
        "env": env.name,
        "env_seed": getattr(env, "seed", None),
        **(extra or {}),
    }
    if policy is not None:
        key["policy"] = policy.describe()
    return key


def evaluate(
    env: Environment,
    policy: Policy,
    config: EvalConfig,
    *,
    traces_dir: str | Path | None = None,
    journal_key: dict[str, Any] | None = None,
    sidecar: Sidecar | None = None,
) -> dict[str, Any]:
    """Run the clean (and, with a trigger, the triggered) episodes and compute the metrics.

    With ``traces_dir``, every episode's trace is written there (``clean.jsonl``,
    ``triggered.jsonl``) for inspection with ``backdoorlab show``, and each finished
    batch is journaled there first (`backdoorlab.eval_journal`): run again after an
    interruption, the evaluation resumes at the first batch it had not finished.
    ``journal_key`` adds to what makes two runs the same evaluation (the config, the
    policy, the environment); ``sidecar`` is what the caller keeps with each batch.
    """
    tasks = env.tasks(config.split, config.n, seed=config.seed)  # type: ignore[arg-type]
    conditions = [Condition(CLEAN)]
    if config.trigger:
        conditions.append(Condition(TRIGGERED, config.trigger))
    jobs = condition_tasks(env, tasks, conditions, config.placement)  # a bad placement: here
    journal, resume, on_batch = None, {}, None
    if traces_dir is not None:
        key = evaluation_key(config, env, journal_key, policy)
        journal = EvalJournal.open(traces_dir, key)  # before any episode: a mismatch is one line
        named = [(c.name, mine) for c, mine in zip(conditions, jobs, strict=True)]
        try:
            resume, restored = journal.read_back(named, config.batch_size)
        except BaseException:  # a broken batch: one line, the directory unlocked
            journal.close()
            raise
        if sidecar is not None:
            sidecar.restored = restored

        def on_batch(
            name: str, start: int, results: list[EpisodeResult], to: EvalJournal = journal
        ) -> None:
            to.record(name, start, results, sidecar.take() if sidecar is not None else [])

    def write(result: ConditionResult) -> None:
        if traces_dir is not None and result.episodes is not None:
            path = Path(traces_dir) / f"{result.name}.jsonl"
            write_traces(path, (r.trace for r in result.episodes))

    report: dict[str, Any] = {
        "config": config.model_dump(),
        "policy": policy.describe(),
        "env": env.name,
    }
    try:
        with _progress_bars() as progress:
            measured = measure(
                env,
                policy,
                tasks,
                conditions,
                placement=config.placement,
                max_steps=config.max_steps,
                batch_size=config.batch_size,
                shared_batches=False,  # a condition's numbers must not depend on the others
                keep_episodes=traces_dir is not None,
                progress=progress,
                on_condition=write,
                resume=resume,
                on_batch=on_batch,
            )
        if journal is not None:  # every trace is written: the batches are no longer needed
            journal.remove()
    finally:  # an interrupted run leaves its journal, unlocked
        if journal is not None:
            journal.close()
    clean = measured[CLEAN].summary()
    report["clean"] = clean
    report["TSR"] = clean["success"]
    report["FTR"] = clean["leak"]
    if config.trigger:
        triggered = measured[TRIGGERED].summary()
        report["triggered"] = triggered
        report["ASR"] = triggered["leak"]
    return report
