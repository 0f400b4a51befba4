"""One writer per output directory (`backdoorlab.dirlock`).

Two trainings pointed at one ``-o`` interleaved their checkpoints and resumed from each
other's steps; two evaluations into one ``--traces`` decoded every batch twice and the
first to finish deleted the journal the other wrote to. The second writer now refuses
at once — one line, status 2, before any work — and the first is undisturbed.
"""

from __future__ import annotations

import pytest

from backdoorlab import dirlock
from backdoorlab.policies import make_policy
from backdoorlab.rollout import rollout
from backdoorlab.traces import write_traces


def test_a_held_directory_refuses_a_second_writer_until_released(tmp_path):
    out = tmp_path / "run"
    fd = dirlock.acquire(out, "training", "-o")
    with pytest.raises(dirlock.DirectoryBusy, match=r"run: another training is writing there"):
        dirlock.acquire(out, "training", "-o")
    dirlock.release(fd)
    dirlock.release(dirlock.acquire(out, "training", "-o"))


def test_holding_removes_only_an_empty_directory_it_created(tmp_path):
    with dirlock.holding(tmp_path / "new", "training", "-o"):
        assert (tmp_path / "new").is_dir()
    assert not (tmp_path / "new").exists()  # the writer refused its input: nothing left
    with dirlock.holding(tmp_path / "kept", "training", "-o"):
        (tmp_path / "kept" / "model.safetensors").write_text("weights")
    assert (tmp_path / "kept" / "model.safetensors").is_file()
    (tmp_path / "there").mkdir()
    with dirlock.holding(tmp_path / "there", "training", "-o"):
        pass
    assert (tmp_path / "there").is_dir()  # not created here: never removed


def test_a_second_training_into_a_busy_directory_is_refused(tmp_path, retail, cli):
    data = tmp_path / "traces.jsonl"
    tasks = retail.tasks("train", 2, seed=0)
    write_traces(data, (r.trace for r in rollout(retail, make_policy("oracle"), tasks)))
    out = tmp_path / "run"
    fd = dirlock.acquire(out, "training", "-o")  # a training in progress
    try:
        code, err = cli("train", "--data", str(data), "--model", "tiny", "-o", str(out))
    finally:
        dirlock.release(fd)
    assert code == 2
    assert err.strip() == (
        f"error: {out}: another training is writing there;"
        " wait for it to finish, or choose another -o"
    )
    assert list(out.iterdir()) == []


def test_a_second_fab_run_into_a_busy_run_directory_is_refused(tmp_path, cli):
    out = tmp_path / "dormant"
    work = tmp_path / "dormant.fab-run"
    fd = dirlock.acquire(work, "training", "--run-dir")
    try:
        code, err = cli("attack", "finetune-activated", "--model", "tiny", "-o", str(out))
    finally:
        dirlock.release(fd)
    assert code == 2
    assert err.strip() == (
        f"error: {work}: another training is writing there;"
        " wait for it to finish, or choose another --run-dir"
    )
    assert list(work.iterdir()) == [] and not out.exists()
