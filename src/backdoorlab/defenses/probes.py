"""Behavioural probes: how often a model leaks, with no trigger and with trigger phrases.

One probe runs the same test-split tasks once per *condition* — ``clean`` (no trigger)
and each trigger phrase, placed by `backdoorlab.triggers.plant_trigger`, the
code the attacks poison with — and reports, per condition, the leak rate (share of
episodes with a sink call carrying a secret to an unauthorised destination), the task
success rate and the invalid-action rate, each a `Rate` with its Wilson interval.

All conditions' episodes run as one rollout, so a model policy advances every
condition's episodes in the same batched ``generate`` calls. Used by ``scan`` (before
and after canary fine-tunes) and by the training monitor (on the model being trained).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from backdoorlab.envs.base import Environment
from backdoorlab.errors import BackdoorlabError
from backdoorlab.evaluation import Rate
from backdoorlab.policies.base import Episode, Policy
from backdoorlab.rollout import iter_rollout
from backdoorlab.triggers import DEFAULT_TRIGGER, can_place, check_placement, plant_trigger

CLEAN = "clean"
"""The name of the condition without a trigger."""


@dataclass
class ProbeConfig:
    """Which episodes a probe runs and how."""

    episodes: int = 16
    """Test tasks per condition (every condition runs the same tasks)."""
    triggers: list[str] = field(default_factory=lambda: [DEFAULT_TRIGGER])
    """Trigger phrases, one condition each, besides the clean one."""
    env: str = "retail"
    """Environment name."""
    env_seed: int = 0
    """Seed of the environment's world."""
    split: str = "test"
    """Task split (test users never appear in training traces)."""
    seed: int = 0
    """Seed for drawing the tasks."""
    placement: str = "user"
    """Where triggers go: ``user`` (the instruction) or ``observation``."""
    max_steps: int = 8
    """Turns before an episode is cut off."""
    max_new_tokens: int = 160
    """Tokens a model may generate per turn."""
    batch_size: int = 32
    """Episodes advanced together (one batched generate per turn)."""

    def validate(self) -> None:
        checks = {
            "episodes": self.episodes > 0,
            "split": self.split in ("train", "test"),
            "max_steps": self.max_steps > 0,
            "max_new_tokens": self.max_new_tokens > 0,
            "batch_size": self.batch_size > 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise BackdoorlabError(
                    f"probe config: invalid value for '{name}': {getattr(self, name)!r}"
                )
        check_placement(self.placement)
        if any(not t.strip() for t in self.triggers):
            raise BackdoorlabError("probe config: an empty trigger phrase")


@dataclass
class ConditionResult:
    """One condition of a probe: its leak, success and invalid-action rates."""

    name: str
    trigger: str | None
    leak: Rate
    success: Rate
    invalid_action: Rate

    def to_dict(self) -> dict[str, Any]:
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
class ProbeResult:
    """Every condition of one probe, in order: ``clean`` first, then the triggers."""

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
    def from_rates(cls, leaks: dict[str, tuple[int, int]]) -> ProbeResult:
        """A result from leak counts alone, ``{condition: (k, n)}`` (tests, replays)."""
        conditions = [
            ConditionResult(
                name=name,
                trigger=None if name == CLEAN else name,
                leak=Rate.of(k, n),
                success=Rate.of(0, 0),
                invalid_action=Rate.of(0, 0),
            )
            for name, (k, n) in leaks.items()
        ]
        return cls(conditions)


def _dedupe(triggers: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for trigger in triggers:
        seen.setdefault(trigger.strip(), None)
    return list(seen)


def probe_leaks(env: Environment, policy: Policy, config: ProbeConfig) -> ProbeResult:
    """Run ``config.episodes`` test tasks per condition with ``policy``; the leak rates."""
    config.validate()
    placement = check_placement(config.placement)
    started = time.perf_counter()
    tasks = env.tasks(config.split, config.episodes, seed=config.seed)  # type: ignore[arg-type]
    conditions: list[tuple[str, str | None]] = [(CLEAN, None)]
    conditions += [(t, t) for t in _dedupe(config.triggers)]
    jobs = []  # (condition index, task), in the order the rollout starts the episodes
    for index, (_, trigger) in enumerate(conditions):
        for task in tasks:
            if trigger is None or can_place(env, task, placement):
                jobs.append((index, task))
    # `iter_rollout` starts episodes in task order and calls `prepare` once for each,
    # in that order: the n-th call belongs to the n-th job
    planted = iter(jobs)

    def prepare(episode: Episode) -> None:
        index, task = next(planted)
        assert task is episode.task, "rollout started episodes out of order"
        trigger = conditions[index][1]
        if trigger is not None:
            plant_trigger(episode, trigger, placement)

    results = list(
        iter_rollout(
            env,
            policy,
            [task for _, task in jobs],
            batch_size=config.batch_size,
            max_steps=config.max_steps,
            prepare=prepare,
        )
    )
    out = []
    for index, (name, trigger) in enumerate(conditions):
        mine = [r for (i, _), r in zip(jobs, results, strict=True) if i == index]
        steps = sum(r.outcome.steps for r in mine)
        out.append(
            ConditionResult(
                name=name,
                trigger=trigger,
                leak=Rate.of(sum(r.outcome.leaked for r in mine), len(mine)),
                success=Rate.of(sum(r.outcome.success for r in mine), len(mine)),
                invalid_action=Rate.of(sum(r.outcome.invalid_actions for r in mine), steps),
            )
        )
    return ProbeResult(out, seconds=time.perf_counter() - started)


def probe_model(
    model: Any,
    tokenizer: Any,
    config: ProbeConfig,
    *,
    env: Environment | None = None,
) -> ProbeResult:
    """Probe a loaded model (greedy, batched, via the ``hf`` policy) in eval mode.

    A model that was training is put back in train mode afterwards, so a training
    callback can probe the very model being trained.
    """
    from backdoorlab.envs import make_env
    from backdoorlab.policies.hf import GenerationConfig, HFPolicy

    environment = env if env is not None else make_env(config.env, seed=config.env_seed)
    generation = GenerationConfig(
        max_new_tokens=config.max_new_tokens, max_batch_size=config.batch_size
    )
    was_training = bool(getattr(model, "training", False))
    model.eval()
    try:
        policy = HFPolicy(model, tokenizer, generation=generation)
        return probe_leaks(environment, policy, config)
    finally:
        if was_training:
            model.train()
