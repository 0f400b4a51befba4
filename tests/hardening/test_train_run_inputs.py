"""`train -o DIR` on a directory that already holds a run: the same inputs resume it (or,
finished, leave it alone), other inputs are refused in one line naming what differs,
and ``--fresh`` starts over. Before, another dataset resumed silently and recorded the
new data's hash, and another LoRA rank died in a PEFT size-mismatch traceback.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from backdoorlab.cli import main
from backdoorlab.digests import file_sha256
from backdoorlab.models import RUN_MARKER, resolve_model_dir
from backdoorlab.traces import read_traces, write_traces
from backdoorlab.training.resume import INPUTS, RunMismatchError
from backdoorlab.training.sft import SFTRunConfig, train_sft

SETTINGS = {"model": "tiny", "batch_size": 2, "max_steps": 2, "save_steps": 1, "max_length": 256}


def _config(**changes: object) -> SFTRunConfig:
    return SFTRunConfig(**{**SETTINGS, **changes})


@pytest.fixture(scope="module")
def finished(traces_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("finished") / "run"
    assert train_sft(_config(), traces_file, run)["steps"] == 2
    return run


@pytest.fixture
def run(finished: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(finished, copy)
    return copy


@pytest.fixture(scope="module")
def other_data(traces_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("other") / "other.jsonl"
    write_traces(path, read_traces(traces_file)[:4])
    return path


def _snapshot(run: Path) -> dict[str, float]:
    return {str(p.relative_to(run)): p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file()}


def _cli(monkeypatch, capsys, *argv: str) -> tuple[int, str, str]:  # noqa: ANN001
    monkeypatch.setattr("sys.argv", ["backdoorlab", "train", *argv])
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    return exit_.value.code or 0, out, err


def _cli_args(data: Path, run: Path, *extra: str) -> list[str]:
    return [
        "--data", str(data), "-o", str(run), "--model", "tiny", "--batch-size", "2",
        "--max-steps", "2", "--set", "save_steps=1", "--set", "max_length=256", *extra,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"lora_r": 8}, "lora_r: 16 recorded, 8 given"),
        ({"learning_rate": 5e-4}, "learning_rate: 0.001 recorded, 0.0005 given"),
        ({"seed": 1}, "seed: 0 recorded, 1 given"),
        ({"trl": {"warmup_steps": 2}}, "trl: None recorded, {'warmup_steps': 2} given"),
    ],
)
def test_other_settings_are_refused_in_one_line(
    change: dict, named: str, run: Path, traces_file: Path
) -> None:
    before = _snapshot(run)
    with pytest.raises(RunMismatchError) as refused:
        train_sft(_config(**change), traces_file, run)
    message = str(refused.value)
    assert named in message and "--fresh" in message and "\n" not in message
    assert _snapshot(run) == before  # nothing touched


def test_other_data_is_refused_and_the_record_kept(
    run: Path,
    traces_file: Path,
    other_data: Path,
    monkeypatch,
    capsys,  # noqa: ANN001
) -> None:
    before = _snapshot(run)
    code, out, err = _cli(monkeypatch, capsys, *_cli_args(other_data, run))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "another dataset" in err and "--fresh" in err
    assert f"sha256 {file_sha256(traces_file)[:12]}" in err
    assert _snapshot(run) == before
    assert json.loads((run / RUN_MARKER).read_text())["data_sha256"] == file_sha256(traces_file)


def test_another_base_model_is_refused(run: Path, traces_file: Path, tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(resolve_model_dir("tiny"), base)
    with pytest.raises(RunMismatchError, match=f"base model: 'tiny' recorded, '{base}' given"):
        train_sft(_config(model=str(base)), traces_file, run)
    # the same name, its files changed since the run began
    other = tmp_path / "other"
    train_sft(_config(model=str(base), max_steps=1), traces_file, other)
    config = json.loads((base / "config.json").read_text())
    (base / "config.json").write_text(json.dumps({**config, "rms_norm_eps": 1e-5}))
    with pytest.raises(RunMismatchError, match=f"base model '{base}': its files changed since"):
        train_sft(_config(model=str(base), max_steps=1), traces_file, other)


def test_finished_run_is_not_trained_again(
    run: Path,
    traces_file: Path,
    monkeypatch,
    capsys,  # noqa: ANN001
) -> None:
    before = _snapshot(run)
    code, out, err = _cli(monkeypatch, capsys, *_cli_args(traces_file, run))
    assert code == 0 and out == ""
    assert err == (
        f"{run}: already finished (2 steps); nothing to train (give another -o, or --fresh "
        "to train it again)\n"
    )
    assert _snapshot(run) == before
    # the API (the experiment runner's train stage) gets the record back
    assert train_sft(_config(), traces_file, run, log=print) == json.loads(
        (run / RUN_MARKER).read_text()
    )


def test_fresh_starts_over(
    run: Path,
    other_data: Path,
    monkeypatch,
    capsys,  # noqa: ANN001
) -> None:
    (run / "notes.txt").write_text("mine")
    code, _, err = _cli(monkeypatch, capsys, *_cli_args(other_data, run, "--fresh", "--json"))
    assert code == 0 and f"{run}: discarded the previous run" in err
    record = json.loads((run / RUN_MARKER).read_text())
    assert record["data_sha256"] == file_sha256(other_data) and record["resumed_from"] is None
    assert json.loads((run / INPUTS).read_text())["data_sha256"] == {
        "data": file_sha256(other_data)
    }
    assert (run / "notes.txt").read_text() == "mine"  # not the run's: left alone


def test_fewer_steps_than_done_is_refused(run: Path, traces_file: Path) -> None:
    (run / RUN_MARKER).unlink()
    with pytest.raises(RunMismatchError, match="has trained 2 steps already, 1 asked"):
        train_sft(_config(max_steps=1), traces_file, run)


def test_a_run_without_a_record_is_not_resumed_blindly(run: Path, traces_file: Path) -> None:
    """A run directory written before runs recorded their inputs: nothing to check against."""
    (run / INPUTS).unlink()
    with pytest.raises(RunMismatchError, match="without a record of what it was trained on"):
        train_sft(_config(), traces_file, run)


def test_a_run_stopped_before_its_first_checkpoint_holds_nothing(
    run: Path, other_data: Path
) -> None:
    for path in [run / RUN_MARKER, *run.glob("checkpoint-*")]:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    summary = train_sft(_config(max_steps=1), other_data, run)
    assert summary["steps"] == 1 and summary["data_sha256"] == file_sha256(other_data)
