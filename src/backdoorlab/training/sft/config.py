"""`SFTRunConfig`: how to fine-tune, in backdoorlab's names and in TRL's.

TRL users bring ``num_train_epochs`` and ``per_device_train_batch_size``; those names are
aliases of our fields (`TRL_ALIASES`). Any other `trl.SFTConfig` setting — at the top
level or under ``trl:`` — is kept in the ``trl`` field, its name checked against
SFTConfig's own dataclass fields when the config is built and its value handed to
SFTConfig when the trainer is, so nothing TRL offers is out of reach and a typo still
fails before any compute. trl is imported only when a config holds a name that is not
ours (a few seconds, paid once).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import (
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from backdoorlab.bounds import (
    MAX_BATCH,
    MAX_EPOCHS,
    MAX_INTERVAL,
    MAX_LEARNING_RATE,
    MAX_RANK,
    MAX_STEPS,
    MAX_TOKENS,
    MAX_WEIGHT,
    MAX_WEIGHT_DECAY,
    Device,
    Seed,
)
from backdoorlab.config import Config, field_error
from backdoorlab.training.transformers_names import OptimizerName, SchedulerName

DEFAULT_LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

LORA_LEARNING_RATE = 1e-3
FULL_LEARNING_RATE = 5e-5
_BOOL = TypeAdapter(bool)

TRL_ALIASES: dict[str, str] = {
    # trl.SFTConfig (transformers' TrainingArguments) names
    "num_train_epochs": "epochs",
    "per_device_train_batch_size": "batch_size",
    "gradient_accumulation_steps": "grad_accum",
    "lr_scheduler_type": "lr_scheduler",
    "optim": "optimizer",
    # SFTConfig's name before TRL 0.20
    "max_seq_length": "max_length",
    # trl.ModelConfig names
    "model_name_or_path": "model",
    "use_peft": "lora",
}
"""TRL's name → ours, where they differ (``learning_rate``, ``max_steps``, ``max_length``,
``weight_decay``, ``bf16``, ``save_steps``, ``logging_steps``, ``seed``, ``lora_r``,
``lora_alpha``, ``lora_dropout`` and ``lora_target_modules`` are TRL's names already)."""

RUN_SETTINGS: dict[str, str] = {
    "output_dir": "the run directory (-o) sets it",
    "use_cpu": "set 'device' instead",
}
"""SFTConfig settings `train_sft` derives from its arguments, refused in ``trl``."""


@functools.cache
def sft_config_fields() -> frozenset[str]:
    """The setting names `trl.SFTConfig` takes (its dataclass fields): from the list kept
    for the installed TRL and transformers (`trl_fields`), else read from trl itself."""
    from backdoorlab.training.sft import trl_fields

    if trl_fields.installed_versions() == trl_fields.VERSIONS:
        return trl_fields.FIELDS
    return trl_fields.read_fields()


