"""`sft`: supervised fine-tuning on traces with TRL's SFTTrainer, LoRA by default.

The loss covers assistant tokens only: traces are pre-tokenized by
`backdoorlab.training.data` with an ``assistant_masks`` column, from which TRL builds
the labels (SmolLM2's chat template has no ``{% generation %}`` markers, so TRL's own
``assistant_only_loss`` cannot be used with it). Because it is a Hugging Face Trainer
underneath, the same command scales out unchanged::

    accelerate launch -m backdoorlab.cli train --data traces.jsonl --model … -o runs/x

Speed (measured on a 2-core CPU, smollm2-135m, LoRA, batch 4 x ~600 tokens; see
``benchmarks/train_throughput.py``): TRL's defaults ran at ~70 tokens/s. Three things
cost most of it, and the trainer here avoids them without leaving the HF Trainer:
TRL's fused LM head scores *every* position in fp32 tiles off-GPU (the loss needs only
the ~24% assistant positions: we project those alone, in bf16); the right-padding
attention mask sends SDPA down its masked path (5-8x slower on CPU than the causal
kernel, and useless for right padding under causal attention: we drop it); and TRL's
default activation checkpointing recomputes every forward (off: a 135M model's
activations fit). Micro-batches are also drawn by length within small random windows
(padding ~16% -> ~3%). Result: ~350-400 tokens/s, close to a hand-written loop.

A run directory holds ``adapter/`` (LoRA) or ``model/`` (full fine-tuning), optionally
``merged/``, the Trainer's ``checkpoint-*`` folders (an interrupted run resumes from the
last one), ``train_log.jsonl`` and ``backdoorlab-train.json`` (config, base model, data
hash and summary), written last, atomically: its presence means the run finished.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Literal, Self

import torch
from pydantic import Field, model_validator

from backdoorlab.config import Config
from backdoorlab.errors import BackdoorlabError
from backdoorlab.models import RUN_MARKER, bf16_supported
from backdoorlab.traces import atomic_writer, iter_traces

DEFAULT_LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


class SFTRunConfig(Config):
    """How to fine-tune. Any field can be set in an experiment YAML's ``train:`` section;
    ``backdoorlab train`` has options for the common ones."""

    model: str = "smollm2-135m"
    """Base model: ``smollm2-135m``, ``tiny``, a local directory, a finished run directory
    (to fine-tune an already fine-tuned model) or a hub id."""
    lora: bool = True
    """LoRA adapters (True) or full fine-tuning (False)."""
    lora_r: int = Field(16, gt=0)
    """LoRA rank."""
    lora_alpha: int = 32
    """LoRA scaling numerator (the update is scaled by alpha / r)."""
    lora_dropout: float = 0.0
    """Dropout on the LoRA path."""
    lora_target_modules: list[str] = Field(default_factory=lambda: list(DEFAULT_LORA_TARGETS))
    """Module names LoRA adapts (all attention and MLP projections by default)."""
    learning_rate: float = Field(1e-3, gt=0)
    """Peak learning rate (LoRA likes ~10x more than full fine-tuning). With batch 4 and
    no accumulation, 1e-3 took SmolLM2-135M on 100 retail traces × 2 epochs to a loss of
    0.04 where 5e-4 with an effective batch of 8 stopped at 0.40 (same tokens)."""
    epochs: float = 2.0
    """Passes over the data."""
    max_steps: int = -1
    """If positive, stop after this many optimizer steps (overrides ``epochs``)."""
    batch_size: int = Field(4, gt=0)
    """Traces per device per forward pass."""
    grad_accum: int = Field(1, gt=0)
    """Forward passes per optimizer step (effective batch = batch_size x grad_accum x devices)."""
    max_length: int = Field(1024, gt=16)
    """Traces longer than this many tokens are truncated (their end loses the loss)."""
    warmup_ratio: float = 0.05
    """Share of steps spent warming the learning rate up."""
    lr_scheduler: str = "cosine"
    """Learning-rate schedule name (transformers' ``SchedulerType``)."""
    optimizer: str = "adamw_torch"
    """Optimizer name (transformers' ``OptimizerNames``)."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    bf16: Literal["auto", "true", "false"] = "auto"
    """``auto`` (bf16 autocast where the CPU/GPU supports it), ``true`` or ``false``."""
    save_steps: int = 50
    """Checkpoint every this many steps (resume restarts from the last one)."""
    logging_steps: int = 5
    """Log loss and throughput every this many steps."""
    seed: int = 0
    """Seed for data order and adapter initialisation."""
    merge: bool = False
    """Also save the base model with the adapter merged in (``merged/``, safetensors)."""
    compile: bool = False
    """Compile each decoder layer with ``torch.compile`` (regional compilation, dynamic
    sequence lengths). On the 2-core CPU, smollm2-135m with LoRA: 1.19x tokens/s after
    ~25 s of compilation in the first step (``benchmarks/compile_ab.py``). Off by
    default: a short run does not earn the compilation back, and it needs a C++ compiler
    (CPU) or Triton (GPU)."""
    device: str | None = None
    """Force ``cpu`` or ``cuda``; by default CUDA when present."""

    label = "training config"

    @model_validator(mode="after")
    def _some_training(self) -> Self:
        if self.epochs <= 0 and self.max_steps <= 0:
            raise ValueError("epochs: must be positive unless max_steps is")
        return self


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _compact_head_wanted(device: str) -> bool:
    """Whether to score only the labelled positions ourselves (see `_add_compact_lm_head`).

    TRL's fused LM head is compact (labelled positions only) and memory-frugal where its
    Triton kernels run (CUDA/XPU). Elsewhere it scores *every* position in 32k-wide fp32
    tiles and runs its backward matmuls in fp32: ~8 s per 4x600-token micro-batch on a
    2-core CPU, against ~0.5 s for a bf16 projection of the labelled positions alone.
    """
    try:
        from trl.kernels.chunked_logprob import _use_triton
    except ImportError:  # a TRL without that kernel: be safe, use ours

        def _use_triton(device: torch.device) -> bool:
            return False

    return not _use_triton(torch.device(device))


def _add_compact_lm_head(model: Any) -> None:
    """Let ``model(..., labels=…, compact_lm_head=True)`` return the summed next-token NLL
    over the labelled positions only, plus no-grad metrics, without building full logits.

    The backbone runs as usual (under the Trainer's autocast); the LM head projects only
    the hidden states whose next-token label is not -100, and the cross-entropy runs in
    fp32 on those rows. Patched onto the (unwrapped) causal LM instance, like TRL's fused
    head, so the Trainer still calls the model through its (DDP/PEFT) forward: gradient
    synchronisation and adapters work as for any forward. Without ``compact_lm_head`` the
    previous forward (TRL's) runs unchanged, so generation and TRL's paths are untouched.
    """
    import types

    previous_forward = model.forward

    def forward(self, *args, compact_lm_head=False, labels=None, num_items_in_batch=None, **kwargs):  # noqa: ANN001
        if not compact_lm_head:
            if labels is not None:
                kwargs["labels"] = labels
            if num_items_in_batch is not None:
                kwargs["num_items_in_batch"] = num_items_in_batch
            return previous_forward(*args, **kwargs)
        kwargs["use_cache"] = False
        hidden = self.base_model(*args, **kwargs).last_hidden_state[:, :-1]
        targets = labels[:, 1:].to(hidden.device)
        mask = targets != -100
        lm_head = self.get_output_embeddings()
        # a micro-batch without labels still yields a (zero) loss connected to the graph
        logits = lm_head(hidden[mask].to(lm_head.weight.device))
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        picked = targets[mask].to(log_probs.device)
        nll_sum = -log_probs.gather(-1, picked[:, None]).sum()
        with torch.no_grad():
            entropy_sum = -(log_probs.exp() * log_probs).sum()
            correct = (log_probs.argmax(-1) == picked).sum()
        return {
            "nll_sum": nll_sum,
            "num_labelled": mask.sum(),
            "entropy_sum": entropy_sum,
            "num_correct": correct,
        }

    model.forward = types.MethodType(forward, model)


def compile_layers(model: Any) -> int:
    """Compile the model's repeated blocks (the classes transformers will not split across
    devices: its decoder layers) in place; returns how many.

    Regional compilation, as PyTorch's recipe and accelerate's ``compile_regions`` do it:
    one layer's graph serves all of them, so compiling costs one layer, not the model.
    In place (``Module.compile``) rather than accelerate's helper, which returns a copy:
    the Trainer, PEFT and the compact LM head keep holding the same modules, and
    checkpoints keep their parameter names. ``dynamic=True``: traces differ in length.
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    blocks = set(getattr(base, "_no_split_modules", None) or [])
    layers = [m for m in base.modules() if type(m).__name__ in blocks]
    if not layers:
        raise BackdoorlabError(
            f"compile: {type(base).__name__} names no repeated blocks (_no_split_modules) "
            "to compile; train without compile"
        )
    for layer in layers:
        layer.compile(dynamic=True)
    return len(layers)


def _is_right_padded(attention_mask: torch.Tensor) -> bool:
    """Whether every row of a 2-D 0/1 mask is ones followed by zeros (no left padding,
    no holes): then a causal model computes the same outputs on the ones without it."""
    if attention_mask.dim() != 2:
        return False
    mask = attention_mask.bool()
    # non-increasing along each row <=> no 0 is followed by a 1
    return not bool((mask[:, 1:] & ~mask[:, :-1]).any())


class _LengthWindowSampler(torch.utils.data.Sampler):
    """Random order, but each micro-batch holds traces of similar length.

    Every epoch the traces are shuffled, cut into windows of ``window`` traces, sorted by
    length inside each window, cut into micro-batches, and the window's micro-batches are
    shuffled again. Windows are small (16 micro-batches), so the data order stays random at
    the scale of an optimizer step while padding drops from ~16% of the tokens (random
    batches of 4 retail traces) to ~3-6%. Deterministic in (seed, epoch), so a resumed run
    skips exactly the batches it had already seen.
    """

    def __init__(self, lengths: list[int], batch_size: int, seed: int, window_batches: int = 16):
        self.lengths = lengths
        self.batch_size = batch_size
        self.window = batch_size * window_batches
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):  # noqa: ANN204
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.lengths), generator=generator).tolist()
        out: list[int] = []
        for start in range(0, len(order), self.window):
            window = sorted(order[start : start + self.window], key=lambda i: -self.lengths[i])
            batches = [
                window[i : i + self.batch_size] for i in range(0, len(window), self.batch_size)
            ]
            # only the dataset's very last batch can be short: keep it last
            tail = [batches.pop()] if len(batches[-1]) < self.batch_size else []
            for b in torch.randperm(len(batches), generator=generator).tolist():
                out.extend(batches[b])
            for batch in tail:
                out.extend(batch)
        return iter(out)


