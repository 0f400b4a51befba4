"""Pickled weights: refused unless the user opts in, and read as data even then.

A pickle (``pytorch_model.bin``, ``adapter_model.bin``, ``*.pt``) can run code when it
is unpickled, and this toolkit loads checkpoints from people it does not trust. So only
safetensors weights load by default. The opt-in is for a checkpoint the user trusts:
``--allow-pickle`` on the commands that take a model, ``BACKDOORLAB_ALLOW_PICKLE=1`` in
the environment, or ``allow_pickle=True`` in Python. Even then a pickle is read with
``torch.load(weights_only=True)``, which restores tensors and plain containers only and
refuses anything that would call code.

The CLI option works through the environment variable (`allowing_pickles`), so every
loader below it, and any process it starts, sees the same choice without each function
signature on the way carrying it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backdoorlab.environ import environment_set
from backdoorlab.models.errors import PickleRefusedError

if TYPE_CHECKING:
    import torch

__all__ = [
    "PICKLE_ENV",
    "PICKLE_OPT_IN",
    "PICKLE_PATTERNS",
    "allowing_pickles",
    "load_pickled_state",
    "pickle_allowed",
    "pickle_files",
    "refuse_pickles",
]

PICKLE_ENV = "BACKDOORLAB_ALLOW_PICKLE"
"""Set to 1 to accept pickled weights where a model has no safetensors."""

PICKLE_OPT_IN = f"--allow-pickle ({PICKLE_ENV}=1, allow_pickle=True in Python)"
"""How error messages name the opt-in."""

PICKLE_PATTERNS = ["*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl"]
"""Weight files that are pickles (or zip archives holding one)."""

_TRUE = {"1", "true", "yes", "on"}


def pickle_allowed(explicit: bool | None = None) -> bool:
    """The caller's explicit choice, else the environment's (read on every call)."""
    if explicit is not None:
        return explicit
    return os.environ.get(PICKLE_ENV, "").strip().lower() in _TRUE


@contextlib.contextmanager
def allowing_pickles() -> Iterator[None]:
    """Within the block, pickled weights are accepted (read with ``weights_only=True``)."""
    with environment_set(PICKLE_ENV, "1"):
        yield


def pickle_files(directory: Path) -> list[Path]:
    """The pickled weight files directly in ``directory``."""
    return [p for pattern in PICKLE_PATTERNS for p in sorted(directory.glob(pattern))]


def refuse_pickles(directory: Path, pickles: list[Path]) -> PickleRefusedError:
    """The one-line error for a directory whose weights are pickles only."""
    names = ", ".join(p.name for p in pickles)
    return PickleRefusedError(
        f"{str(directory)!r} has no *.safetensors weights, only pickled ones ({names}); "
        f"pickles can run code when loaded: pass {PICKLE_OPT_IN} only if you trust this "
        "checkpoint, or convert it to safetensors"
    )


def not_only_tensors(path: Path, error: BaseException) -> PickleRefusedError:
    """The one-line error for a pickle that ``weights_only=True`` refused to read."""
    reason = next((line for line in str(error).splitlines() if "Unsupported" in line), "")
    reason = reason.strip() or type(error).__name__
    return PickleRefusedError(
        f"{path}: the pickle holds more than tensors, so it is not loaded (it could run "
        f"code; torch.load weights_only=True refused it: {reason})"
    )


def load_pickled_state(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from a pickle, read with ``weights_only=True``, or a one-line error."""
    import torch

    try:
        state: Any = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise not_only_tensors(path, err) from None
    except (RuntimeError, EOFError, OSError, ValueError) as err:  # truncated, not a pickle
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise PickleRefusedError(f"{path}: not a readable pickle of tensors ({first})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise PickleRefusedError(f"{path}: not a state dict of tensors")
    return state
