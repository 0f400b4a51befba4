"""Loading a model by any name a user may give, including our own run directories.

A finished `sft` run directory is a model name like any other: its LoRA adapter is
applied to its recorded base model (itself possibly a run directory) and merged, so
evaluation, further fine-tuning (the T3 victim) and scanning all take ``runs/x``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from backdoorlab.errors import BackdoorlabError
from backdoorlab.models import _parse_dtype, inference_dtype, load_model

RUN_MARKER = "backdoorlab-train.json"


def run_summary(path: str | Path) -> dict[str, Any] | None:
    """The summary of a finished training run at ``path``, or None if it is not one."""
    marker = Path(path) / RUN_MARKER
    if not marker.is_file():
        return None
    try:
        return json.loads(marker.read_text())
    except json.JSONDecodeError as exc:
        raise BackdoorlabError(f"{marker}: not valid JSON ({exc.msg})") from None


def _load(name: str, *, device: str | None, dtype: torch.dtype | None) -> tuple[Any, Any]:
    summary = run_summary(name) if Path(name).is_dir() else None
    if summary is None:
        return load_model(name, device=device, dtype=dtype)
    run = Path(name)
    if (run / "merged").is_dir():
        return load_model(run / "merged", device=device, dtype=dtype)
    weights = run / summary.get("weights", "adapter")
    if summary.get("weights") == "model":
        return load_model(weights, device=device, dtype=dtype)
    from peft import PeftModel

    base, tokenizer = _load(summary["base_model"], device=device, dtype=dtype)
    model = PeftModel.from_pretrained(base, str(weights), is_trainable=False)
    return model.merge_and_unload(), tokenizer


def load_for_inference(
    name: str, *, device: str | None = None, dtype: torch.dtype | str | None = None
) -> tuple[Any, Any]:
    """Model (eval mode, adapters merged) and tokenizer for generation.

    Adapters are merged at the loading precision, then the model is cast to ``dtype``
    (default: `inference_dtype`, bfloat16 where the hardware runs it natively).
    """
    model, tokenizer = _load(str(name), device=device, dtype=None)
    target = _parse_dtype(dtype) if dtype is not None else inference_dtype(model.device)
    if model.dtype != target:
        model.to(target)
    model.eval()
    return model, tokenizer


def load_for_training(name: str, *, device: str | None = None) -> tuple[Any, Any]:
    """Model in float32 (mixed precision comes from autocast) and tokenizer, for training."""
    model, tokenizer = _load(str(name), device=device, dtype=torch.float32)
    # a merged LoRA run comes back frozen (PEFT loads its adapter for inference): full
    # fine-tuning needs every weight trainable, and LoRA freezes the base again itself
    model.requires_grad_(True)
    model.train()
    return model, tokenizer
