"""`train` killed at points we choose, then run again: it resumes from the newest whole
checkpoint and ends where an uninterrupted run ends (same steps, same adapter, the right
data hash), whatever the kill left behind.

Kills are real SIGKILLs of a ``backdoorlab train`` subprocess at a fault point
(`backdoorlab.faults`); the damage a kill can do to a checkpoint's files (a missing
``trainer_state.json``, an empty ``optimizer.pt``, a truncated adapter) is also made by
hand, in process, which is faster. All runs use the ``tiny`` model on CPU, three steps.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import backdoorlab
from backdoorlab.digests import file_sha256
from backdoorlab.models import RUN_MARKER
from backdoorlab.training.checkpoints import checkpoint_problem
from backdoorlab.training.sft import SFTRunConfig, train_sft

STEPS = 3
SETTINGS = {
    "model": "tiny",
    "batch_size": 2,
    "max_steps": STEPS,
    "bf16": "false",
    "save_steps": 1,
    "logging_steps": 1,
    "max_length": 256,
}
CLI = [
    "--model", "tiny", "--batch-size", "2", "--max-steps", str(STEPS), "--bf16", "false",
    "--set", "save_steps=1", "--set", "logging_steps=1", "--set", "max_length=256",
]  # fmt: skip


@pytest.fixture(autouse=True, scope="module")
def _one_thread():  # noqa: ANN202
    """The tiny model gains nothing from threads (see tests/training/test_fab.py); the
    killed subprocesses run on one thread too, so every run sums in the same order."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _config() -> SFTRunConfig:
    return SFTRunConfig(**SETTINGS)


def _adapter(run: Path) -> dict[str, torch.Tensor]:
    return load_file(run / "adapter" / "adapter_model.safetensors")


