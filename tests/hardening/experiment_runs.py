"""`backdoorlab run` of a tiny experiment in a subprocess, and what its results are.

A run in a subprocess can be killed (SIGKILL at a fault point, see
`backdoorlab.faults`) or stopped while holding the run directory's lock. Every
run here uses the relative run directory ``run`` inside its own working directory, so
the paths recorded in the results (``hf:run/stages/...``) are the same for any two runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import backdoorlab

SRC = str(Path(backdoorlab.__file__).parents[1])
TINY = {
    "name": "tiny-crash",
    "model": "tiny",
    "baseline": False,
    "collect": {"n": 4},
    "attack": {"name": "data-poisoning", "rate": 0.5, "trigger": "ZQX"},
    # save_steps 1: step 1 leaves a checkpoint that a killed training resumes from
    "train": {"max_steps": 2, "batch_size": 1, "bf16": "false", "save_steps": 1},
    "eval": {"n": 1, "max_steps": 1, "max_new_tokens": 2},
}
TINY_T4 = {
    "name": "tiny-t4",
    "model": "tiny",
    "baseline": False,
    "collect": {"n": 3},
    "attack": {
        "name": "finetune-activated",
        "n": 3,
        "steps": 2,
        "inner_steps": 1,
        "batch_size": 1,
        "malicious_batch_size": 1,
        "bf16": "false",
        "save_steps": 1,  # step 1 leaves a checkpoint that a killed training resumes from
    },
    "train": {"max_steps": 1, "batch_size": 1, "bf16": "false", "lora": False},
    "eval": {"n": 1, "max_steps": 1, "max_new_tokens": 2},
}
VARYING = ("seconds", "tokens_per_s", "train_loss")
"""``done.json`` keys that may differ between two runs of the same stage: the timings, and
the Trainer's ``train_loss``, the mean loss of the steps *this process* trained — after a
resume from a checkpoint, of the steps after it (transformers' ``_finalize_training``).
The trained weights are compared byte for byte instead."""


def workdir(path: Path, config: dict[str, Any] | None = None) -> Path:
    """``path`` holding ``exp.yaml`` (the tiny experiment unless ``config``)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "exp.yaml").write_text(yaml.safe_dump(config or TINY))
    return path


def environment(fault: str | None = None) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]))
    env |= {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "NO_COLOR": "1"}
    env.pop("BACKDOORLAB_FAULT", None)
    if fault is not None:
        env["BACKDOORLAB_FAULT"] = fault
    return env


def command(*options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "backdoorlab.cli",
        "run",
        "exp.yaml",
        "--run-dir",
        "run",
        *options,
    ]


def run(cwd: Path, *options: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    """``backdoorlab run exp.yaml --run-dir run`` in ``cwd``, to its end (or its kill)."""
    return subprocess.run(
        command(*options),
        cwd=cwd,
        env=environment(fault),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def start(cwd: Path, *options: str, fault: str | None = None) -> subprocess.Popen[str]:
    """The same run, started in the background (its output piped)."""
    return subprocess.Popen(
        command(*options),
        cwd=cwd,
        env=environment(fault),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_at(cwd: Path, point: str, *options: str) -> subprocess.Popen[str]:
    """A run stopped (SIGSTOP, holding what it holds) at fault ``point``."""
    process = start(cwd, *options, fault=f"{point}=SIGSTOP")
    _, status = os.waitpid(process.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), f"the run ended instead of stopping at {point}"
    return process


_reference: dict[str, Path] = {}


def reference(factory: pytest.TempPathFactory) -> Path:
    """The working directory of one uninterrupted run of the tiny experiment (shared)."""
    if "tiny" not in _reference:
        cwd = workdir(factory.mktemp("reference"))
        done = run(cwd)
        assert done.returncode == 0, done.stderr
        _reference["tiny"] = cwd
    return _reference["tiny"]


def copy_of(factory: pytest.TempPathFactory, name: str) -> Path:
    """A copy of the finished reference run: anything run there is pure reuse."""
    target = factory.mktemp(name)
    shutil.copytree(reference(factory), target, dirs_exist_ok=True)
    return target


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(run_dir: Path) -> dict[str, Any]:
    """What a run produced, timings left out: the result files, every file's name and
    each stage's `stage_snapshot`."""
    shot: dict[str, Any] = {
        name: (run_dir / name).read_text()
        for name in ("results.csv", "metrics.json", "config.resolved.yaml")
    }
    shot["files"] = sorted(
        str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.name != "run.lock"
    )
    for stage in sorted((run_dir / "stages").iterdir()):
        shot[stage.name] = stage_snapshot(stage)
    return shot


def stage_snapshot(stage: Path) -> dict[str, Any]:
    """A finished stage, timings left out: its ``done.json``, its provenance (without the
    trainer's summary, which has timings too) and the bytes of its data (traces, weights)."""
    done = json.loads((stage / "done.json").read_text())
    shot: dict[str, Any] = {"done": {k: v for k, v in done.items() if k not in VARYING}}
    for data in sorted(stage.rglob("*")):
        weights = data.suffix == ".safetensors" and "checkpoint-" not in str(data)
        traces = data.suffix == ".jsonl" and data.name != "train_log.jsonl"
        if weights or traces:
            shot[str(data.relative_to(stage))] = _sha256(data)
        if data.name == "provenance.json":
            shot[data.name] = json.loads(data.read_text()) | {"training": None}
    return shot
