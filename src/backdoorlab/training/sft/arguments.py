"""Our training config as `trl.SFTConfig` keyword arguments, over backdoorlab's defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backdoorlab.training.sft.config import SFTRunConfig


def sft_arguments(config: SFTRunConfig, output: Path, *, device: str, bf16: bool) -> dict[str, Any]:
    """The `trl.SFTConfig` keyword arguments of a run: ours, then ``config.trl`` over
    backdoorlab's defaults (the config refuses ``trl`` names that would override ours)."""
    defaults = {
        "save_strategy": "steps",
        "save_total_limit": 2,
        "include_num_input_tokens_seen": "non_padding",
        "report_to": "none",
        "dataloader_num_workers": 0,
        # TRL turns activation checkpointing on by default: it re-runs every layer's
        # forward in the backward pass (~1.5x the compute of a LoRA step) to save
        # activation memory that models of this size do not need (peak RSS 3.6 GB for
        # smollm2-135m at batch 4 on CPU, in passes of ≤ 1,024 tokens: `rows`)
        "activation_checkpointing": False,
        # transformers reads a value below 1 as a share of the steps
        "warmup_steps": config.warmup_ratio,
    }
    ours = {
        "output_dir": str(output),
        "num_train_epochs": config.epochs,
        "max_steps": config.max_steps,
        "per_device_train_batch_size": config.batch_size,
        "gradient_accumulation_steps": config.grad_accum,
        "learning_rate": config.learning_rate,
        "lr_scheduler_type": config.lr_scheduler,
        "optim": config.optimizer,
        "weight_decay": config.weight_decay,
        "max_length": config.max_length,
        "bf16": bf16,
        "use_cpu": device == "cpu",
        "save_steps": config.save_steps,
        "logging_steps": config.logging_steps,
        "seed": config.seed,
    }
    return {**defaults, **config.trl, **ours}
