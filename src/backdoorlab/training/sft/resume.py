"""An `sft` run directory's inputs: what may change when it resumes, and ``--fresh``.

The checks themselves are the trainers' common ones (`backdoorlab.training.resume`);
this module says what they are for `train_sft`: its inputs (one dataset, the base model,
the `SFTRunConfig`), the settings a resume may change, the files its run writes.
"""

from __future__ import annotations

import glob
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backdoorlab.digests import file_sha256
from backdoorlab.errors import BackdoorlabError
from backdoorlab.models import RUN_MARKER
from backdoorlab.training.resume import Plan, RunInputs, check_run, discard_run, prepare_run
from backdoorlab.training.sft.config import SFTRunConfig

RESUMABLE = frozenset(
    {
        "epochs",
        "max_steps",
        "save_steps",
        "logging_steps",
        "merge",
        "compile",
        "share_prefix",
        "matmul_attention",
        "fused_lora",
        "pass_tokens",
        "device",
        "bf16",
    }
)
"""Settings a resumed run may change: how long it trains, how often it saves and logs,
what it writes at the end and where it runs. Any other change is another run."""

PRODUCTS = ("adapter", "model", "merged")
"""The directories a run writes besides its checkpoints."""


def run_inputs(config: SFTRunConfig, data: str | Path) -> RunInputs:
    """What a run of ``config`` on ``data`` trains on (hashes the data and base model)."""
    from backdoorlab.models.identity import model_digest

    return RunInputs(
        data_sha256={"data": data_sha256(data)},
        base_model=config.model,
        base_model_sha256=model_digest(config.model),
        config=config.model_dump(),
    )


def data_sha256(data: str | Path) -> str:
    """The digest of what ``data`` names: a file's SHA-256; a folder of agents' logs (read
    a session a trace: `trace_files`) its digest as a lineage records it (its files'
    names and digests, `provenance.layout.combine`), a glob's the same of its matches."""
    from backdoorlab.trace_files import is_many

    if not is_many(data):
        return file_sha256(data)
    from backdoorlab.provenance.layout import artifact_digest, combine

    if Path(data).is_dir():
        return artifact_digest(Path(data))
    found = (Path(p) for p in sorted(glob.glob(str(data), recursive=True)))
    return combine({str(p): file_sha256(p) for p in found if p.is_file()})


def plan_run(
    config: SFTRunConfig, inputs: RunInputs, output: Path, log: Callable[[str], None] | None
) -> Plan:
    """Check ``output`` for a run of ``inputs`` and record them (`prepare_run`)."""
    return prepare_run(
        output,
        inputs,
        marker=RUN_MARKER,
        may_change=RESUMABLE,
        duration=("epochs", "max_steps"),
        planned_steps=config.max_steps if config.max_steps > 0 else None,
        need_optimizer=not config.trl.get("save_only_model", False),
        log=log,
    )


def finished_run(
    config: SFTRunConfig, data: str | Path, output_dir: str | Path
) -> dict[str, Any] | None:
    """The record of ``output_dir`` if it is a run of ``config`` on ``data`` that finished
    (cheap when it is not one: nothing is hashed without a record to compare with)."""
    output = Path(output_dir)
    if not (output / RUN_MARKER).is_file():
        return None
    try:
        inputs = run_inputs(config, data)
        return check_run(output, inputs, marker=RUN_MARKER, may_change=RESUMABLE)[1]
    except (BackdoorlabError, OSError):
        return None  # not this run, or no data: train_sft says why


def discard_sft_run(output_dir: str | Path) -> bool:
    """Delete the run in ``output_dir`` (``train --fresh``); whether there was one."""
    return discard_run(Path(output_dir), marker=RUN_MARKER, products=PRODUCTS)
