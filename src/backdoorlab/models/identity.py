"""`model_digest`: what a model name stands for, as a content digest.

A training run records the digest of its base model, so that resuming it on another
model (another path, a directory whose weights were replaced, a run directory trained
again) is refused instead of mixing two models' checkpoints. The digest follows a name
the way `backdoorlab.models.loading` loads it:

- a built-in name (``tiny``, ``smollm2-135m``): the name and its cache's recipe record
  (the cache is rebuilt whenever its recipe changes, so the weights follow from it);
- a directory or hub id: every file a model is made of (weights, configs, tokenizer),
  by name and SHA-256 — a hub cache's weights are links to blobs named by their SHA-256
  already, which is used as is;
- a finished training run directory: its run record, the weights it would load, and
  the digest of its own base model (a LoRA run is nothing without it).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from backdoorlab.digests import file_sha256
from backdoorlab.models.loading import RUN_MARKER, run_summary
from backdoorlab.models.resolve import MODEL_NAMES, resolve_model_dir

_MODEL_FILES = (".safetensors", ".bin", ".json", ".jinja", ".txt", ".model", ".tiktoken")
"""What a model directory is made of (`resolve`'s hub patterns, and pickled weights when
allowed); README.md is not."""

_BLOB = re.compile(r"^[0-9a-f]{64}$")

__all__ = ["model_digest"]


def model_digest(name: str | os.PathLike[str]) -> str:
    """The SHA-256 hex digest identifying the model ``name`` loads (see the module doc)."""
    digest = hashlib.sha256()
    for part in _parts(os.fspath(name)):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _parts(name: str) -> list[str]:
    path = Path(name)
    summary = run_summary(path) if name not in MODEL_NAMES and path.is_dir() else None
    if summary is None:
        directory = resolve_model_dir(name)
        if name in MODEL_NAMES:
            return [f"built-in:{name}", *_files(directory, only=("backdoorlab-model.json",))]
        return ["directory", *_files(directory)]
    parts = ["run", file_sha256(path / RUN_MARKER)]
    if (path / "merged").is_dir():
        return [*parts, *_files(path / "merged")]
    weights = path / str(summary.get("weights", "adapter"))
    parts += _files(weights)
    if summary.get("weights") != "model":
        parts += _parts(str(summary.get("base_model")))
    return parts


def _files(directory: Path, only: tuple[str, ...] = ()) -> list[str]:
    out = []
    for file in sorted(directory.iterdir()):
        if not file.is_file() or (only and file.name not in only):
            continue
        if not only and not file.name.endswith(_MODEL_FILES):
            continue
        target = Path(os.path.realpath(file))
        blob = target.name if _BLOB.match(target.name) else None
        out.append(f"{file.name}={blob or file_sha256(file)}")
    return out
