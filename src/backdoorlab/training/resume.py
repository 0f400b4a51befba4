"""Whether a run directory may be resumed with the inputs given now, and from where.

A run records what it trains on before its first step, in ``backdoorlab-inputs.json``
(written atomically): the SHA-256 of its data, the name and digest of its base model
(`backdoorlab.models.identity`) and its whole config. Run again on the same directory,
`prepare_run` compares: the same inputs resume from the newest whole checkpoint (or,
if the run had finished, return its record without training again); anything else is
refused in one line naming what differs — resuming would mix two trainings in one
adapter and record the new data's hash over weights trained on the old (or, for another
LoRA rank, fail deep in PEFT). Settings that only say how long to train or how often to
save and log may change: raising ``max_steps`` continues a run.

``--fresh`` (`discard_run`) is the way to start over in the same directory.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import atomic_writer
from backdoorlab.training.checkpoints import (
    INVALID_PREFIX,
    checkpoint_state,
    checkpoints,
    is_final,
    resume_checkpoint,
)

INPUTS = "backdoorlab-inputs.json"
"""The record of what a run directory is trained on, written before its first step."""

TRAIN_LOG = "train_log.jsonl"


class RunMismatchError(BackdoorlabError):
    """A run directory holds a run of other inputs than those given: it cannot resume."""


@dataclass(frozen=True)
class RunInputs:
    """What a run trains on; two runs with equal inputs (but for ``may_change`` settings)
    can be one run, interrupted and resumed."""

    data_sha256: dict[str, str]
    """Each dataset by role (``data``) → SHA-256 of its file."""
    base_model: str
    """The base model as given."""
    base_model_sha256: str
    """`backdoorlab.models.identity.model_digest` of it."""
    config: dict[str, Any]
    """The trainer config, dumped."""


@dataclass(frozen=True)
class Plan:
    """What `prepare_run` found: a finished run's record, or where to resume from."""

    finished: dict[str, Any] | None = None
    resume_from: Path | None = None
    at_end: bool = False
    """``resume_from`` was saved at the run's last step: finish from it, do not train."""


def is_main_process() -> bool:
    """Whether this is the process of a launch that writes the run directory (the only
    one, or rank 0 of an ``accelerate launch``/``torchrun``; read from their environment,
    as the check runs before the Trainer sets up distributed state)."""
    return os.environ.get("RANK", "0") == "0"


def read_inputs(output: Path) -> dict[str, Any] | None:
    """The inputs record of a run directory, or None when it has none."""
    path = output / INPUTS
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        record = None
    if not isinstance(record, dict) or not all(k in record for k in RunInputs.__annotations__):
        raise RunMismatchError(f"{path}: not a valid record of a run's inputs; {_START_OVER}")
    return record


_START_OVER = "give another -o, or --fresh to discard it and start over"


def _short(digest: object) -> str:
    return f"{str(digest)[:12]}…"


def differences(recorded: dict[str, Any], given: RunInputs, may_change: Iterable[str]) -> list[str]:
    """What differs between a recorded run's inputs and the given ones, one phrase each."""
    out = []
    for role in sorted({*recorded["data_sha256"], *given.data_sha256}):
        before = recorded["data_sha256"].get(role)
        if before != given.data_sha256.get(role):
            out.append(
                f"{role}: another dataset (sha256 {_short(before)} recorded, "
                f"{_short(given.data_sha256.get(role))} given)"
            )
    if recorded["base_model_sha256"] != given.base_model_sha256:
        if recorded["base_model"] == given.base_model:
            out.append(f"base model '{given.base_model}': its files changed since")
        else:
            out.append(
                f"base model: '{recorded['base_model']}' recorded, '{given.base_model}' given"
            )
    skip = set(may_change) | {"model"}  # the model is compared by digest above
    before, now = recorded["config"], given.config
    for key in sorted((set(before) | set(now)) - skip):
        if before.get(key) != now.get(key):
            out.append(f"{key}: {before.get(key)!r} recorded, {now.get(key)!r} given")
    return out


