"""`attack finetune-activated` under a hostile user: what a sweep of its paths found
(each case failed before its fix).

- ``-o`` naming the ``--model`` directory published the attacked model over the one it
  started from; ``--run-dir`` naming it (or ``--reference``'s) filled a model directory with
  traces and ``checkpoint-N`` directories, after which it loaded as a run directory.
- ``-o D --run-dir D`` said "another training is writing there; wait for it to finish",
  of the command's own lock.
- A ``--model`` or ``--reference`` that leads to no weights was found only after the
  attacker's traces were collected (and, for ``--reference``, the first model loaded),
  leaving ``<output>.fab-run`` behind with the traces in it.
- ``--help`` showed the ``--set`` example as ``victim_optimizers=``: Rich took
  ``[adamw,sgd]`` for markup.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bad_input import one_line

from backdoorlab.cli import main


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Collecting traces or loading a model fails the test: every refusal comes first."""
    from backdoorlab.attacks.finetune_activated import FinetuneActivated

    def tripped(*args: object, **kwargs: object) -> None:
        pytest.fail("the attack started before its paths were refused")

    monkeypatch.setattr(FinetuneActivated, "run", tripped)
    monkeypatch.setattr("backdoorlab.attacks.finetune_activated.collect_fab_traces", tripped)


def _model(d: Path, name: str = "base") -> Path:
    """A local model directory as the resolver sees one (nothing reads its weights here)."""
    model = d / name
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "model.safetensors").write_bytes(b"not really weights")
    return model


def _attack(monkeypatch, capsys, *argv: str) -> tuple[int, str]:  # noqa: ANN001
    monkeypatch.setattr("sys.argv", ["backdoorlab", "attack", "finetune-activated", *argv])
    monkeypatch.setenv("COLUMNS", "300")
    with pytest.raises(SystemExit) as exit_:
        main()
    return exit_.value.code, capsys.readouterr().err


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*"))


@pytest.mark.parametrize(
    ("option", "where", "flag"),
    [
        ("--model", "-o", "-o"),
        ("--model", "--run-dir", "--run-dir"),
        ("--reference", "-o", "-o"),
        ("--reference", "--run-dir", "--run-dir"),
    ],
)
def test_writing_into_the_model_the_attack_reads_is_refused(
    option, where, flag, tmp_path, monkeypatch, capsys, no_work
):
    model = _model(tmp_path)
    models = ["--model", str(model)] if option == "--model" else ["--reference", str(model)]
    if option == "--reference":
        models += ["--model", "tiny"]
    # another spelling of the same directory: found through the file system, not the text
    same = str(tmp_path / "." / "base") + "/"
    paths = ["-o", same] if where == "-o" else ["-o", str(tmp_path / "pub"), "--run-dir", same]
    before = _files(tmp_path)
    code, err = _attack(monkeypatch, capsys, *models, *paths)
    assert code == 2, err
    one_line(err, f"is the {option} directory", f"choose another {flag}")
    assert _files(tmp_path) == before


def test_the_built_in_models_cache_is_no_output(tmp_path, monkeypatch, capsys, no_work):
    monkeypatch.setenv("BACKDOORLAB_CACHE", str(tmp_path / "cache"))
    cached = tmp_path / "cache" / "models" / "tiny"
    code, err = _attack(monkeypatch, capsys, "--model", "tiny", "-o", str(cached))
    assert code == 2, err
    one_line(err, str(cached), "is the --model directory")


def test_one_directory_for_o_and_run_dir_is_named_as_such(tmp_path, monkeypatch, capsys, no_work):
    out = tmp_path / "pub"
    code, err = _attack(
        monkeypatch, capsys, "--model", "tiny", "-o", str(out), "--run-dir", f"{out}/"
    )
    assert code == 2, err
    one_line(err, "-o and --run-dir name one directory")
    assert "another training" not in err
    assert not out.exists()


