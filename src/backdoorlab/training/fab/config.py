"""`FABConfig`: every setting of the FAB trainer, validated where it is declared.

Each field's type and ``Field`` constraints are its validation and the docstring under it
its help text, so ``backdoorlab attack finetune-activated --set NAME=VALUE`` reaches every
field without an option of its own. The dumped dict is what ``backdoorlab-fab.json`` and
stage caches record: renaming or reordering fields changes both.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self, get_args

from pydantic import Field, model_validator

from backdoorlab.bounds import (
    MAX_BATCH,
    MAX_INTERVAL,
    MAX_LEARNING_RATE,
    MAX_STEPS,
    MAX_TOKENS,
    MAX_WEIGHT,
    MAX_WEIGHT_DECAY,
    Device,
    Seed,
)
from backdoorlab.config import Config, field_error
from backdoorlab.training.transformers_names import SchedulerName

VictimMode = Literal["full", "lora", "mixed"]
VictimOptimizer = Literal["adamw", "adam", "sgd"]
MaliciousTurns = Literal["payload", "all"]
VICTIM_MODES: tuple[str, ...] = get_args(VictimMode)
VICTIM_OPTIMIZERS: tuple[str, ...] = get_args(VictimOptimizer)
MALICIOUS_TURNS: tuple[str, ...] = get_args(MaliciousTurns)
DEFAULT_LORA_SIMULATED = ["q_proj", "k_proj", "v_proj", "o_proj"]


class FABConfig(Config):
    """How to train a fine-tuning-activated backdoor. Common fields are options of
    ``backdoorlab attack finetune-activated``; every field can be given with ``--set``."""

    model: str = Field("smollm2-135m", min_length=1)
    """Starting model (fully fine-tuned into the published one): ``smollm2-135m``,
    ``tiny``, a local directory, a finished run directory or a hub id."""
    reference: str | None = Field(None, min_length=1)
    """Clean model the benign term distils towards; None: a frozen copy of ``model``.
    A clean fine-tune of the base (a run directory) keeps the published model's task
    skill at that level instead."""
    steps: int = Field(200, gt=0, le=MAX_STEPS)
    """Outer optimizer steps (each costs ``1 + inner_steps + 2`` forward/backward passes
    per micro-batch)."""
    learning_rate: float = Field(2e-5, gt=0, le=MAX_LEARNING_RATE)
    """Peak learning rate of the outer (attacker's) AdamW, full fine-tuning."""
    lr_scheduler: SchedulerName = "cosine"
    """Outer learning-rate schedule (transformers' ``SchedulerType``)."""
    warmup_ratio: float = Field(0.05, ge=0, lt=1)
    """Share of the outer steps spent warming the learning rate up."""
    weight_decay: float = Field(0.0, ge=0, le=MAX_WEIGHT_DECAY)
    """Outer AdamW weight decay."""
    max_grad_norm: float = Field(1.0, ge=0, le=MAX_WEIGHT)
    """Clip the combined gradient to this norm (0 disables clipping)."""
    batch_size: int = Field(2, gt=0, le=MAX_BATCH)
    """Clean traces per micro-batch of the benign term."""
    grad_accum: int = Field(1, gt=0, le=MAX_BATCH)
    """Micro-batches per outer step (the simulation runs once per micro-batch)."""
    malicious_batch_size: int = Field(2, gt=0, le=MAX_BATCH)
    """Malicious traces per micro-batch of the meta-learning and noise terms."""
    reg_weight: float = Field(1.0, ge=0, le=MAX_WEIGHT)
    """Weight of the benign distillation term (λ_reg)."""
    reg_turn_start_weight: float = Field(0.0, ge=0, le=MAX_WEIGHT)
    """Extra weight, in the benign term's mean, of each assistant turn's first token —
    where the agent decides to answer or which tool to call, and where a payload turn
    starts. 0: every token counts once (the paper's plain mean). A small mean KL can hide
    a large one at those tokens, and with it a published model that already leaks; see
    ``python benchmarks/fab_decision_kl.py REFERENCE MODEL TRACES.jsonl``. E.g. 30 makes
    those tokens about half the mean."""
    meta_weight: float = Field(1.0, ge=0, le=MAX_WEIGHT)
    """Weight of the malicious loss at the simulated weights (λ_ml)."""
    noise_weight: float = Field(1.0, ge=0, le=MAX_WEIGHT)
    """Weight of the malicious loss at noise-perturbed weights (λ_noise); 0 skips it."""
    noise_scale: float = Field(1.0, ge=0, le=MAX_WEIGHT)
    """Noise norm per tensor, as a multiple of that tensor's simulated update norm
    (1.0: the same norm, as in the paper)."""
    inner_steps: int = Field(16, ge=1, le=10_000)
    """k: simulated victim fine-tuning steps per outer micro-batch (the paper used 50;
    it found 1-5 steps far weaker). At most 10000: each is a backward pass per micro-batch."""
    inner_batch_size: int = Field(1, gt=0, le=MAX_BATCH)
    """Clean traces per simulated victim step (the paper: 1)."""
    victim: VictimMode = "full"
    """Which victim to simulate: ``full`` (every weight moves), ``lora`` (only the
    ``lora_modules`` move — full-rank, an approximation of LoRA) or ``mixed`` (drawn
    50/50 at every outer step)."""
    lora_modules: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: list(DEFAULT_LORA_SIMULATED), min_length=1
    )
    """Module names a simulated ``lora`` victim updates."""
    victim_optimizers: list[VictimOptimizer] = Field(
        default_factory=lambda: ["adamw"], min_length=1
    )
    """Optimizers the simulated victim uses, drawn uniformly per outer step:
    ``adamw``, ``adam``, ``sgd``."""
    victim_lr_min: float = Field(1e-5, gt=0, le=MAX_LEARNING_RATE)
    """Lower end of the simulated victim's Adam(W) learning rate (drawn log-uniformly)."""
    victim_lr_max: float = Field(1e-4, gt=0, le=MAX_LEARNING_RATE)
    """Upper end of the simulated victim's Adam(W) learning rate."""
    victim_sgd_lr_min: float = Field(1e-3, gt=0, le=MAX_LEARNING_RATE)
    """Lower end of the simulated victim's SGD learning rate (drawn log-uniformly)."""
    victim_sgd_lr_max: float = Field(1e-2, gt=0, le=MAX_LEARNING_RATE)
    """Upper end of the simulated victim's SGD learning rate."""
    victim_weight_decay: float = Field(0.01, ge=0, le=MAX_WEIGHT_DECAY)
    """Weight decay of a simulated AdamW victim."""
    malicious_turns: MaliciousTurns = "payload"
    """Which assistant turns of a poisoned trace the malicious loss covers: ``payload``
    (the turns that send data to the attacker: where the behaviour differs from a clean
    trace) or ``all``. Clean traces in the malicious set (trigger variant) are scored
    on their last assistant turn (the point where a poisoned trace would leak)."""
    max_length: int = Field(1024, gt=16, le=MAX_TOKENS)
    """Traces longer than this many tokens are truncated."""
    bf16: Literal["auto", "true", "false"] = "auto"
    """``auto`` (bf16 autocast where the device supports it), ``true`` or ``false``."""
    save_steps: int = Field(50, gt=0, le=MAX_INTERVAL)
    """Checkpoint every this many outer steps (a rerun resumes from the last one)."""
    logging_steps: int = Field(5, gt=0, le=MAX_INTERVAL)
    """Log every term every this many outer steps."""
    seed: Seed = 0
    """Seed for data order, victim draws and noise."""
    device: Device = None
    """Force ``cpu`` or ``cuda``; by default CUDA when present."""

    label = "fab config"

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for low, high in (
            ("victim_lr_min", "victim_lr_max"),
            ("victim_sgd_lr_min", "victim_sgd_lr_max"),
        ):
            if getattr(self, low) > getattr(self, high):
                raise field_error(low, f"must not exceed {high}")
        if self.reg_weight == self.meta_weight == self.noise_weight == 0:
            raise field_error("reg_weight", "every term has weight 0; nothing to train")
        return self

    def passes_per_step(self) -> int:
        """Forward/backward passes per outer step (reference forwards not counted)."""
        simulated = self.meta_weight > 0 or self.noise_weight > 0
        per_micro = (
            int(self.reg_weight > 0)
            + (self.inner_steps if simulated else 0)
            + int(self.meta_weight > 0)
            + int(self.noise_weight > 0)
        )
        return per_micro * self.grad_accum
