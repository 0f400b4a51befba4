"""The ranges config fields share: seeds, devices, counts, sizes, rates.

Every numeric setting is bounded on both sides. The upper bounds sit far beyond what a
real run of a 7B model on GPUs would set; they exist to stop an absurd value — a typo's
extra zeros, a YAML ``1e300`` — before it costs compute: a ``lora_r`` of 1e9 asks for a
256 GB tensor, an ``n`` of 1e15 draws tasks until memory runs out, ``epochs: 1e300``
schedules 1e300 steps. Floats are finite everywhere (`backdoorlab.config.Config` refuses
NaN and infinity), so these bounds need not say it.

Fields use the annotated types below (``seed: Seed = 0``) or the constants in their own
``Field(...)``, so each bound's reason is written once, here.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

__all__ = [
    "MAX_BATCH",
    "MAX_EPOCHS",
    "MAX_INTERVAL",
    "MAX_LEARNING_RATE",
    "MAX_RANK",
    "MAX_SEED",
    "MAX_STEPS",
    "MAX_TASKS",
    "MAX_TOKENS",
    "MAX_TURNS",
    "MAX_WEIGHT",
    "MAX_WEIGHT_DECAY",
    "Device",
    "Seed",
]

MAX_SEED = 2**32 - 1
"""numpy's seed range; transformers' ``set_seed`` seeds numpy with the training seed."""
MAX_TASKS = 1_000_000
"""Tasks, episodes or traces one stage draws: weeks of a 7B model's episodes."""
MAX_TURNS = 10_000
"""Turns of one agent episode; real tasks end in tens."""
MAX_STEPS = 10_000_000
"""Optimizer steps of one run: months of a 7B model at a step a second."""
MAX_INTERVAL = 2**31 - 1
"""Steps between checkpoints or log lines: any value above a run's steps means never
(scripts write ``10**9``), so only the 32-bit limit applies."""
MAX_EPOCHS = 10_000
"""Passes over a dataset."""
MAX_BATCH = 65_536
"""Examples per batch or micro-batches per step."""
MAX_TOKENS = 1_048_576
"""Tokens of one sequence or one generation (2**20): above any 7B model's context."""
MAX_LOOKUP = 31
"""Tokens of a prompt-lookup draft (`policies.lookup`): a decoding step of one row holds
its token and the draft within the 32 inputs `policies.hf.LOOKUP_ROWS` allows."""
MAX_RANK = 8_192
"""LoRA rank: the hidden size of 70B models; a rank above the hidden size adds nothing."""
MAX_LEARNING_RATE = 10.0
"""No optimizer trains a transformer at a learning rate above this."""
MAX_WEIGHT = 1e6
"""Loss weights, ratios, scales and thresholds that are relative factors."""
MAX_WEIGHT_DECAY = 10.0
"""Weight decay: AdamW shrinks each weight by learning rate x decay per step."""

Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
"""A random seed: 0 to 2**32 - 1 (numpy's range)."""

_DEVICE = re.compile(r"(cpu|cuda|mps|xpu)(:\d{1,3})?")


def _device(value: str | None) -> str | None:
    if value is not None and not _DEVICE.fullmatch(value):
        raise PydanticCustomError(
            "device", "unknown device '{value}' (cpu, cuda, cuda:N, mps or xpu)", {"value": value}
        )
    return value


Device = Annotated[str | None, AfterValidator(_device)]
"""A torch device name (``cpu``, ``cuda``, ``cuda:1``, ``mps``, ``xpu``) or None (the
default device); whether it exists here is checked when a model is placed on it."""


def _phrase(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("phrase", "must not be empty")
    return value


Phrase = Annotated[str, AfterValidator(_phrase)]
"""A trigger phrase: not empty nor blank (an empty one would silently skip the triggered
condition, or poison with nothing)."""
