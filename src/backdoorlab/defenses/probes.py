"""Behavioural probes: how often a model leaks, with no trigger and with trigger phrases.

A probe is a `backdoorlab.measure` measurement with the probes' own defaults: a few
test-split tasks per condition — ``clean`` and each trigger phrase — with short
episodes (8 turns), every condition's episodes in one rollout so a model policy
advances them all in the same batched ``generate`` calls. Per condition it reports
the leak rate (share of episodes with a sink call carrying a secret to an unauthorised
destination), the task success rate and the invalid-action rate, each a `Rate` with
its Wilson interval. Used by ``scan`` (before and after canary fine-tunes) and by the
training monitor (on the model being trained).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from backdoorlab.bounds import MAX_BATCH, MAX_TASKS, MAX_TOKENS, MAX_TURNS, Seed
from backdoorlab.config import Config
from backdoorlab.envs.base import Environment, EnvironmentName
from backdoorlab.measure import CLEAN, ConditionResult, Measurement, measure, trigger_conditions
from backdoorlab.policies.base import Policy
from backdoorlab.triggers import DEFAULT_TRIGGER, PlacementSetting

__all__ = [
    "CLEAN",
    "ConditionResult",
    "ProbeConfig",
    "ProbeResult",
    "probe_leaks",
    "probe_model",
]

ProbeResult = Measurement
"""Every condition of one probe, in order: ``clean`` first, then the triggers."""


class ProbeConfig(Config):
    """Which episodes a probe runs and how."""

    label: ClassVar[str] = "probe config"

    episodes: int = Field(16, gt=0, le=MAX_TASKS)
    """Test tasks per condition (every condition runs the same tasks)."""
    triggers: list[str] = Field(default_factory=lambda: [DEFAULT_TRIGGER])
    """Trigger phrases, one condition each, besides the clean one."""
    env: EnvironmentName = "retail"
    """Environment name."""
    env_seed: Seed = 0
    """Seed of the environment's world."""
    split: Literal["train", "test"] = "test"
    """Task split (test users never appear in training traces)."""
    seed: Seed = 0
    """Seed for drawing the tasks."""
    placement: PlacementSetting = "user"
    """Where triggers go: ``user`` (the instruction) or ``observation``."""
    max_steps: int = Field(8, gt=0, le=MAX_TURNS)
    """Turns before an episode is cut off."""
    max_new_tokens: int = Field(160, gt=0, le=MAX_TOKENS)
    """Tokens a model may generate per turn."""
    batch_size: int = Field(32, gt=0, le=MAX_BATCH)
    """Episodes advanced together (one batched generate per turn)."""

    @field_validator("triggers")
    @classmethod
    def _no_empty_trigger(cls, value: list[str]) -> list[str]:
        if any(not t.strip() for t in value):
            raise ValueError("an empty trigger phrase")
        return value


def probe_leaks(env: Environment, policy: Policy, config: ProbeConfig) -> ProbeResult:
    """Run ``config.episodes`` test tasks per condition with ``policy``; the leak rates."""
    tasks = env.tasks(config.split, config.episodes, seed=config.seed)
    return measure(
        env,
        policy,
        tasks,
        trigger_conditions(config.triggers),
        placement=config.placement,
        max_steps=config.max_steps,
        batch_size=config.batch_size,
        shared_batches=True,
    )


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
