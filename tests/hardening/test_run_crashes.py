"""SIGKILL at every point of `backdoorlab run`, then a rerun: the results of an uninterrupted run.

The kills form a chain: the run killed at one point is rerun with the next point armed,
so every rerun starts from what a kill left (a ``.partial`` directory, a temp file, a
checkpoint, a stage renamed but not yet in the table) and the last, unarmed, run must
finish exactly as the uninterrupted reference did — same table, same ``done.json``
(timings aside), same traces, same trained weights. One chain costs about one run of
the experiment plus a process start per point (about a minute and a half on a busy
2-core machine).
"""

from __future__ import annotations

import shutil
import signal

import pytest
from experiment_runs import (
    TINY_T4,
    copy_of,
    reference,
    run,
    snapshot,
    stage_snapshot,
    workdir,
)

POINTS = [
    "run:locked",
    *(f"collect:{p}" for p in ("start", "during", "built", "marked", "renamed")),
    *(f"poison:{p}" for p in ("start", "built", "marked", "renamed")),
    *(f"train:{p}" for p in ("start", "during", "built", "marked", "renamed")),
    *(f"eval:{p}" for p in ("start", "marked", "renamed")),  # built: as collect, poison
    "results:csv",
]


def test_a_run_killed_at_every_point_in_turn_ends_as_an_uninterrupted_one(tmp_path_factory):
    expected = snapshot(reference(tmp_path_factory) / "run")
    cwd = workdir(tmp_path_factory.mktemp("killed"))
    for point in POINTS:
        killed = run(cwd, fault=point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
    finished = run(cwd)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert snapshot(cwd / "run") == expected
    assert not list((cwd / "run").rglob("*.partial")) and not list((cwd / "run").rglob("*.tmp"))


def test_a_publish_stage_killed_at_every_point_in_turn_ends_as_an_uninterrupted_one(tmp_path):
    """T4's publish stage: the FAB trainer's checkpoints, its provenance. Every run stops
    once the stage is in place (``publish:renamed``): what follows is the T1 pipeline."""
    reference_dir = workdir(tmp_path / "reference", TINY_T4)
    assert run(reference_dir, fault="publish:renamed").returncode == -signal.SIGKILL
    (expected,) = (reference_dir / "run" / "stages").glob("publish-*")
    cwd = workdir(tmp_path / "killed", TINY_T4)
    for point in ("start", "during", "built", "marked", "renamed"):
        killed = run(cwd, fault=f"publish:{point}")
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
    (published,) = (cwd / "run" / "stages").glob("publish-*")
    assert stage_snapshot(published) == stage_snapshot(expected)
    assert not list((cwd / "run").rglob("*.partial"))


@pytest.mark.parametrize(
    ("gone", "computed"),
    [
        (["train-*/model", "eval-*"], 2),  # a train stage without its model, not evaluated
        (["eval-*/clean.jsonl"], 1),  # an evaluation without its traces
    ],
)
def test_a_stage_whose_outputs_are_gone_is_built_again(tmp_path_factory, gone, computed):
    """The race of two runs (before the lock) left a train stage with ``done.json`` and no
    ``model/``; every rerun then failed with "model path does not exist"."""
    cwd = copy_of(tmp_path_factory, "gone")
    expected = snapshot(cwd / "run")
    for pattern in gone:
        (path,) = (cwd / "run" / "stages").glob(pattern)
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    rerun = run(cwd)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"stages computed: {computed}, reused: {4 - computed}" in rerun.stderr
    assert snapshot(cwd / "run") == expected


def test_leftover_partial_directories_are_cleared(tmp_path_factory):
    cwd = copy_of(tmp_path_factory, "leftovers")
    stages = cwd / "run" / "stages"
    for name in ("collect-0123456789ab.partial", "train-0123456789ab.partial"):
        (stages / name / "model").mkdir(parents=True)
        (stages / name / "model" / "half.bin").write_bytes(b"\0" * 10)
    (cwd / "run" / ".metrics.json.x1y2.tmp").write_text("[")
    rerun = run(cwd)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "stages computed: 0" in rerun.stderr
    assert not list(stages.glob("*.partial")) and not list((cwd / "run").glob(".*.tmp"))