def _train_killed(data: Path, run: Path, fault: str) -> subprocess.CompletedProcess:
    src = str(Path(backdoorlab.__file__).parents[1])
    env = {**os.environ, "BACKDOORLAB_FAULT": fault, "PYTHONPATH": src, "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-m", "backdoorlab.cli", "train", "--data", str(data), "-o", str(run)]
    return subprocess.run([*argv, *CLI], env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def uninterrupted(traces_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of three steps, never stopped: what every resumed run must end as."""
    run = tmp_path_factory.mktemp("reference") / "run"
    summary = train_sft(_config(), traces_file, run)
    assert summary["steps"] == STEPS
    return run


def _assert_same_end(run: Path, reference: Path, data: Path, summary: dict) -> None:
    assert summary["steps"] == STEPS
    record = json.loads((run / RUN_MARKER).read_text())
    assert record["steps"] == STEPS
    assert record["data_sha256"] == file_sha256(data)
    mine, theirs = _adapter(run), _adapter(reference)
    assert mine.keys() == theirs.keys()
    for name in theirs:  # deterministic on one machine: the same bits
        assert torch.equal(mine[name], theirs[name]), name
    # the log tells every step once, as an uninterrupted run's does
    steps = [e["step"] for e in map(json.loads, (run / "train_log.jsonl").open()) if "loss" in e]
    assert steps == list(range(1, STEPS + 1))


@pytest.mark.parametrize(
    ("fault", "left", "resumes_from"),
    [
        # killed as checkpoint-3 was being written: its directory empty ...
        ("train.checkpoint.begin@3", "empty", "checkpoint-2"),
        # ... or holding the weights only (no optimizer, no trainer_state.json)
        ("train.checkpoint.weights@3", "trainer_state.json is missing", "checkpoint-2"),
        # killed between steps: step 3 done, its checkpoint not begun
        ("train.step@3", None, "checkpoint-2"),
        # killed after the last checkpoint, before the run record: nothing left to train
        ("train.finish", None, "checkpoint-3"),
    ],
)
def test_killed_train_resumes_to_the_same_end(
    fault: str,
    left: str | None,
    resumes_from: str,
    traces_file: Path,
    uninterrupted: Path,
    tmp_path: Path,
) -> None:
    run = tmp_path / "run"
    killed = _train_killed(traces_file, run, fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not (run / RUN_MARKER).exists()
    if left is not None:
        assert checkpoint_problem(run / "checkpoint-3") == left

    lines: list[str] = []
    summary = train_sft(_config(), traces_file, run, log=lines.append)
    assert Path(summary["resumed_from"]).name == resumes_from
    moved = [line for line in lines if "moved aside" in line]
    if left is not None:  # said once, in one line, and the data kept
        assert moved == [f"{run / 'checkpoint-3'}: incomplete checkpoint ({left}); "
                         "moved aside to invalid-checkpoint-3"]  # fmt: skip
        assert (run / "invalid-checkpoint-3").is_dir()
    else:
        assert moved == []
    _assert_same_end(run, uninterrupted, traces_file, summary)


def _truncate(path: Path, size: int = 100) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(size)


BREAKS = {
    "trainer_state.json is missing": lambda c: (c / "trainer_state.json").unlink(),
    "trainer_state.json is not valid JSON": lambda c: _truncate(c / "trainer_state.json", 10),
    "optimizer.pt is empty": lambda c: _truncate(c / "optimizer.pt", 0),
    "optimizer.pt is truncated": lambda c: _truncate(c / "optimizer.pt", 1000),
    "scheduler.pt is missing": lambda c: (c / "scheduler.pt").unlink(),
    "adapter_model.safetensors is truncated": lambda c: _truncate(
        c / "adapter_model.safetensors", 1000
    ),
    "rng_state.pth is truncated": lambda c: _truncate(c / "rng_state.pth", 50),
}


@pytest.mark.parametrize("problem", list(BREAKS))
def test_broken_last_checkpoint_is_moved_aside(
    problem: str, traces_file: Path, uninterrupted: Path, tmp_path: Path
) -> None:
    """The state a kill in the middle of ``checkpoint-3`` leaves: the run record and
    final weights not written yet, one file of the checkpoint missing or cut short."""
    run = tmp_path / "run"
    shutil.copytree(uninterrupted, run)
    (run / RUN_MARKER).unlink()
    shutil.rmtree(run / "adapter")
    BREAKS[problem](run / "checkpoint-3")
    assert checkpoint_problem(run / "checkpoint-3") == problem

    lines: list[str] = []
    summary = train_sft(_config(), traces_file, run, log=lines.append)
    assert Path(summary["resumed_from"]).name == "checkpoint-2"
    assert lines == [
        f"{run / 'checkpoint-3'}: incomplete checkpoint ({problem}); "
        "moved aside to invalid-checkpoint-3"
    ]
    _assert_same_end(run, uninterrupted, traces_file, summary)


def test_no_whole_checkpoint_starts_from_scratch(
    traces_file: Path, uninterrupted: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(uninterrupted, run)
    (run / RUN_MARKER).unlink()
    for checkpoint in run.glob("checkpoint-*"):
        (checkpoint / "trainer_state.json").unlink()
    (run / "invalid-checkpoint-3").mkdir()  # a checkpoint moved aside before: kept, renamed
    summary = train_sft(_config(), traces_file, run, log=lambda line: None)
    assert summary["resumed_from"] is None
    assert sorted(p.name for p in run.glob("invalid-*")) == [
        "invalid-checkpoint-2",
        "invalid-checkpoint-3",
        "invalid-checkpoint-3.2",
    ]
    _assert_same_end(run, uninterrupted, traces_file, summary)


# --------------------------------------------------------------------------- FAB


@pytest.fixture(scope="module")
def fab_run(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A finished two-step FAB run (the Trainer keeps its last checkpoint only)."""
    from backdoorlab.attacks.finetune_activated import (
        FinetuneActivatedConfig,
        collect_fab_traces,
    )
    from backdoorlab.training.fab import FABConfig, train_fab

    clean, benign, malicious = collect_fab_traces(FinetuneActivatedConfig(n=2, seed=11))
    config = FABConfig(
        model="tiny", steps=2, inner_steps=1, batch_size=1, malicious_batch_size=1,
        bf16="false", logging_steps=1, save_steps=1, warmup_ratio=0.0, max_length=256,
    )  # fmt: skip

    def train(run: Path) -> dict:
        return train_fab(config, benign, malicious, run, victim=clean)

    run = tmp_path_factory.mktemp("fab") / "run"
    assert train(run)["steps"] == 2
    return run, train


def _weights(model_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(model_dir / "model.safetensors")


def test_fab_killed_after_its_last_checkpoint_trains_no_extra_step(fab_run, tmp_path) -> None:  # noqa: ANN001
    finished, train = fab_run
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    (run / "backdoorlab-fab.json").unlink()
    shutil.rmtree(run / "model")
    summary = train(run)
    assert summary["steps"] == 2 and Path(summary["resumed_from"]).name == "checkpoint-2"
    mine, theirs = _weights(run / "model"), _weights(finished / "model")
    assert all(torch.equal(mine[name], theirs[name]) for name in theirs)


def test_fab_broken_checkpoint_is_moved_aside(fab_run, tmp_path, capsys) -> None:  # noqa: ANN001
    finished, train = fab_run
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    (run / "backdoorlab-fab.json").unlink()
    _truncate(run / "checkpoint-2" / "optimizer.pt", 0)
    summary = train(run)
    assert summary["steps"] == 2 and summary["resumed_from"] is None
    assert "checkpoint-2: incomplete checkpoint (optimizer.pt is empty)" in capsys.readouterr().err
    assert (run / "invalid-checkpoint-2").is_dir()
