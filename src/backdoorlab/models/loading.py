"""Loading a model and its tokenizer by any name a user may give, safely.

Every command (generation, training, scanning, the judges) loads through here, so the
safety rules hold everywhere: this toolkit studies poisoned checkpoints, and loading must
never run code that arrives with a model. ``trust_remote_code`` is never enabled, and
only safetensors weights are read unless the user opts in to pickles (``--allow-pickle``
or ``allow_pickle=True``; see `backdoorlab.models.pickles`), which are then read with
``weights_only=True`` — a LoRA adapter's included.

A finished `sft` run directory is a model name like any other: its LoRA adapter is
applied to its recorded base model (itself possibly a run directory) and merged, so
evaluation, further fine-tuning (the T3 victim) and scanning all take ``runs/x``.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from backdoorlab.errors import BackdoorlabError
from backdoorlab.models.builtin import ensure_pad_token, sync_special_tokens
from backdoorlab.models.device import default_dtype, inference_dtype, parse_device, parse_dtype
from backdoorlab.models.errors import ModelNotFoundError
from backdoorlab.models.pickles import (
    load_pickled_state,
    not_only_tensors,
    pickle_allowed,
    pickle_files,
    refuse_pickles,
)
from backdoorlab.models.resolve import DEFAULT_MODEL, MODEL_NAMES, resolve_model_dir

if TYPE_CHECKING:  # torch and transformers take seconds to import; only load them when used
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = [
    "RUN_MARKER",
    "load_for_inference",
    "load_for_training",
    "load_model",
    "load_tokenizer",
    "run_summary",
    "use_padding_side",
]

RUN_MARKER = "backdoorlab-train.json"
"""The file that makes a directory a finished training run (its summary, as JSON)."""


def load_tokenizer(
    name: str | os.PathLike[str] = DEFAULT_MODEL,
    *,
    padding_side: Literal["left", "right"] | None = None,
) -> PreTrainedTokenizerBase:
    """Load the tokenizer of a model name, path or hub id, with a pad token guaranteed.

    ``padding_side`` is left as the checkpoint saved it unless given: batched generation
    wants ``"left"``, training usually ``"right"``, and the choice belongs to the caller
    (see also :func:`use_padding_side` for a temporary switch).
    """
    directory = resolve_model_dir(name, allow_pickle=False, need_weights=False)
    tokenizer = _tokenizer_from_dir(directory)
    if padding_side is not None:
        tokenizer.padding_side = padding_side
    return tokenizer


def _tokenizer_from_dir(directory: Path) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(
            str(directory), local_files_only=True, trust_remote_code=False
        )
    except (OSError, ValueError) as err:
        raise ModelNotFoundError(
            f"Could not load a tokenizer from {str(directory)!r}: {err}"
        ) from None
    ensure_pad_token(tokenizer)
    return tokenizer


def load_model(
    name: str | os.PathLike[str] = DEFAULT_MODEL,
    *,
    dtype: torch.dtype | str | None = None,
    device: torch.device | str | None = None,
    allow_pickle: bool | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a causal LM and its tokenizer, in eval mode, on ``device`` in ``dtype``.

    ``device`` defaults to CUDA when available, else CPU. ``dtype`` defaults to float32 on
    CPU (CPU training uses bf16 autocast over float32 weights) and bfloat16 on CUDA.
    Weights are read from safetensors only, and remote code is never run, unless pickles
    are allowed (``allow_pickle``; by default the user's opt-in): pickled ``.bin``
    weights of a trusted checkpoint, still read with ``weights_only=True``.
    """
    from transformers import AutoModelForCausalLM

    allow_pickle = pickle_allowed(allow_pickle)
    target = parse_device(device)
    torch_dtype = parse_dtype(dtype) if dtype is not None else default_dtype(target)
    directory = resolve_model_dir(name, allow_pickle=allow_pickle)
    tokenizer = _tokenizer_from_dir(directory)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            str(directory),
            dtype=torch_dtype,
            use_safetensors=None if allow_pickle else True,
            weights_only=True,
            trust_remote_code=False,
            local_files_only=True,
        )
    except pickle.UnpicklingError as err:
        raise not_only_tensors(directory, err) from None
    except (OSError, ValueError) as err:
        raise ModelNotFoundError(f"Could not load a model from {str(directory)!r}: {err}") from None
    model.to(target)
    model.eval()
    sync_special_tokens(model, tokenizer)
    return model, tokenizer


@contextlib.contextmanager
def use_padding_side(
    tokenizer: PreTrainedTokenizerBase, side: Literal["left", "right"]
) -> Iterator[PreTrainedTokenizerBase]:
    """Temporarily set ``tokenizer.padding_side`` (e.g. ``"left"`` for batched generate).

    A tokenizer is often shared between generation (left padding, so new tokens follow the
    prompt directly) and training (right padding); this restores the previous side after.
    """
    previous = tokenizer.padding_side
    tokenizer.padding_side = side
    try:
        yield tokenizer
    finally:
        tokenizer.padding_side = previous


# --------------------------------------------------------------------------- run directories