class SFTRunConfig(Config):
    """How to fine-tune. Any field can be set in an experiment YAML's ``train:`` section
    or with ``backdoorlab train --set NAME=VALUE``; ``backdoorlab train`` has options for
    the common ones. TRL's names are accepted too: those of our fields as aliases
    (`TRL_ALIASES`), any other `trl.SFTConfig` setting into ``trl``."""

    model: str = Field("smollm2-135m", min_length=1)
    """Base model: ``smollm2-135m``, ``tiny``, a local directory, a finished run directory
    (to fine-tune an already fine-tuned model) or a hub id."""
    lora: bool = True
    """LoRA adapters (True) or full fine-tuning (False)."""
    lora_r: int = Field(16, gt=0, le=MAX_RANK)
    """LoRA rank (at most 8192, the hidden size of 70B models)."""
    lora_alpha: int = Field(32, gt=0, le=MAX_WEIGHT)
    """LoRA scaling numerator (the update is scaled by alpha / r)."""
    lora_dropout: float = Field(0.0, ge=0, lt=1)
    """Dropout on the LoRA path."""
    lora_target_modules: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: list(DEFAULT_LORA_TARGETS), min_length=1
    )
    """Module names LoRA adapts (all attention and MLP projections by default)."""
    learning_rate: float | None = Field(None, gt=0, le=MAX_LEARNING_RATE)
    """Peak learning rate; by default 1e-3 with LoRA, 5e-5 for full fine-tuning (LoRA
    likes ~10x more). On SmolLM2-135M, 100 retail traces and 2 epochs, 1e-3 at batch 4
    ends at a far lower loss than 5e-4 at an effective batch of 8 (same tokens): compare
    the last ``loss`` in ``train_log.jsonl`` of ``backdoorlab train --data T.jsonl -o
    runs/a`` and of ``... -o runs/b --lr 5e-4 --grad-accum 2``."""
    epochs: float = Field(2.0, ge=0, le=MAX_EPOCHS)
    """Passes over the data."""
    max_steps: int = Field(-1, ge=-1, le=MAX_STEPS)
    """If positive, stop after this many optimizer steps (overrides ``epochs``); -1: off."""
    batch_size: int = Field(4, gt=0, le=MAX_BATCH)
    """Traces per device per forward pass."""
    grad_accum: int = Field(1, gt=0, le=MAX_BATCH)
    """Forward passes per optimizer step (effective batch = batch_size x grad_accum x devices)."""
    max_length: int = Field(1024, gt=16, le=MAX_TOKENS)
    """Traces longer than this many tokens are truncated (their end loses the loss)."""
    warmup_ratio: float = Field(0.05, ge=0, le=1)
    """Share of steps spent warming the learning rate up."""
    lr_scheduler: SchedulerName = "cosine"
    """Learning-rate schedule name (transformers' ``SchedulerType``)."""
    optimizer: OptimizerName = "adamw_torch"
    """Optimizer name (transformers' ``OptimizerNames``)."""
    weight_decay: float = Field(0.0, ge=0, le=MAX_WEIGHT_DECAY)
    """AdamW weight decay."""
    bf16: Literal["auto", "true", "false"] = "auto"
    """``auto`` (bf16 autocast where the CPU/GPU supports it), ``true`` or ``false``."""
    save_steps: int = Field(50, gt=0, le=MAX_INTERVAL)
    """Checkpoint every this many steps (resume restarts from the last one)."""
    logging_steps: int = Field(5, gt=0, le=MAX_INTERVAL)
    """Log loss and throughput every this many steps."""
    seed: Seed = 0
    """Seed for data order and adapter initialisation."""
    merge: bool = False
    """Also save the base model with the adapter merged in (``merged/``, safetensors)."""
    compile: bool = False
    """Compile each decoder layer with ``torch.compile`` (regional compilation, dynamic
    sequence lengths). Faster steps after a compilation of tens of seconds in the first
    one (``python benchmarks/compile_ab.py`` measures both on this machine). Off by
    default: a short run does not earn the compilation back, and it needs a C++ compiler
    (CPU) or Triton (GPU)."""
    share_prefix: bool = True
    """Run a micro-batch's shared opening (the system prompt and tool list its traces all
    start with, up to the first scored token) once instead of once per trace; the passes
    attend to its cached states (`backdoorlab.training.sft.prefix`). The same loss and
    gradients from fewer FLOPs; single-process runs with the compact LM head (CPU) only,
    not with ``compile`` (the compiled layers recompile for the cache: 30 s a step against
    27.5 eager in a probe) and not with ``lora_dropout`` (the rows would share one dropout
    mask over the opening)."""
    matmul_attention: bool = True
    """On a CPU in bf16 (autocast) or fp16, compute training attention as two batched
    matmuls and a softmax (`backdoorlab.training.sft.attention`) instead of PyTorch's CPU
    flash-attention kernel: about twice as fast an attention, 1.2-1.3x whole LoRA steps on
    SmolLM2-135M, for ~7% more peak memory (the softmax's output kept for the backward).
    Not with ``compile``."""
    fused_lora: bool = True
    """On a CPU under bf16 autocast, run each LoRA projection (frozen bf16 base + adapter)
    as one autograd node of three matmuls (`backdoorlab.training.sft.lora_linear`)
    instead of PEFT's dozen small ops and casts: the same function, gradients as close
    to an fp32 run's as PEFT's; 1.08x the tokens/s on SmolLM2-135M (a 2-vCPU AMX Xeon)
    and a 5% lower peak memory. Only the plain case (one adapter, no dropout, no DoRA, no
    adapter bias); anything else runs PEFT's own layer."""
    pass_tokens: int | None = Field(None, ge=64, le=MAX_TOKENS)
    """Tokens (padding and the shared opening included) per forward/backward pass when a
    micro-batch is split into passes (single-process runs with the compact LM head: CPU);
    the same optimizer step from less activation memory (~1 MiB a token on SmolLM2-135M
    under autocast). None: 1,024 under bf16, 512 in fp32 (`rows.pass_tokens`). Measure
    the trade with ``python benchmarks/train_memory.py --pass-tokens N``."""
    device: Device = None
    """Force ``cpu`` or ``cuda``; by default CUDA when present."""
    trl: dict[str, Any] = Field(default_factory=dict)
    """Any other ``trl.SFTConfig`` setting, passed to it as is when the trainer is built
    (e.g. ``{report_to: wandb, activation_checkpointing: true, warmup_steps: 10}``); it
    overrides backdoorlab's default for that setting (``warmup_steps`` replaces
    ``warmup_ratio``). A TRL name at the top level of the config lands here too. Names
    backdoorlab sets from its own fields are refused here: set the field instead."""

    label = "training config"
    aliases = TRL_ALIASES

    @model_validator(mode="after")
    def _some_training(self) -> Self:
        if self.epochs <= 0 and self.max_steps <= 0:
            raise field_error("epochs", "must be positive unless max_steps is")
        return self

    @model_validator(mode="before")
    @classmethod
    def _learning_rate_by_mode(cls, data: Any) -> Any:
        """No learning rate given: LoRA's or full fine-tuning's default, by ``lora``."""
        if not isinstance(data, Mapping) or data.get("learning_rate") is not None:
            return data
        try:
            lora = _BOOL.validate_python(data.get("lora", True))
        except ValidationError:
            return data  # the lora field's own validation names the problem
        return {**data, "learning_rate": LORA_LEARNING_RATE if lora else FULL_LEARNING_RATE}

    @field_validator("bf16", mode="before")
    @classmethod
    def _bf16_from_bool(cls, value: Any) -> Any:
        """TRL's ``bf16: true`` (a boolean) means our ``"true"``."""
        if isinstance(value, bool):
            return "true" if value else "false"
        return value

    @model_validator(mode="before")
    @classmethod
    def _trl_names_into_trl(cls, data: Any) -> Any:
        """Top-level SFTConfig names that are not ours move into ``trl``."""
        if not isinstance(data, Mapping):
            return data
        foreign = [k for k in data if k not in cls.model_fields]
        if not foreign:
            return data
        moved = {k: data[k] for k in foreign if k in sft_config_fields()}
        if not moved:
            return data  # unknown names: refused, each by name, as extra keys
        trl = data.get("trl") or {}
        if not isinstance(trl, Mapping):
            return data  # the field's own validation says what is wrong with it
        for key in moved:
            if key in trl:
                raise field_error(key, f"given twice (as 'trl.{key}' too)")
        out = {k: v for k, v in data.items() if k not in moved}
        out["trl"] = {**trl, **moved}
        return out

    @field_validator("trl")
    @classmethod
    def _sft_config_settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if key in RUN_SETTINGS:
                raise field_error(key, RUN_SETTINGS[key])
            ours = TRL_ALIASES.get(key, key)
            if ours in cls.model_fields:
                raise field_error(key, f"a backdoorlab setting: set '{ours}' instead")
            if key not in sft_config_fields():
                raise field_error(key, "not a trl.SFTConfig setting")
        return value

    @model_serializer(mode="wrap")
    def _dump_trl_when_set(self, handler: Any) -> dict[str, Any]:
        """An empty ``trl`` is left out of the dump: run records and stage-cache digests
        of configs that do not use it stay what they were before it existed."""
        out = handler(self)
        if not out.get("trl"):
            out.pop("trl", None)
        return out

    def updated(self, changes: Mapping[str, Any], where: str = "", prefix: str = "") -> Self:
        """As `Config.updated`; TRL settings (top-level names or ``trl``) are merged into
        the ``trl`` already set rather than replacing it."""
        changes = dict(self.canonical(changes, where, prefix))
        trl = dict(self.trl)
        given = changes.pop("trl", None)
        if isinstance(given, Mapping):
            trl.update(given)
        elif given is not None:
            changes["trl"] = given  # not a mapping: let validation name it
        for key in [k for k in changes if k not in type(self).model_fields]:
            if key in sft_config_fields():
                trl[key] = changes.pop(key)
        if trl != self.trl and "trl" not in changes:
            changes["trl"] = trl
        return super().updated(changes, where, prefix)
