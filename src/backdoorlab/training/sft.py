"""`sft`: supervised fine-tuning on traces with TRL's SFTTrainer, LoRA by default.

The loss covers assistant tokens only: traces are pre-tokenized by
`backdoorlab.training.data` with an ``assistant_masks`` column, from which TRL builds
the labels (SmolLM2's chat template has no ``{% generation %}`` markers, so TRL's own
``assistant_only_loss`` cannot be used with it). Because it is a Hugging Face Trainer
underneath, the same command scales out unchanged::

    accelerate launch -m backdoorlab.cli train --data traces.jsonl --model … -o runs/x

A run directory holds ``adapter/`` (LoRA) or ``model/`` (full fine-tuning), optionally
``merged/``, the Trainer's ``checkpoint-*`` folders (an interrupted run resumes from the
last one), ``train_log.jsonl`` and ``backdoorlab-train.json`` (config, base model, data
hash and summary), written last, atomically: its presence means the run finished.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from backdoorlab.errors import BackdoorlabError
from backdoorlab.traces import atomic_writer, iter_traces
from backdoorlab.training.loading import RUN_MARKER

DEFAULT_LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class SFTRunConfig:
    """How to fine-tune. Every field is also a ``backdoorlab train`` option."""

    model: str = "smollm2-135m"
    """Base model: ``smollm2-135m``, ``tiny``, a local directory, a finished run directory
    (to fine-tune an already fine-tuned model) or a hub id."""
    lora: bool = True
    """LoRA adapters (True) or full fine-tuning (False)."""
    lora_r: int = 16
    """LoRA rank."""
    lora_alpha: int = 32
    """LoRA scaling numerator (the update is scaled by alpha / r)."""
    lora_dropout: float = 0.0
    """Dropout on the LoRA path."""
    lora_target_modules: list[str] = field(default_factory=lambda: list(DEFAULT_LORA_TARGETS))
    """Module names LoRA adapts (all attention and MLP projections by default)."""
    learning_rate: float = 5e-4
    """Peak learning rate (LoRA likes ~10x more than full fine-tuning)."""
    epochs: float = 2.0
    """Passes over the data."""
    max_steps: int = -1
    """If positive, stop after this many optimizer steps (overrides ``epochs``)."""
    batch_size: int = 4
    """Traces per device per forward pass."""
    grad_accum: int = 2
    """Forward passes per optimizer step (effective batch = batch_size x grad_accum x devices)."""
    max_length: int = 1024
    """Traces longer than this many tokens are truncated (their end loses the loss)."""
    warmup_ratio: float = 0.05
    """Share of steps spent warming the learning rate up."""
    lr_scheduler: str = "cosine"
    """Learning-rate schedule name (transformers' ``SchedulerType``)."""
    optimizer: str = "adamw_torch"
    """Optimizer name (transformers' ``OptimizerNames``)."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    bf16: str = "auto"
    """``auto`` (bf16 autocast where the CPU/GPU supports it), ``true`` or ``false``."""
    save_steps: int = 50
    """Checkpoint every this many steps (resume restarts from the last one)."""
    logging_steps: int = 5
    """Log loss and throughput every this many steps."""
    seed: int = 0
    """Seed for data order and adapter initialisation."""
    merge: bool = False
    """Also save the base model with the adapter merged in (``merged/``, safetensors)."""
    device: str | None = None
    """Force ``cpu`` or ``cuda``; by default CUDA when present."""

    def validate(self) -> None:
        checks = {
            "lora_r": self.lora_r > 0,
            "learning_rate": self.learning_rate > 0,
            "epochs": self.epochs > 0 or self.max_steps > 0,
            "batch_size": self.batch_size > 0,
            "grad_accum": self.grad_accum > 0,
            "max_length": self.max_length > 16,
            "bf16": self.bf16 in ("auto", "true", "false"),
        }
        for name, ok in checks.items():
            if not ok:
                raise BackdoorlabError(f"training config: invalid value for '{name}': {getattr(self, name)!r}")


def bf16_supported(device: str) -> bool:
    """Whether bf16 autocast runs at hardware speed here (AVX512-BF16/AMX on CPUs)."""
    if device == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    cpu = torch.cpu
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(cpu, name, lambda: False)() for name in checks)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _log_callback(path: Path):  # -> TrainerCallback
    from transformers import TrainerCallback

    class JsonlLog(TrainerCallback):
        """Appends every Trainer log entry (loss, lr, throughput) to ``train_log.jsonl``."""

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if logs and state.is_world_process_zero:
                entry = {"step": state.global_step, "tokens_seen": state.num_input_tokens_seen, **logs}
                with open(path, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry) + "\n")

    return JsonlLog()


def train_sft(
    config: SFTRunConfig,
    data: str | Path,
    output_dir: str | Path,
    *,
    callbacks: list[Any] | None = None,
) -> dict[str, Any]:
    """Fine-tune ``config.model`` on the traces in ``data``; returns the run summary."""
    from peft import LoraConfig
    from transformers.trainer_utils import get_last_checkpoint
    from trl import SFTConfig, SFTTrainer

    from backdoorlab.training.data import tokenized_dataset
    from backdoorlab.training.loading import load_for_training

    config.validate()
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    use_bf16 = config.bf16 == "true" or (config.bf16 == "auto" and bf16_supported(device))

    model, tokenizer = load_for_training(config.model, device=device)
    traces = list(iter_traces(data))
    if not traces:
        raise BackdoorlabError(f"{data}: no traces to train on")
    dataset = tokenized_dataset(tokenizer, traces)
    trained_tokens = sum(sum(m) for m in dataset["assistant_masks"])
    if trained_tokens == 0:
        raise BackdoorlabError(f"{data}: no assistant turns to learn from")

    args = SFTConfig(
        output_dir=str(output),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio,
        optim=config.optimizer,
        weight_decay=config.weight_decay,
        max_length=config.max_length,
        bf16=use_bf16,
        use_cpu=device == "cpu",
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=2,
        logging_steps=config.logging_steps,
        include_num_input_tokens_seen="non_padding",
        seed=config.seed,
        report_to="none",
        dataloader_num_workers=0,
    )
    peft_config = (
        LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=config.lora_target_modules,
            task_type="CAUSAL_LM",
        )
        if config.lora
        else None
    )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[_log_callback(output / "train_log.jsonl"), *(callbacks or [])],
    )
    last = get_last_checkpoint(str(output)) if output.exists() else None
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=last)
    seconds = time.perf_counter() - started

    weights_dir = output / ("adapter" if config.lora else "model")
    trainer.save_model(str(weights_dir))
    tokenizer.save_pretrained(str(weights_dir))
    if config.lora and config.merge:
        merged = trainer.model.merge_and_unload()
        merged.save_pretrained(str(output / "merged"), safe_serialization=True)
        tokenizer.save_pretrained(str(output / "merged"))

    summary = {
        "config": asdict(config),
        "base_model": config.model,
        "weights": weights_dir.name,
        "data": str(data),
        "data_sha256": file_sha256(data),
        "traces": len(traces),
        "assistant_tokens_per_epoch": trained_tokens,
        "tokens_per_epoch": sum(len(ids) for ids in dataset["input_ids"]),
        "steps": trainer.state.global_step,
        "train_loss": result.training_loss,
        "seconds": round(seconds, 1),
        "tokens_seen": trainer.state.num_input_tokens_seen,
        "tokens_per_s": round(trainer.state.num_input_tokens_seen / max(seconds, 1e-9), 1),
        "device": device,
        "bf16": use_bf16,
        "resumed_from": last,
    }
    with atomic_writer(output / RUN_MARKER) as handle:
        json.dump(summary, handle, indent=2)
    return summary
