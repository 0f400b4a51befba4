"""`finetune-activated`'s ``training`` section given as something other than a mapping.

The config folds flat trainer settings (``model``, ``steps``, … as the CLI and the
experiment YAMLs give them) into ``training``; the merge assumed ``training`` was a
mapping, so ``--set training=[1]`` or ``training: [1]`` in an experiment YAML crashed
with a TypeError traceback (and ``training: []``, ``0`` or ``""`` were silently taken as
an empty section). Each is now the field's own validation error, one line, exit 2.
"""

from __future__ import annotations

import pytest
import yaml

from backdoorlab.cli import main
from backdoorlab.errors import BackdoorlabError

NOT_MAPPINGS = ["[1]", "5", '""', "[]", "x"]


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Collecting traces or training fails the test: the refusal comes first."""
    from backdoorlab.attacks.finetune_activated import FinetuneActivated

    def tripped(*args: object, **kwargs: object) -> None:
        pytest.fail("the attack started")

    monkeypatch.setattr(FinetuneActivated, "run", tripped)
    monkeypatch.setattr("backdoorlab.attacks.finetune_activated.collect_fab_traces", tripped)


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def _main(monkeypatch, capsys, *argv: str) -> tuple[int, str]:  # noqa: ANN001
    monkeypatch.setattr("sys.argv", ["backdoorlab", *argv])
    monkeypatch.setenv("COLUMNS", "300")
    with pytest.raises(SystemExit) as exit_:
        main()
    return exit_.value.code, capsys.readouterr().err


@pytest.mark.parametrize("value", NOT_MAPPINGS)
def test_set_training_not_a_mapping_is_one_line_exit_2(
    value, tmp_path, monkeypatch, capsys, no_work
):
    argv = ["attack", "finetune-activated", "--model", "tiny", "-o", str(tmp_path / "out")]
    code, err = _main(monkeypatch, capsys, *argv, "--set", f"training={value}")
    assert code == 2, err
    line = _one_line(err)
    assert "field 'training'" in line and "valid dictionary" in line, line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", [[1], 5, "", [], "x"])
def test_config_training_not_a_mapping_names_the_field(value):
    from backdoorlab.attacks.finetune_activated import FinetuneActivatedConfig

    with pytest.raises(BackdoorlabError, match="field 'training': .*valid dictionary"):
        FinetuneActivatedConfig.load({"model": "tiny", "steps": 1, "training": value})


def test_training_left_empty_still_takes_the_flat_settings():
    from backdoorlab.attacks.finetune_activated import FinetuneActivatedConfig

    cfg = FinetuneActivatedConfig.load({"model": "tiny", "steps": 3, "training": None})
    assert cfg.training.model == "tiny" and cfg.training.steps == 3


EXPERIMENT = {
    "name": "t4",
    "model": "tiny",
    "collect": {"n": 4},
    "attack": {"name": "finetune-activated", "n": 3, "steps": 1, "training": [1]},
    "train": {"max_steps": 1, "batch_size": 2, "grad_accum": 1},
    "eval": {"n": 2, "max_steps": 1, "max_new_tokens": 4},
    "grid": {},
}


def test_experiment_training_not_a_mapping_names_the_field(tmp_path):
    from backdoorlab.experiment import load_config

    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(EXPERIMENT))
    with pytest.raises(BackdoorlabError, match="field 'attack.training': .*valid dictionary"):
        load_config(path)


def test_run_with_training_not_a_mapping_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(EXPERIMENT))
    run_dir = tmp_path / "run"
    code, err = _main(monkeypatch, capsys, "run", str(path), "--run-dir", str(run_dir))
    assert code == 2, err
    line = _one_line(err)
    assert str(path) in line and "field 'attack.training'" in line, line
    assert not run_dir.exists()