def check_run(
    output: Path, inputs: RunInputs, *, marker: str, may_change: Iterable[str]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Whether ``output`` may hold a run of ``inputs``, without changing anything: its
    inputs record (None for a new run) and, if that run finished with exactly this
    config, its summary; `RunMismatchError` if it holds another run."""
    recorded = read_inputs(output)
    finished = _summary(output / marker)
    saved = finished is not None or bool(checkpoints(output))
    if recorded is not None and not saved:
        return None, None  # a run stopped before its first checkpoint: nothing to keep
    if recorded is None and saved:
        raise RunMismatchError(
            f"{output}: holds a training run without a record of what it was trained on "
            f"({INPUTS}), so resuming it cannot be checked; {_START_OVER}"
        )
    if recorded is None:
        return None, None
    found = differences(recorded, inputs, may_change)
    if found:
        raise RunMismatchError(
            f"{output}: was trained on other inputs — {'; '.join(found)}; {_START_OVER}"
        )
    if finished is not None and finished.get("config") == inputs.config:
        return recorded, finished
    return recorded, None


def prepare_run(
    output: Path,
    inputs: RunInputs,
    *,
    marker: str,
    may_change: Iterable[str],
    duration: Iterable[str],
    planned_steps: int | None = None,
    need_optimizer: bool = True,
    log: Callable[[str], None] | None = None,
) -> Plan:
    """Check ``output`` against ``inputs`` and record them (the main process of a launch
    writes, the others only read: `is_main_process`); see the module docstring.

    ``marker``: the file a finished run writes last. ``may_change``: config keys a resume
    may change; ``duration``: those of them that set the number of steps (a checkpoint
    saved at the last step ends the run only if they did not change). ``planned_steps``:
    the step count the config asks for, when it says so (``max_steps``).
    """
    recorded, finished = check_run(output, inputs, marker=marker, may_change=may_change)
    if finished is not None:
        return Plan(finished=finished)
    same_length = recorded is not None and all(
        recorded["config"].get(k) == inputs.config.get(k) for k in duration
    )
    writer = is_main_process()  # the other processes of a launch only read
    if writer:
        output.mkdir(parents=True, exist_ok=True)
        if recorded != asdict(inputs):
            with atomic_writer(output / INPUTS) as handle:
                json.dump(asdict(inputs), handle, indent=2)
        # a run trained further is not finished until it writes its record again: until
        # then its directory must not pass for a model (its weights may be half replaced)
        (output / marker).unlink(missing_ok=True)
    last = resume_checkpoint(output, need_optimizer=need_optimizer, move=writer, log=log)
    if last is None:
        return Plan()
    done = checkpoint_state(last)["global_step"]
    if not same_length and planned_steps is not None and done >= planned_steps:
        raise RunMismatchError(
            f"{output}: has trained {done} steps already, {planned_steps} asked; {_START_OVER}"
        )
    return Plan(resume_from=last, at_end=same_length and is_final(last))


def _summary(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise RunMismatchError(f"{path}: not valid JSON; {_START_OVER}") from None
    return summary if isinstance(summary, dict) else None


def discard_run(output: Path, *, marker: str, products: Iterable[str]) -> bool:
    """Delete what a training run wrote in ``output`` (checkpoints, records, log and the
    ``products`` directories), so that it starts over; nothing else in the directory is
    touched, and nothing at all unless it holds a run. Returns whether it held one."""
    if not output.is_dir():
        return False
    if os.environ.get("WORLD_SIZE", "1") != "1":
        raise BackdoorlabError(
            "--fresh cannot discard a run under a multi-process launch (the processes would "
            "race); discard it with one process first, or give another -o"
        )
    held = [*checkpoints(output)]
    held += [p for p in output.iterdir() if p.name.startswith(INVALID_PREFIX + "checkpoint-")]
    records = [output / name for name in (INPUTS, marker)]
    if not held and not any(p.is_file() for p in records):
        return False
    for path in [*held, *(output / name for name in products)]:
        if path.is_dir():
            shutil.rmtree(path)
    for path in [*records, output / TRAIN_LOG]:
        path.unlink(missing_ok=True)
    return True