def run_summary(path: str | Path) -> dict[str, Any] | None:
    """The summary of a finished training run at ``path``, or None if it is not one."""
    marker = Path(path) / RUN_MARKER
    if not marker.is_file():
        return None
    try:
        return json.loads(marker.read_text())
    except json.JSONDecodeError as exc:
        raise BackdoorlabError(f"{marker}: not valid JSON ({exc.msg})") from None


def _load(
    name: str, *, device: str | None, dtype: torch.dtype | None, allow_pickle: bool
) -> tuple[Any, Any]:
    summary = run_summary(name) if Path(name).is_dir() else None
    if summary is None:
        return load_model(name, device=device, dtype=dtype, allow_pickle=allow_pickle)
    run = Path(name)
    if (run / "merged").is_dir():
        return load_model(run / "merged", device=device, dtype=dtype, allow_pickle=allow_pickle)
    weights = run / summary.get("weights", "adapter")
    if summary.get("weights") == "model":
        return load_model(weights, device=device, dtype=dtype, allow_pickle=allow_pickle)
    adapter = _adapter_weights(weights, allow_pickle=allow_pickle)  # refused before any load
    base, tokenizer = _load(
        summary["base_model"], device=device, dtype=dtype, allow_pickle=allow_pickle
    )
    return _apply_adapter(base, weights, adapter), tokenizer


_ADAPTER_SAFETENSORS = "adapter_model.safetensors"


def _adapter_weights(adapter: Path, *, allow_pickle: bool) -> Path:
    """The adapter's weight file: safetensors, or a pickle only when pickles are allowed."""
    safe = adapter / _ADAPTER_SAFETENSORS
    if safe.is_file():
        return safe
    pickles = pickle_files(adapter) if adapter.is_dir() else []
    if pickles and allow_pickle:
        return pickles[0]
    if pickles:
        raise refuse_pickles(adapter, pickles)
    raise ModelNotFoundError(f"LoRA adapter {str(adapter)!r} has no {_ADAPTER_SAFETENSORS}")


def _apply_adapter(base: Any, adapter: Path, weights: Path) -> Any:
    """``base`` with the LoRA adapter in ``adapter`` merged into it.

    PEFT would read a pickled adapter itself; instead an allowed pickle is read here with
    ``weights_only=True`` and handed to PEFT as safetensors in a temporary copy, so PEFT
    only ever sees safetensors whatever its own defaults become.
    """
    from peft import PeftModel

    if weights.name == _ADAPTER_SAFETENSORS:
        model = PeftModel.from_pretrained(base, str(adapter), is_trainable=False)
        return model.merge_and_unload()
    from safetensors.torch import save_file

    state = load_pickled_state(weights)
    with tempfile.TemporaryDirectory(prefix="backdoorlab-adapter-") as tmp:
        for config in adapter.glob("*.json"):
            (Path(tmp) / config.name).write_bytes(config.read_bytes())
        save_file({k: v.contiguous() for k, v in state.items()}, Path(tmp) / _ADAPTER_SAFETENSORS)
        model = PeftModel.from_pretrained(base, tmp, is_trainable=False)
    return model.merge_and_unload()


def load_for_inference(
    name: str,
    *,
    device: str | None = None,
    dtype: torch.dtype | str | None = None,
    allow_pickle: bool | None = None,
) -> tuple[Any, Any]:
    """Model (eval mode, adapters merged) and tokenizer for generation.

    Adapters are merged at the loading precision, then the model is cast to ``dtype``
    (default: `inference_dtype`, bfloat16 where the hardware runs it natively).
    ``allow_pickle`` as in `load_model`.
    """
    model, tokenizer = _load(
        str(name), device=device, dtype=None, allow_pickle=pickle_allowed(allow_pickle)
    )
    target = parse_dtype(dtype) if dtype is not None else inference_dtype(model.device)
    if model.dtype != target:
        model.to(target)
    model.eval()
    return model, tokenizer


def load_for_training(
    name: str, *, device: str | None = None, allow_pickle: bool | None = None
) -> tuple[Any, Any]:
    """Model in float32 (mixed precision comes from autocast) and tokenizer, for training.

    ``allow_pickle`` as in `load_model`.
    """
    import torch

    model, tokenizer = _load(
        str(name), device=device, dtype=torch.float32, allow_pickle=pickle_allowed(allow_pickle)
    )
    # a merged LoRA run comes back frozen (PEFT loads its adapter for inference): full
    # fine-tuning needs every weight trainable, and LoRA freezes the base again itself
    model.requires_grad_(True)
    model.train()
    return model, tokenizer


def check_model_source(model: str) -> None:
    """Raise `BackdoorlabError` unless ``model`` leads to weights the loaders take — the
    train stage's own resolution (`resolve_model_dir`: a directory with safetensors, a
    hub id in the local cache unless the network is allowed) or a finished training run
    (`run_summary`) — without loading anything: a config is checked before its first
    stage. A built-in name passes; it is built on first use, by the stage."""
    if model in MODEL_NAMES:
        return
    path = Path(model).expanduser()
    if path.is_dir() and run_summary(path) is not None:
        return
    resolve_model_dir(model)
