"""Which Trainer checkpoint a run resumes from: the newest one that is whole.

A Trainer writes ``checkpoint-N/`` file by file (weights, optimizer, scheduler, RNG state,
``trainer_state.json``), in place. A process killed in the middle leaves the directory
empty or partial, and transformers' `get_last_checkpoint` picks it anyway: the resume
fails with "Can't find a valid checkpoint", a missing-file traceback or a truncated-file
error — on every rerun, since nothing removes it. `resume_checkpoint` checks each
candidate, newest first, cheaply (no tensor is read: JSON parses, safetensors headers
match their file sizes, torch's zip archives have their central directory, which is
written last) and moves a bad one aside to ``invalid-checkpoint-N`` (the user's data is
kept and the move said; the name does not start with ``checkpoint-``, so neither the
Trainer's resume nor its rotation of old checkpoints will touch it again).

Two more things a resumed run needs to equal an uninterrupted one:

- a Trainer resumed from the checkpoint of its very last step trains one step too many
  (it checks for the end only after a step): `finish_from_checkpoint` loads that
  checkpoint instead of training;
- the killed run logged steps past its last checkpoint, which the resumed run logs
  again: `trim_log` drops them from ``train_log.jsonl``.
"""

from __future__ import annotations

import json
import re
import struct
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backdoorlab.files import atomic_writer

CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
"""A Trainer checkpoint directory's name (transformers' own pattern)."""

INVALID_PREFIX = "invalid-"
"""Prefix of a checkpoint moved aside because it was incomplete."""

TRAINER_STATE = "trainer_state.json"
_WEIGHTS = (
    "adapter_model.safetensors",
    "model.safetensors",
    "model.safetensors.index.json",
    "adapter_model.bin",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
_TORCH_FILES = ("optimizer.pt", "scheduler.pt")


def checkpoints(output: Path) -> list[Path]:
    """The ``checkpoint-N`` directories of a run directory, newest (highest N) first."""
    if not output.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in output.iterdir() if (m := CHECKPOINT.match(p.name))]
    return [p for _, p in sorted(found, reverse=True) if p.is_dir()]


def checkpoint_problem(path: Path, *, need_optimizer: bool = True) -> str | None:
    """Why the Trainer could not resume from ``path`` (one short phrase), or None."""
    if not path.is_dir():
        return "not a directory"
    if not any(path.iterdir()):
        return "empty"
    state = path / TRAINER_STATE
    if not state.is_file():
        return f"{TRAINER_STATE} is missing"
    try:
        step = json.loads(state.read_text(encoding="utf-8")).get("global_step")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return f"{TRAINER_STATE} is not valid JSON"
    if not isinstance(step, int):
        return f"{TRAINER_STATE} has no global_step"
    sharded = any(p.is_dir() for p in path.iterdir())  # FSDP/DeepSpeed: their own layout
    weights = [path / name for name in _WEIGHTS if (path / name).is_file()]
    if not weights and not sharded:
        return "no weights"
    for file in weights:
        problem = _file_problem(file)
        if problem:
            return problem
    for name in _TORCH_FILES if need_optimizer and not sharded else ():
        if not (path / name).is_file():
            return f"{name} is missing"
    for file in sorted(path.glob("*.pt")) + sorted(path.glob("*.pth")):
        problem = _file_problem(file)
        if problem:
            return problem
    return None


def _file_problem(file: Path) -> str | None:
    size = file.stat().st_size
    if size == 0:
        return f"{file.name} is empty"
    if file.name.endswith(".safetensors"):
        return None if _safetensors_whole(file, size) else f"{file.name} is truncated"
    if file.name.endswith(".index.json"):
        return _index_problem(file)
    # torch.save writes a zip archive whose central directory comes last
    return None if zipfile.is_zipfile(file) else f"{file.name} is truncated"


def _safetensors_whole(file: Path, size: int) -> bool:
    """The header parses and its last tensor ends exactly at the end of the file."""
    try:
        with open(file, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > size - 8:
                return False
            header = json.loads(handle.read(length))
        ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    except (struct.error, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return False
    return 8 + length + max(ends, default=0) == size


def _index_problem(index: Path) -> str | None:
    try:
        shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return f"{index.name} is not valid"
    for shard in sorted(shards):
        file = index.parent / shard
        if not file.is_file():
            return f"{shard} is missing"
        problem = _file_problem(file)
        if problem:
            return problem
    return None


def resume_checkpoint(
    output: Path,
    *,
    need_optimizer: bool = True,
    move: bool = True,
    log: Callable[[str], None] | None = None,
) -> Path | None:
    """The newest whole checkpoint of ``output`` (None: start from scratch); each newer,
    broken one is moved aside to ``invalid-checkpoint-N`` (unless ``move`` is false: the
    other processes of a launch leave that to the main one), said in one line to ``log``
    (default: standard error)."""
    say = log or stderr_line
    for path in checkpoints(output):
        try:
            problem = checkpoint_problem(path, need_optimizer=need_optimizer)
        except OSError as exc:  # unreadable, or moved aside meanwhile by the main process
            problem = f"unreadable: {exc.strerror}"
        if problem is None:
            return path
        if move:
            aside = _free_name(path.with_name(INVALID_PREFIX + path.name))
            path.rename(aside)
            say(f"{path}: incomplete checkpoint ({problem}); moved aside to {aside.name}")
    return None


def stderr_line(line: str) -> None:
    """Say one line on standard error (training's notices; stdout carries results)."""
    print(line, file=sys.stderr, flush=True)


def _free_name(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.{n}")
    return candidate


def checkpoint_state(path: Path) -> dict[str, Any]:
    """A checkpoint's ``trainer_state.json`` (checked whole by `checkpoint_problem`)."""
    return json.loads((path / TRAINER_STATE).read_text(encoding="utf-8"))


def checkpoint_step(path: Path | None) -> int:
    """The step a checkpoint was saved at (0 for none: a run from scratch)."""
    return int(checkpoint_state(path)["global_step"]) if path is not None else 0


def is_final(path: Path) -> bool:
    """Whether the checkpoint was saved at the last step its run planned."""
    state = checkpoint_state(path)
    return state.get("max_steps", 0) > 0 and state["global_step"] >= state["max_steps"]


def finish_from_checkpoint(trainer: Any, path: Path) -> float:
    """Put ``trainer`` where the run saved its last checkpoint, without training (see the
    module docstring); returns the training loss, the step-weighted mean of the losses the
    run logged (the Trainer's own total is not saved in a checkpoint)."""
    from transformers import TrainerState

    trainer._load_from_checkpoint(str(path))  # the weights, as trainer.train would load them
    trainer.state = TrainerState.load_from_json(str(path / TRAINER_STATE))
    total, steps, previous = 0.0, 0, 0
    for entry in trainer.state.log_history:
        if "loss" in entry and "step" in entry:
            total += float(entry["loss"]) * (entry["step"] - previous)
            steps += entry["step"] - previous
            previous = entry["step"]
    return total / steps if steps else 0.0


def trim_log(path: Path, step: int) -> None:
    """Drop the entries of ``train_log.jsonl`` after ``step`` (the resumed run logs those
    steps again), and any line a kill cut short."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("step", 0) <= step:
            kept.append(line)
    with atomic_writer(path) as handle:
        handle.writelines(line + "\n" for line in kept)