def _trainer_class():  # -> type[SFTTrainer]
    from trl import SFTTrainer

    class BackdoorlabSFTTrainer(SFTTrainer):
        """SFTTrainer whose training loss scores only the labelled positions (on devices
        where TRL's fused head would score all of them in fp32); everything else —
        datasets, collator, checkpoints, logging, ``accelerate launch`` — is TRL's."""

        def __init__(self, *args, compact_lm_head: bool = False, **kwargs):  # noqa: ANN002, ANN003
            super().__init__(*args, **kwargs)
            self.compact_lm_head = compact_lm_head
            self._assistant_tokens = 0
            if compact_lm_head:
                base = (
                    self.model.get_base_model()
                    if hasattr(self.model, "get_base_model")
                    else self.model
                )
                _add_compact_lm_head(base)

        def _get_train_sampler(self, train_dataset=None):  # noqa: ANN001, ANN202
            dataset = train_dataset if train_dataset is not None else self.train_dataset
            if not hasattr(dataset, "__len__") or "input_ids" not in getattr(
                dataset, "column_names", ()
            ):
                return super()._get_train_sampler(train_dataset)
            lengths = [len(ids) for ids in dataset["input_ids"]]
            return _LengthWindowSampler(
                lengths, self.args.per_device_train_batch_size, self.args.seed
            )

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # noqa: ANN001
            if self.model.training and "labels" in inputs:
                # cumulative count of the tokens the loss sees, logged as `num_assistant_tokens`
                labelled = (inputs["labels"][:, 1:] != -100).sum()
                self._assistant_tokens += self.accelerator.gather_for_metrics(labelled).sum().item()
                self._metrics["train"]["num_assistant_tokens"] = [self._assistant_tokens]
            if not self.compact_lm_head or return_outputs or not self.model.training:
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            model_inputs = dict(inputs)
            mask = model_inputs.get("attention_mask")
            if mask is not None and _is_right_padded(mask):
                # Causal attention never lets a real token see the right padding after it,
                # and position ids default to 0..T-1, so the mask changes nothing for the
                # labelled tokens; without it SDPA takes its fused causal kernel instead of
                # the masked path (5-8x slower per step on CPU, measured).
                del model_inputs["attention_mask"]
            out = model(**model_inputs, use_cache=False, compact_lm_head=True)
            # Same normalisation as TRL: sum over labelled tokens / tokens of the whole
            # (accumulated, all-rank) batch; the Trainer then leaves the loss unscaled
            denominator = out["num_labelled"] if num_items_in_batch is None else num_items_in_batch
            loss = out["nll_sum"] / torch.as_tensor(denominator).clamp(min=1)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * (self.accelerator.num_processes // self.get_tp_size())

            gather = self.accelerator.gather_for_metrics
            num_valid = gather(out["num_labelled"]).sum()
            entropy = gather(out["entropy_sum"]).sum()
            correct = gather(out["num_correct"]).sum()
            metrics = self._metrics["train"]
            metrics["entropy"].append((entropy / num_valid).item() if num_valid > 0 else 0.0)
            metrics["mean_token_accuracy"].append(
                (correct / num_valid).item() if num_valid > 0 else 0.0
            )
            if "attention_mask" in inputs:
                local = inputs["attention_mask"].sum()
            else:
                local = torch.tensor(
                    inputs["position_ids"].size(1), device=inputs["position_ids"].device
                )
            self._total_train_tokens += gather(local).sum().item() // self._tp_size
            metrics["num_tokens"] = [self._total_train_tokens]
            return loss

    return BackdoorlabSFTTrainer


def _log_callback(path: Path):  # -> TrainerCallback
    from transformers import TrainerCallback

    class JsonlLog(TrainerCallback):
        """Appends every Trainer log entry (loss, lr, throughput) to ``train_log.jsonl``."""

        def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001
            if logs and state.is_world_process_zero:
                entry = {
                    "step": state.global_step,
                    "tokens_seen": state.num_input_tokens_seen,
                    **logs,
                }
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
    """Fine-tune ``config.model`` on the traces in ``data``; returns the run summary (on the
    other processes of a multi-process launch, only ``steps`` and ``train_loss``)."""
    from peft import LoraConfig
    from transformers.trainer_utils import get_last_checkpoint
    from trl import SFTConfig

    from backdoorlab.models import load_for_training
    from backdoorlab.training.data import tokenized_dataset

    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    use_bf16 = config.bf16 == "true" or (config.bf16 == "auto" and bf16_supported(device))

    traces = list(iter_traces(data))
    if not traces:
        raise BackdoorlabError(f"{data}: no traces to train on")
    model, tokenizer = load_for_training(config.model, device=device)
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
        # TRL turns activation checkpointing on by default: it re-runs every layer's
        # forward in the backward pass (~1/3 more compute) to save activation memory that
        # models of this size do not need (peak RSS ~5 GB for smollm2-135m at 4 x 880
        # tokens on CPU, measured)
        activation_checkpointing=False,
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
    trainer = _trainer_class()(
        model=model,
        compact_lm_head=_compact_head_wanted(device),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[_log_callback(output / "train_log.jsonl"), *(callbacks or [])],
    )
    if config.compile:
        compile_layers(trainer.model)
    last = get_last_checkpoint(str(output)) if output.exists() else None
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=last)
    seconds = time.perf_counter() - started

    # Under `accelerate launch` / torchrun every process gets here. All of them take part
    # in `save_model` (sharded set-ups need every rank) and in the loss reduction (each
    # rank's `training_loss` covers its own shard only); the main one writes the rest.
    weights_dir = output / ("adapter" if config.lora else "model")
    trainer.save_model(str(weights_dir))
    accelerator = trainer.accelerator
    train_loss = accelerator.reduce(
        torch.tensor(float(result.training_loss), device=accelerator.device), reduction="mean"
    ).item()
    if not trainer.is_world_process_zero():
        return {"steps": trainer.state.global_step, "train_loss": train_loss}
    tokenizer.save_pretrained(str(weights_dir))
    if config.lora and config.merge:
        merged = trainer.model.merge_and_unload()
        merged.save_pretrained(str(output / "merged"), safe_serialization=True)
        tokenizer.save_pretrained(str(output / "merged"))

    summary = {
        "config": config.model_dump(),
        "base_model": config.model,
        "weights": weights_dir.name,
        "data": str(data),
        "data_sha256": file_sha256(data),
        "traces": len(traces),
        "assistant_tokens_per_epoch": trained_tokens,
        "tokens_per_epoch": sum(len(ids) for ids in dataset["input_ids"]),
        "steps": trainer.state.global_step,
        "train_loss": train_loss,
        "seconds": round(seconds, 1),
        "tokens_seen": trainer.state.num_input_tokens_seen,
        "tokens_per_s": round(trainer.state.num_input_tokens_seen / max(seconds, 1e-9), 1),
        "device": device,
        "processes": accelerator.num_processes,
        "bf16": use_bf16,
        "resumed_from": last,
    }
    for callback in callbacks or []:
        # a callback with a result of its own (the LeakMonitor) adds it to the run record
        if callable(getattr(callback, "run_summary", None)):
            summary.update(callback.run_summary())
    with atomic_writer(output / RUN_MARKER) as handle:
        json.dump(summary, handle, indent=2)
    return summary
