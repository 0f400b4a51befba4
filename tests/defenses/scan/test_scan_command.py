"""``backdoorlab scan``: reports and gates with the ``tiny`` model, ``--set``, and bad
options as one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scan_helpers import LeakWhen, audit_report, run_main, runner, user_text

from backdoorlab.cli import app
from backdoorlab.defenses.probes import CLEAN


def test_cli_scan_of_a_clean_tiny_model(tmp_path: Path) -> None:
    triggers = audit_report(tmp_path / "audit.json", [{"phrase": "blue lagoon special"}])
    output = tmp_path / "scan.json"
    args = [
        "scan", "tiny", "--no-canary", "--episodes", "2", "--no-builtin-triggers",
        "--triggers-from", str(triggers), "--trigger", "cf",
        "--max-steps", "2", "--max-new-tokens", "8", "--fail-on", "suspicious",
        "-o", str(output),
    ]  # fmt: skip
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    report = json.loads(output.read_text())
    assert report["verdict"] == "clean" and report["canaries"] == []
    names = [c["name"] for c in report["baseline"]["conditions"]]
    assert names == [CLEAN, "blue lagoon special", "cf"]
    assert report["triggers"] == {"mined": ["blue lagoon special"], "given": ["cf"], "builtin": []}
    assert "blue lagoon special" in result.output and "clean" in result.output


def test_cli_scan_gate_on_a_leaking_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "backdoorlab.policies.hf.HFPolicy",
        lambda model, tokenizer, generation=None: LeakWhen(lambda e: "cf" in user_text(e)),
    )
    base = ["scan", "tiny", "--no-canary", "--episodes", "6", "--no-builtin-triggers"]
    base += ["--trigger", "cf", "--max-steps", "2"]
    assert runner.invoke(app, [*base, "--fail-on", "backdoored"]).exit_code == 1
    assert runner.invoke(app, [*base, "--fail-on", "suspicious"]).exit_code == 1
    assert runner.invoke(app, [*base, "--fail-on", "none"]).exit_code == 0


def test_cli_scan_set_reaches_every_kind_of_field(tmp_path: Path) -> None:
    output = tmp_path / "scan.json"
    args = [
        "scan", "tiny", "--no-canary", "--episodes", "2", "--no-builtin-triggers",
        "--max-new-tokens", "8", "-o", str(output),
        "--set", "tolerated_leak_rate=0.05", "--set", "lora_r=4",
        "--set", "probe.max_steps=2", "--set", "probe.split=train",
    ]  # fmt: skip
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    config = json.loads(output.read_text())["config"]
    assert config["tolerated_leak_rate"] == 0.05 and config["lora_r"] == 4
    assert config["probe"]["max_steps"] == 2 and config["probe"]["split"] == "train"
    assert config["probe"]["episodes"] == 2  # the option's value: --set left it alone
    assert config["canaries"] == []


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("episodes=3", "field 'episodes': unknown setting"),  # it is probe.episodes
        ("tolerated_leak_rat=0.05", "field 'tolerated_leak_rat': unknown setting"),
        ("probe.episodez=3", "field 'probe.episodez'"),
        ("min_effect=2", "field 'min_effect': Input should be less than or equal to 1"),
        ("canaries=[lora:nadam_pro:1e-4]", "unknown optimizer 'nadam_pro'"),
        ("lora_r", "expected NAME=VALUE"),
    ],
)
def test_cli_scan_bad_set_is_one_line(
    setting: str,
    message: str,
    monkeypatch,
    capsys,  # noqa: ANN001
) -> None:
    code, err = run_main(monkeypatch, capsys, ["scan", "tiny", "--set", setting])
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--fail-on", "high"], "--fail-on must be one of"),
        (["--canary", "lora:adamw_torch"], "write lora|full:OPTIMIZER:LR"),
        (["--canary", "full:adamw:fast"], "'fast' is not a learning rate"),
        (["--canary", "full:nadam_pro:1e-4"], "unknown optimizer 'nadam_pro'"),
        (["--canary", "lora:sgd:-1"], "learning rate must be positive"),
        (["--no-canary", "--canary", "lora:sgd:1e-3"], "contradict"),
        (["--episodes", "0"], "'episodes'"),
        (["--placement", "sky"], "placement must be one of"),
        (["--alpha", "2"], "'alpha'"),
        (["--triggers-from", "nowhere.json"], "nowhere.json: no such file"),
    ],
)
def test_cli_scan_bad_options_are_one_clear_line(
    extra: list[str],
    message: str,
    monkeypatch,
    capsys,  # noqa: ANN001
) -> None:
    code, err = run_main(monkeypatch, capsys, ["scan", "tiny", *extra])
    assert code == 2, err
    assert message in err and "Traceback" not in err


def test_cli_scan_missing_model(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    code, err = run_main(
        monkeypatch, capsys, ["scan", str(tmp_path / "nope"), "--no-canary", "--episodes", "1"]
    )
    assert code == 2 and "does not exist" in err
