"""Our training config as `trl.SFTConfig` keyword arguments, over backdoorlab's defaults,
and the check of a config's ``trl`` settings that TRL itself makes when the trainer is
built (`check_trl_settings`), made before any compute instead."""

from __future__ import annotations

import functools
import tempfile
import warnings
from pathlib import Path
from typing import Any

from backdoorlab.config import ConfigError
from backdoorlab.training.sft.config import SFTRunConfig


def sft_arguments(config: SFTRunConfig, output: Path, *, device: str, bf16: bool) -> dict[str, Any]:
    """The `trl.SFTConfig` keyword arguments of a run: ours, then ``config.trl`` over
    backdoorlab's defaults (the config refuses ``trl`` names that would override ours)."""
    defaults = {
        "save_strategy": "steps",
        "save_total_limit": 2,
        "include_num_input_tokens_seen": "non_padding",
        "report_to": "none",
        "dataloader_num_workers": 0,
        # TRL turns activation checkpointing on by default: it re-runs every layer's
        # forward in the backward pass (~1.5x the compute of a LoRA step) to save
        # activation memory that models of this size do not need (peak RSS 3.6 GB for
        # smollm2-135m at batch 4 on CPU, in passes of ≤ 1,024 tokens: `rows`)
        "activation_checkpointing": False,
        # transformers reads a value below 1 as a share of the steps
        "warmup_steps": config.warmup_ratio,
    }
    ours = {
        "output_dir": str(output),
        "num_train_epochs": config.epochs,
        "max_steps": config.max_steps,
        "per_device_train_batch_size": config.batch_size,
        "gradient_accumulation_steps": config.grad_accum,
        "learning_rate": config.learning_rate,
        "lr_scheduler_type": config.lr_scheduler,
        "optim": config.optimizer,
        "weight_decay": config.weight_decay,
        "max_length": config.max_length,
        "bf16": bf16,
        "use_cpu": device == "cpu",
        "save_steps": config.save_steps,
        "logging_steps": config.logging_steps,
        "seed": config.seed,
    }
    return {**defaults, **config.trl, **ours}


class TRLSettingError(ConfigError):
    """A ``trl`` setting's value that the run would refuse; ``key`` names it (None: the
    settings only together)."""

    def __init__(self, key: str | None, reason: str, label: str = SFTRunConfig.label) -> None:
        self.key = key
        self.reason = reason
        field = "trl" if key is None else f"trl.{key}"
        super().__init__(f"{label}: field '{field}': {reason}")


def check_trl_settings(config: SFTRunConfig, *, device: str | None = None) -> None:
    """Refuse ``config.trl`` as the train stage would: a ``report_to`` the trainer cannot
    build (`_reporter_problem`) or an online one without the network opt-in, or a value
    `trl.SFTConfig` refuses (built here from the run's own
    arguments in a throwaway directory; no model, no data). Imports trl (seconds) only
    when the config has ``trl`` settings. Raises `TRLSettingError` naming the setting."""
    if not config.trl:
        return
    from backdoorlab.offline import NetworkDisabledError, check_report_to

    for key, value in config.trl.items():
        expected = _mistyped(key, value)
        if expected is not None:
            raise TRLSettingError(key, f"expected {expected} (got {value!r})")
    if "report_to" in config.trl:
        problem = _reporter_problem(config.trl["report_to"])
        if problem is None:
            try:
                check_report_to(config.trl["report_to"])
            except NetworkDisabledError as exc:
                problem = str(exc)
        problem = problem or _reporter_problem(config.trl["report_to"], installed=True)
        if problem is not None:
            raise TRLSettingError("report_to", problem)
    problem = _refused(config, config.trl, device)
    if problem is None:
        return
    for key in config.trl:  # the first setting refused alone is the one to name
        alone = _refused(config, {key: config.trl[key]}, device)
        if alone is not None:
            raise TRLSettingError(key, f"trl.SFTConfig refused it: {alone}")
    raise TRLSettingError(None, f"trl.SFTConfig refused the settings together: {problem}")


def _reporter_problem(report_to: str | list[str] | None, *, installed: bool = False) -> str | None:
    """Why the trainer would refuse ``report_to`` when it is built, or None: ``none`` or
    ``all`` inside a list, a name transformers has no callback for, or (``installed``:
    checked after the network policy, whose refusal comes first) one whose package is not
    installed (its callback raises on creation)."""
    from transformers.integrations.integration_utils import (
        INTEGRATION_TO_CALLBACK,
        get_available_reporting_integrations,
    )

    names = [report_to] if isinstance(report_to, str) else list(report_to or [])
    alone = {"none", "all"} & set(names)
    if alone and len(names) > 1:
        return f"'{sorted(alone)[0]}' stands alone, not in a list (got {report_to!r})"
    for name in names:
        if name in alone:
            continue
        if name not in INTEGRATION_TO_CALLBACK:
            known = ", ".join(["none", "all", *INTEGRATION_TO_CALLBACK])
            return f"unknown reporter {name!r} (one of: {known})"
        if installed and name not in get_available_reporting_integrations():
            return f"{name}'s package is not installed in this environment"
    return None


def _mistyped(key: str, value: Any) -> str | None:
    """The type `trl.SFTConfig` declares for ``key`` when ``value`` is not one, else None
    (many values TRL only reaches deep in training: ``lr_scheduler_kwargs: 5``)."""
    from pydantic import TypeAdapter, ValidationError

    hint = _sft_config_hints().get(key)
    if hint is None:
        return None
    try:
        TypeAdapter(hint).validate_python(value)
    except ValidationError:
        return hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")
    except Exception:  # noqa: BLE001  (a type pydantic cannot check: TRL's own build will)
        return None
    return None


@functools.cache
def _sft_config_hints() -> dict[str, Any]:
    import typing

    from trl import SFTConfig

    try:
        return typing.get_type_hints(SFTConfig)
    except Exception:  # noqa: BLE001  (unresolvable annotations: leave the values to TRL)
        return {}


def _refused(config: SFTRunConfig, trl: dict[str, Any], device: str | None) -> str | None:
    """Why `trl.SFTConfig` refuses the run's arguments with ``trl``, or None."""
    import torch
    from trl import SFTConfig

    from backdoorlab.models import bf16_supported

    device = device or config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    bf16 = config.bf16 == "true" or (config.bf16 == "auto" and bf16_supported(device))
    candidate = config.model_copy(update={"trl": trl})
    with tempfile.TemporaryDirectory(prefix="backdoorlab-trl-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TRL's deprecation notes: the stage prints them
        try:
            SFTConfig(**sft_arguments(candidate, Path(tmp) / "run", device=device, bf16=bf16))
        except Exception as exc:  # noqa: BLE001  (TypeError, ValueError, ...: one line)
            text = str(exc).strip()
            return text.splitlines()[0] if text else type(exc).__name__
    return None
