"""The work of the train and eval stages, at module level: `backdoorlab.experiment.isolation`
runs it in a process of its own, which pickles the function by its name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backdoorlab.faults import armed, fault_point

__all__ = ["checkpoint_fault", "eval_stage", "train_stage"]


def train_stage(config: Any, data: Path, output: Path) -> dict[str, Any]:
    """A train stage's work (module level: it may run in a process of its own)."""
    from backdoorlab.training import TRAINERS

    # a training that finished before a kill is returned as recorded, not
    # trained again (`train_sft`)
    callbacks = checkpoint_fault("train:during")
    summary = TRAINERS.get("sft")(config, data, output, callbacks=callbacks)
    return {k: summary[k] for k in ("traces", "steps", "train_loss", "seconds", "tokens_per_s")}


def eval_stage(
    env: tuple[str, int], evaluation: dict[str, Any], model: str, work: Path
) -> dict[str, Any]:
    """An eval stage's work: TSR, FTR, ASR of ``model`` in environment ``env`` (name,
    seed), its traces in ``work``."""
    from backdoorlab.envs import make_env
    from backdoorlab.evaluation import EvalConfig, evaluate
    from backdoorlab.policies import make_policy
    from backdoorlab.policies.hf import GenerationConfig

    config = EvalConfig(**evaluation)
    generation = GenerationConfig(
        max_new_tokens=config.max_new_tokens,
        max_batch_size=config.batch_size,
        lookup_tokens=config.lookup_tokens,
    )
    policy = make_policy("hf", model=model, generation=generation)
    return {"report": evaluate(make_env(env[0], seed=env[1]), policy, config, traces_dir=work)}


def checkpoint_fault(point: str) -> list[Any]:
    """A Trainer callback reaching the fault ``point`` after a checkpoint is saved
    (none unless that point is armed: the hook costs nothing otherwise)."""
    if not armed(point):
        return []
    from transformers import TrainerCallback

    class CheckpointFault(TrainerCallback):  # type: ignore[misc]
        def on_save(self, *args: Any, **kwargs: Any) -> None:
            fault_point(point)

    return [CheckpointFault()]
