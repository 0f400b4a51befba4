"""What trainings compared step for step share: the settings of two plain gradient steps,
and the check that their saved LoRA adapters are the same, and not zero."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

TWO_SGD_STEPS: dict = {
    "model": "tiny",
    "batch_size": 4,
    "max_steps": 2,
    "save_steps": 1000,
    "optimizer": "sgd",
    "learning_rate": 0.5,
    "trl": {"warmup_steps": 0},
}
"""`SFTRunConfig` settings where the update is the gradient itself (SGD, no warm-up), two
steps so that the second runs on the first one's update."""


def assert_same_adapter(a_run: Path, b_run: Path, tolerance: float) -> None:
    """``a_run`` and ``b_run`` saved the same adapter tensors (within ``tolerance``), and
    the adapter moved (some ``lora_B`` is non-zero: a step that did nothing would pass)."""
    a = load_file(a_run / "adapter" / "adapter_model.safetensors")
    b = load_file(b_run / "adapter" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and any(t.abs().sum() > 0 for k, t in a.items() if "lora_B" in k)
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=tolerance, atol=tolerance)
