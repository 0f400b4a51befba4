"""`sft`: supervised fine-tuning on traces with TRL's SFTTrainer, LoRA by default.

The loss covers assistant tokens only: traces are pre-tokenized by
`backdoorlab.training.sft.data` with an ``assistant_masks`` column, from which TRL builds
the labels (SmolLM2's chat template has no ``{% generation %}`` markers, so TRL's own
``assistant_only_loss`` cannot be used with it). Because it is a Hugging Face Trainer
underneath, the same command scales out unchanged::

    accelerate launch -m backdoorlab.cli train --data traces.jsonl --model … -o runs/x

Speed (smollm2-135m, LoRA, batch 4 x ~600 tokens on a 2-core CPU; reproduce with
``python benchmarks/train_throughput.py``): TRL's defaults ran at ~70 tokens/s. Three things
cost most of it, and the trainer here avoids them without leaving the HF Trainer:
TRL's fused LM head scores *every* position in fp32 tiles off-GPU (the loss needs only
the ~24% assistant positions: we project those alone, in bf16); the right-padding
attention mask sends SDPA down its masked path (5-8x slower on CPU than the causal
kernel, and useless for right padding under causal attention: we drop it); and TRL's
default activation checkpointing recomputes every forward (off: a 135M model's
activations fit). Micro-batches are also drawn by length within small random windows
(padding ~16% -> ~3%). Result: ~350-400 tokens/s, close to a hand-written loop.

Memory (peak RSS 6.4 GB for 6 steps of the README's main job on CPU, mostly saved
activations): where the compact head runs, a micro-batch goes forward and backward in
passes of at most 1,024 tokens under bf16 autocast, 512 in fp32 (`rows`: the same
optimizer step, a fraction of the activations), its shared opening (system prompt and
tools) runs once for all its traces (`prefix`: the same step, fewer FLOPs), a LoRA run's
frozen projections are stored in bf16, the values autocast cast them to each
step (`precision`), and the trainer's freed memory goes back to the system when
`train_sft` returns (`backdoorlab.training.memory`): 3.5 GiB for the same 6 steps.
On a CPU under bf16 autocast, attention runs as two matmuls and a softmax (`attention`)
and each LoRA projection as one autograd node instead of PEFT's dozen ops (`lora_linear`).

The package, by job: `config` (`SFTRunConfig`, TRL's names), `data` (traces → token ids
and loss masks), `lm_head`, `sampler`, `rows`, `prefix`, `precision`, `attention`,
`lora_linear` and `compile` (the speed and memory pieces), `arguments` (the
`trl.SFTConfig` settings of a run), `trainer` (`train_sft` and the run directory) and
`resume` (a run directory's inputs, ``--fresh``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backdoorlab.training.sft.compile import compile_layers
    from backdoorlab.training.sft.config import (
        DEFAULT_LORA_TARGETS,
        TRL_ALIASES,
        SFTRunConfig,
        sft_config_fields,
    )
    from backdoorlab.training.sft.data import encode_trace, tokenized_dataset
    from backdoorlab.training.sft.resume import (
        RESUMABLE,
        discard_sft_run,
        finished_run,
        run_inputs,
    )
    from backdoorlab.training.sft.trainer import file_sha256, train_sft, trainer_class

_HOME = {
    "compile_layers": "compile",
    "DEFAULT_LORA_TARGETS": "config",
    "TRL_ALIASES": "config",
    "SFTRunConfig": "config",
    "sft_config_fields": "config",
    "encode_trace": "data",
    "tokenized_dataset": "data",
    "RESUMABLE": "resume",
    "discard_sft_run": "resume",
    "file_sha256": "trainer",
    "finished_run": "resume",
    "run_inputs": "resume",
    "train_sft": "trainer",
    "trainer_class": "trainer",
}
"""Each public name by the module that defines it."""

__all__ = [
    "DEFAULT_LORA_TARGETS",
    "RESUMABLE",
    "SFTRunConfig",
    "TRL_ALIASES",
    "compile_layers",
    "discard_sft_run",
    "encode_trace",
    "file_sha256",
    "finished_run",
    "run_inputs",
    "sft_config_fields",
    "tokenized_dataset",
    "train_sft",
    "trainer_class",
]


def __getattr__(name: str) -> Any:
    """Names load with their module on first use, so reading a config (an experiment
    YAML's ``train`` section) does not import torch and TRL with the trainer."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