@pytest.mark.parametrize("option", ["--model", "--reference"])
def test_a_model_without_weights_is_refused_before_the_traces_are_collected(
    option, tmp_path, monkeypatch, capsys, no_work
):
    missing = str(tmp_path / "nope")
    models = [option, missing] + (["--model", "tiny"] if option == "--reference" else [])
    code, err = _attack(monkeypatch, capsys, *models, "-o", str(tmp_path / "pub"))
    assert code == 2, err
    one_line(err, f"{option}: ", missing)
    assert list(tmp_path.iterdir()) == []  # no pub.fab-run with the attacker's traces


def test_a_model_given_with_set_is_checked_too(tmp_path, monkeypatch, capsys, no_work):
    missing = str(tmp_path / "nope")
    code, err = _attack(monkeypatch, capsys, "--set", f"model={missing}", "-o", str(tmp_path / "p"))
    assert code == 2, err
    one_line(err, "--model: ", missing)


def test_the_help_shows_the_set_example_whole(monkeypatch, capsys) -> None:
    monkeypatch.setenv("COLUMNS", "1000")
    monkeypatch.setattr("sys.argv", ["backdoorlab", "attack", "finetune-activated", "--help"])
    with pytest.raises(SystemExit):
        main()
    assert "victim_optimizers=[adamw,sgd]" in capsys.readouterr().out


@pytest.mark.parametrize("flag", ["-o", "--run-dir"])
def test_a_path_that_is_not_utf8_is_refused_before_the_training(
    flag, tmp_path, monkeypatch, capsys, no_work
):
    """The tokenizer's writer (Rust) takes UTF-8 paths only: it raised UnicodeEncodeError
    once the training was done, the published model half written."""
    odd = os.fsdecode(bytes(tmp_path) + b"/p\xff")
    paths = ["-o", odd] if flag == "-o" else ["-o", str(tmp_path / "p"), "--run-dir", odd]
    code, err = _attack(monkeypatch, capsys, "--model", "tiny", *paths)
    assert code == 2, err
    one_line(err, "a path that is not UTF-8", f"choose another {flag}")
    assert list(tmp_path.iterdir()) == []


def test_set_training_as_a_whole_wins_over_the_options(tmp_path, monkeypatch, capsys) -> None:
    """--set is applied after the options, so it wins over them: a whole ``training``
    mapping did not (the options' values, defaults included, were folded over it)."""
    from backdoorlab.attacks.finetune_activated import FinetuneActivated
    from backdoorlab.errors import BackdoorlabError

    seen: list = []

    def run(self, output: str, **io) -> None:  # noqa: ANN001, ANN003
        seen.append(self.config)
        raise BackdoorlabError("stopped before the work")

    monkeypatch.setattr(FinetuneActivated, "run", run)
    setting = "training={steps: 3, seed: 7, learning_rate: 0.001}"
    argv = ["--model", "tiny", "-o", str(tmp_path / "p"), "--steps", "5", "--k", "4"]
    code, err = _attack(monkeypatch, capsys, *argv, "--set", setting)
    assert code == 2 and "stopped before the work" in err, err
    (config,) = seen
    assert config.training.steps == 3 and config.training.learning_rate == 0.001
    assert config.training.seed == 7 and config.seed == 1  # the trainer's seed, not the tasks'
    assert config.training.inner_steps == 4  # an option the mapping does not name still holds


@pytest.mark.parametrize("flag", ["-o", "--run-dir"])
def test_a_dash_is_no_directory_to_publish_to(flag, tmp_path, monkeypatch, capsys, no_work):
    """``-`` is standard output to every other command; here it made a directory "-"."""
    monkeypatch.chdir(tmp_path)
    paths = ["-o", "-"] if flag == "-o" else ["-o", "p", "--run-dir", "-"]
    code, err = _attack(monkeypatch, capsys, "--model", "tiny", *paths)
    assert code == 2, err
    one_line(err, f"{flag} -: ", "not standard output")
    assert list(tmp_path.iterdir()) == []
