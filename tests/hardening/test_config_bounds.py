"""Config values a user can get wrong fail when the config is built, with the field's path.

Each case below was accepted, or failed only after collection, poisoning or a model
load, before the settings were bounded (issue 21): ``lora_r: 1e9`` asked for a 256 GB
tensor, ``collect.n: 1e15`` drew tasks until memory ran out, ``epochs: 1e300`` and
``max_steps: 1e12`` scheduled runs that never end, ``--optimizer nosuchopt`` and an
unknown schedule were refused by transformers after the model loaded, and a bad
``eval.split``, ``device`` or ``lora_dropout`` gave tracebacks.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from backdoorlab.config import ConfigError
from backdoorlab.errors import BackdoorlabError
from backdoorlab.experiment import load_config

BASE = {
    "name": "x",
    "model": "tiny",
    "collect": {"n": 4},
    "attack": {"name": "data-poisoning", "rate": 0.5},
    "train": {"epochs": 1},
    "eval": {"n": 2},
    "baseline": False,
}


def _with(path: str, value: object) -> dict:
    """BASE with the dotted ``path`` set to ``value`` (``grid.train.epoch`` is a grid key)."""
    config = yaml.safe_load(yaml.safe_dump(BASE))
    if path.startswith("grid."):
        config["grid"] = {path.removeprefix("grid."): value}
        return config
    *head, last = path.split(".")
    node = config
    for part in head:
        node = node.setdefault(part, {})
    node[last] = value
    return config


CASES = [
    ("train.epochs", "ten", "valid number"),
    ("train.learning_rate", "fast", "valid number"),
    ("attack.rat", 0.5, "unknown setting"),
    ("grid.train.epoch", [1], "unknown setting"),
    ("eval.n", "two", "valid integer"),
    ("grid.collect.nn", [1], "unknown setting"),
    ("eval.n", -5, "greater than 0"),
    ("collect.n", 10**15, "less than or equal to 1000000"),
    ("train.epochs", 1e300, "less than or equal to 10000"),
    ("train.epochs", float("inf"), "finite number"),
    ("train.learning_rate", float("nan"), "finite number"),
    ("train.lora_r", 10**9, "less than or equal to 8192"),
    ("train.max_steps", 10**12, "less than or equal to 10000000"),
    ("train.optimizer", "nosuchopt", "unknown optimizer 'nosuchopt'"),
    ("train.lr_scheduler", "nosuch", "unknown learning-rate schedule 'nosuch'"),
    ("train.lora_dropout", 5.0, "less than 1"),
    ("train.warmup_ratio", 7.0, "less than or equal to 1"),
    ("train.device", "tpu9", "unknown device 'tpu9'"),
    ("train.seed", -1, "greater than or equal to 0"),
    ("train.epochs", True, "expected a number, not a boolean"),
    ("eval.split", "bogus", "'train' or 'test'"),
    ("eval.placement", "bogus", "placement must be one of user, observation"),
    ("eval.max_new_tokens", 10**9, "less than or equal to 1048576"),
    ("eval.lookup_tokens", 32, "less than or equal to 31"),
    ("eval.lookup_tokens", -1, "greater than or equal to 0"),
    ("attack.rate", float("nan"), "finite number"),
    ("attack.secrets", ["ssn"], "Input should be"),
    ("grid.train.lora_r", [16, 10**9], "less than or equal to 8192 \\(got 1000000000\\)"),
]


@pytest.mark.parametrize(
    ("path", "value", "message"), CASES, ids=[f"{p}={v!r}" for p, v, _ in CASES]
)
def test_bad_values_are_refused_with_their_path(tmp_path, path, value, message) -> None:
    file = tmp_path / "c.yaml"
    file.write_text(yaml.safe_dump(_with(path, value)))
    where = re.escape(path) + r"(\.\d+)?"  # a list's item: its index too
    with pytest.raises(ConfigError, match=f"field '{where}': .*{message}") as caught:
        load_config(file)
    assert "\n" not in str(caught.value)


def test_a_grid_too_large_to_check_is_refused_before_its_cells_are_listed(tmp_path) -> None:
    keys = ("train.seed", "eval.seed", "collect.seed", "attack.seed")
    config = BASE | {"grid": {key: list(range(100)) for key in keys}}
    file = tmp_path / "c.yaml"
    file.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match="field 'grid': 100000000 cells, more than 10000"):
        load_config(file)


def test_shipped_configs_are_within_bounds() -> None:
    from pathlib import Path

    for path in sorted(Path(__file__).parents[2].glob("configs/*.yaml")):
        load_config(path)


def test_train_optimizer_is_refused_before_the_model_loads(monkeypatch, capsys, tmp_path) -> None:
    from backdoorlab.cli import main

    def no_training(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("training started")

    monkeypatch.setattr("backdoorlab.training.sft.train_sft", no_training)
    for option, value, message in [
        ("--optimizer", "nosuchopt", "field 'optimizer': unknown optimizer 'nosuchopt'"),
        ("--lora-r", "1000000000", "field 'lora_r': Input should be less than or equal to 8192"),
        ("--set", "lr_scheduler=nosuch", "field 'lr_scheduler': unknown learning-rate schedule"),
        ("--set", "device=tpu9", "field 'device': unknown device 'tpu9'"),
        ("--set", "lora_dropout=5", "field 'lora_dropout': Input should be less than 1"),
    ]:
        argv = ["backdoorlab", "train", "--data", str(tmp_path / "t.jsonl"), "-o", str(tmp_path)]
        monkeypatch.setattr("sys.argv", [*argv, option, value])
        with pytest.raises(SystemExit) as exit_:
            main()
        err = capsys.readouterr().err.strip()
        assert exit_.value.code == 2, err
        assert err == f"error: training config: {message}" or err.startswith(
            f"error: training config: {message}"
        ), err
        assert "\n" not in err


def test_optimizer_names_are_checked_without_importing_transformers() -> None:
    """The experiment YAML's check must stay under 2 s: transformers (with torch) alone
    takes longer to import than that."""
    script = (
        "import sys\n"
        "from backdoorlab.training.sft import SFTRunConfig\n"
        "from backdoorlab.training.fab.config import FABConfig\n"
        "from backdoorlab.defenses.scan.config import CanarySetting\n"
        "for make in (lambda: SFTRunConfig(optimizer='nosuch'),\n"
        "             lambda: FABConfig(lr_scheduler='nosuch'),\n"
        "             lambda: CanarySetting(name='c', optimizer='nosuch')):\n"
        "    try:\n        make()\n    except Exception as e:\n        print(e)\n"
        "SFTRunConfig(optimizer='sgd', lr_scheduler='linear')\n"
        "print(sorted(m for m in ('torch', 'transformers', 'trl') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=dict(os.environ)
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stderr
    assert "unknown optimizer 'nosuch'" in lines[0]
    assert "unknown learning-rate schedule 'nosuch'" in lines[1]
    assert "unknown optimizer 'nosuch'" in lines[2]
    assert lines[-1] == "[]"


def test_the_kept_names_are_the_installed_transformers_names() -> None:
    """After a transformers upgrade: ``python -m backdoorlab.training.transformers_names``."""
    from backdoorlab.training import transformers_names as names

    if names.installed_version() != names.VERSION:
        pytest.skip(f"names kept for transformers {names.VERSION}; the check reads them anew")
    assert names.read_names() == (names.OPTIMIZERS, names.SCHEDULERS)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        ("EvalConfig(n=10**15)", "field 'n'"),
        ("EvalConfig(split='dev')", "field 'split'"),
        ("ProbeConfig(env='mars')", "field 'env': unknown environment 'mars'"),
        ("ScanConfig(lora_r=10**9)", "field 'lora_r'"),
        ("ScanConfig(canary_traces=10**12)", "field 'canary_traces'"),
        ("CanarySetting(name='c', learning_rate=1e300)", "field 'learning_rate'"),
        ("MonitorConfig(threshold=float('nan'))", "field 'threshold'"),
        ("GenerationConfig(max_new_tokens=10**9)", "field 'max_new_tokens'"),
        ("GenerationConfig(top_p=2)", "field 'top_p'"),
        ("FABConfig(inner_steps=10**9)", "field 'inner_steps'"),
        ("FABConfig(device='gpu')", "field 'device'"),
        ("EnvPoisoningConfig(n=10**15)", "field 'n'"),
        ("FinetuneActivatedConfig(steps=10**12)", "field 'training.steps'"),
        ("SupplyChainSpec(victim_multiples=[1e300])", "field 'victim_multiples.0'"),
    ],
)
def test_python_built_configs_are_bounded_too(build: str, message: str) -> None:
    from backdoorlab.attacks.env_poisoning import EnvPoisoningConfig  # noqa: F401
    from backdoorlab.attacks.finetune_activated import FinetuneActivatedConfig  # noqa: F401
    from backdoorlab.defenses.monitor import MonitorConfig  # noqa: F401
    from backdoorlab.defenses.probes import ProbeConfig  # noqa: F401
    from backdoorlab.defenses.scan.config import CanarySetting, ScanConfig  # noqa: F401
    from backdoorlab.evaluation import EvalConfig  # noqa: F401
    from backdoorlab.experiment.spec import SupplyChainSpec  # noqa: F401
    from backdoorlab.policies.hf import GenerationConfig  # noqa: F401
    from backdoorlab.training.fab.config import FABConfig  # noqa: F401

    with pytest.raises(BackdoorlabError, match=message):
        eval(build)
