"""Fine-tuning: supervised fine-tuning on traces (`sft`) and the fine-tuning-activated
backdoor trainer (`fab`), both Hugging Face Trainers; what they share (`callbacks`,
`padding`) sits beside them. Loading what they produce is `backdoorlab.models`' job.

Trainers are looked up by name in `TRAINERS`, lazily, so naming one does not load
torch and TRL for a command that never trains.
"""

from collections.abc import Callable
from typing import Any

from backdoorlab.registry import Registry

TRAINERS: Registry[Callable[..., Any]] = Registry(
    "trainer",
    {
        "sft": "backdoorlab.training.sft:train_sft",
        "fab": "backdoorlab.training.fab:train_fab",
    },
)

__all__ = ["TRAINERS"]
