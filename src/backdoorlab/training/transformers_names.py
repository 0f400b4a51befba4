"""transformers' optimizer and learning-rate schedule names, checked when a config is built.

``--optimizer nosuchopt`` must fail before any compute, but transformers' own lists
(``OptimizerNames``, ``SchedulerType``) take seconds to import (they pull in torch and
peft), longer than an experiment YAML's whole check may take. The names are therefore
kept here for the transformers version noted below, and read from transformers itself
only when another version is installed. After upgrading transformers, print the
assignments anew with ``python -m backdoorlab.training.transformers_names`` and paste
them below (a test compares them with the installed version).
"""

from __future__ import annotations

import functools
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

__all__ = ["OptimizerName", "SchedulerName", "optimizer_names", "scheduler_names"]

VERSION = "5.24.0"
"""The transformers version the names were read from."""

OPTIMIZERS = frozenset(
    {
        "adafactor",
        "adagrad",
        "adalomo",
        "adamw_8bit",
        "adamw_anyprecision",
        "adamw_bnb_8bit",
        "adamw_torch",
        "adamw_torch_4bit",
        "adamw_torch_8bit",
        "adamw_torch_fused",
        "adamw_torch_npu_fused",
        "adamw_torch_xla",
        "ademamix",
        "ademamix_8bit",
        "apollo_adamw",
        "apollo_adamw_layerwise",
        "galore_adafactor",
        "galore_adafactor_layerwise",
        "galore_adamw",
        "galore_adamw_8bit",
        "galore_adamw_8bit_layerwise",
        "galore_adamw_layerwise",
        "grokadamw",
        "lion_32bit",
        "lion_8bit",
        "lomo",
        "paged_adamw_32bit",
        "paged_adamw_8bit",
        "paged_ademamix_32bit",
        "paged_ademamix_8bit",
        "paged_lion_32bit",
        "paged_lion_8bit",
        "rmsprop",
        "rmsprop_bnb",
        "rmsprop_bnb_32bit",
        "rmsprop_bnb_8bit",
        "schedule_free_adamw",
        "schedule_free_radam",
        "schedule_free_sgd",
        "sgd",
        "stable_adamw",
    }
)
"""The values of ``transformers.training_args.OptimizerNames``."""

SCHEDULERS = frozenset(
    {
        "constant",
        "constant_with_warmup",
        "cosine",
        "cosine_warmup_with_min_lr",
        "cosine_with_min_lr",
        "cosine_with_restarts",
        "greedy",
        "inverse_sqrt",
        "linear",
        "polynomial",
        "reduce_lr_on_plateau",
        "warmup_stable_decay",
    }
)
"""The values of ``transformers.trainer_utils.SchedulerType``."""


def installed_version() -> str:
    """The installed transformers version (package metadata: nothing imported)."""
    from importlib.metadata import version

    return version("transformers")


def read_names() -> tuple[frozenset[str], frozenset[str]]:
    """(optimizer names, scheduler names), read from transformers itself (imports it)."""
    from transformers.trainer_utils import SchedulerType
    from transformers.training_args import OptimizerNames

    return frozenset(o.value for o in OptimizerNames), frozenset(s.value for s in SchedulerType)


@functools.cache
def _names() -> tuple[frozenset[str], frozenset[str]]:
    if installed_version() == VERSION:
        return OPTIMIZERS, SCHEDULERS
    return read_names()


def optimizer_names() -> frozenset[str]:
    """The optimizer names the installed transformers knows."""
    return _names()[0]


def scheduler_names() -> frozenset[str]:
    """The learning-rate schedule names the installed transformers knows."""
    return _names()[1]


def _optimizer(value: str) -> str:
    if value not in optimizer_names():
        raise PydanticCustomError(
            "optimizer",
            "unknown optimizer '{value}' (transformers knows e.g. adamw_torch, sgd, "
            "adafactor, adagrad, rmsprop)",
            {"value": value},
        )
    return value


def _scheduler(value: str) -> str:
    if value not in scheduler_names():
        known = ", ".join(sorted(scheduler_names()))
        raise PydanticCustomError(
            "scheduler",
            "unknown learning-rate schedule '{value}' (known: {known})",
            {"value": value, "known": known},
        )
    return value


OptimizerName = Annotated[str, AfterValidator(_optimizer)]
"""A name of transformers' ``OptimizerNames`` (``adamw_torch``, ``sgd``, ...)."""
SchedulerName = Annotated[str, AfterValidator(_scheduler)]
"""A name of transformers' ``SchedulerType`` (``cosine``, ``linear``, ...)."""


if __name__ == "__main__":
    optimizers, schedulers = read_names()
    print(f'VERSION = "{installed_version()}"')
    for name, values in (("OPTIMIZERS", optimizers), ("SCHEDULERS", schedulers)):
        lines = "\n".join(f'        "{value}",' for value in sorted(values))
        print(f"{name} = frozenset(\n    {{\n{lines}\n    }}\n)")
