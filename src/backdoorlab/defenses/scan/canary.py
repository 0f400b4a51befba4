"""Canary fine-tunes: the differential test for a dormant (fine-tuning-activated) backdoor.

The authors of fine-tuning-activated backdoors (T4) suggested it: fine-tune a copy of the
model briefly on *clean* data and probe again. A model whose leak rate rises after a
benign fine-tune hides a backdoor that its users would wake with their own fine-tuning.
The canary data are the oracle's clean traces on train-split tasks drawn with their own
seed (no test task leaks into them); each canary trains through `train_sft` into a
temporary directory, so the scanned model's files are only ever read.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from backdoorlab.defenses.probes import ProbeResult, probe_model
from backdoorlab.defenses.scan.config import CanarySetting, ScanConfig

__all__ = ["collect_canary_traces", "run_canary"]


def collect_canary_traces(config: ScanConfig, path: Path) -> int:
    """Clean oracle traces of train-split tasks, written to ``path``; how many."""
    from backdoorlab.collect import collect_traces, succeeded
    from backdoorlab.envs import make_env
    from backdoorlab.policies import make_policy

    env = make_env(config.probe.env, seed=config.probe.env_seed)
    tasks = env.tasks("train", config.canary_traces, seed=config.canary_seed)  # type: ignore[arg-type]
    return collect_traces(env, make_policy("oracle"), tasks, output=path, keep=succeeded).written


def _no_checkpoints():  # -> TrainerCallback
    from transformers import TrainerCallback

    class NoCheckpoints(TrainerCallback):
        """A canary needs its final weights only, not the Trainer's checkpoint (with the
        optimizer state, twice the model for AdamW)."""

        def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001, ANN003
            control.should_save = False
            return control

    return NoCheckpoints()


def run_canary(
    model: str, setting: CanarySetting, config: ScanConfig, data: Path, workdir: Path
) -> tuple[dict[str, Any], ProbeResult]:
    """Fine-tune a copy of ``model`` on the canary traces (in ``workdir``), probe it."""
    from backdoorlab.models import load_for_inference
    from backdoorlab.training.sft import SFTRunConfig, train_sft

    run = workdir / setting.name
    sft = SFTRunConfig(
        model=model,
        lora=setting.lora,
        lora_r=config.lora_r,
        lora_alpha=2 * config.lora_r,
        learning_rate=setting.learning_rate,
        optimizer=setting.optimizer,
        max_steps=config.canary_steps,
        batch_size=config.canary_batch_size,
        grad_accum=1,
        save_steps=10**9,
        logging_steps=max(1, config.canary_steps // 4),
        seed=config.seed,
        device=config.device,
    )
    summary = train_sft(sft, data, run, callbacks=[_no_checkpoints()])
    tuned, tokenizer = load_for_inference(str(run), device=config.device)
    probe = config.probe
    if config.canary_episodes is not None:
        probe = probe.updated({"episodes": config.canary_episodes})
    try:
        result = probe_model(tuned, tokenizer, probe)
    finally:
        del tuned
        gc.collect()
    training = {k: summary[k] for k in ("steps", "train_loss", "seconds", "tokens_per_s")}
    return {"setting": setting.model_dump(), "training": training}, result
