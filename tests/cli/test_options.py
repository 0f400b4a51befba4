"""The CLI's value sets (shown by --help) are the library's, and a bad value is one line."""

from __future__ import annotations

import re
from typing import get_args

import pytest
from typer.testing import CliRunner

from backdoorlab.cli import app, main
from backdoorlab.cli import options as o

runner = CliRunner()


def test_value_sets_match_the_library() -> None:
    from backdoorlab.attacks.base import ATTACKS
    from backdoorlab.attacks.data_poisoning import DataPoisoningConfig
    from backdoorlab.collect import KEEP
    from backdoorlab.defenses.audit.command import FAIL_ON as AUDIT_FAIL_ON
    from backdoorlab.defenses.scan import FAIL_ON as SCAN_FAIL_ON
    from backdoorlab.envs import ENVIRONMENTS
    from backdoorlab.policies.base import POLICIES
    from backdoorlab.training.fab import VICTIM_MODES
    from backdoorlab.training.sft import SFTRunConfig
    from backdoorlab.triggers import PLACEMENTS

    assert get_args(o.Keep) == tuple(KEEP)
    assert get_args(o.Placement) == PLACEMENTS
    assert get_args(o.Position) == get_args(DataPoisoningConfig.model_fields["position"].annotation)
    assert get_args(o.AuditFailOn) == AUDIT_FAIL_ON
    assert get_args(o.ScanFailOn) == SCAN_FAIL_ON
    assert get_args(o.Victim) == VICTIM_MODES
    assert get_args(o.Bf16) == get_args(SFTRunConfig.model_fields["bf16"].annotation)
    assert set(get_args(o.Env)) == set(ENVIRONMENTS.names())
    assert set(get_args(o.Policy)) == set(POLICIES.names())
    producing_traces = {name for name, cls in ATTACKS.items() if cls.produces == "traces"}
    assert set(get_args(o.DatasetAttack)) == producing_traces


@pytest.mark.parametrize(
    ("command", "option", "shown"),
    [
        ("collect", "--split", "train|test"),
        ("collect", "--env", "retail"),
        ("poison", "--placement", "user|observation"),
        ("poison", "--position", "end|reveal"),
        ("eval", "--placement", "user|observation"),
        ("audit", "--fail-on", "none|low|medium|high"),
        ("scan", "--fail-on", "none|suspicious|backdoored"),
        ("scan", "--device", "cpu|cuda"),
        ("train", "--bf16", "auto|true|false"),
    ],
)
def test_help_lists_the_choices(command: str, option: str, shown: str) -> None:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    pattern = re.compile(rf"│\s*\*?\s*{re.escape(option)}\s")
    line = next(line for line in result.output.splitlines() if pattern.match(line))
    assert shown in line


def test_a_value_outside_the_set_is_one_line_and_exit_2(monkeypatch, capsys) -> None:  # noqa: ANN001
    monkeypatch.setattr("sys.argv", ["backdoorlab", "audit", "x.jsonl", "--fail-on", "severe"])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.strip() == "error: --fail-on must be one of none, low, medium, high, not 'severe'"


def test_version(monkeypatch) -> None:  # noqa: ANN001
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"backdoorlab {version('backdoorlab')}"


@pytest.mark.parametrize(
    "command", [["collect", "-o", "-"], ["eval"], ["scan", "--no-canary"]], ids=lambda c: c[0]
)
def test_the_server_options_reach_the_policy(command: list[str], monkeypatch) -> None:  # noqa: ANN001
    """collect, eval and scan share one definition of --base-url and its settings."""
    from backdoorlab.errors import BackdoorlabError

    seen: dict = {}

    def build(self, **kwargs) -> None:  # noqa: ANN001, ANN003
        seen.update(self.model_dump())
        raise BackdoorlabError("stop before any request")

    monkeypatch.setattr("backdoorlab.policies.spec.PolicySpec.build", build)
    server = ["--base-url", "http://127.0.0.1:9/v1", "--api-key-env", "MY_KEY"]
    limits = ["--concurrency", "3", "--max-retries", "0", "--timeout", "5"]
    result = runner.invoke(app, [*command, "--policy", "openai", "--model", "m", *server, *limits])
    assert isinstance(result.exception, BackdoorlabError), result.output
    assert seen == {
        "name": "openai",
        "model": "m",
        "base_url": "http://127.0.0.1:9/v1",
        "api_key_env": "MY_KEY",
        "concurrency": 3,
        "max_retries": 0,
        "timeout": 5.0,
    }


def test_eval_lookup_tokens_reach_the_policy_and_a_bad_value_is_one_line(
    monkeypatch, capsys
) -> None:  # noqa: ANN001
    from backdoorlab.errors import BackdoorlabError

    seen: dict = {}

    def build(self, **kwargs) -> None:  # noqa: ANN001, ANN003
        seen.update(kwargs)
        raise BackdoorlabError("stop before any episode")

    monkeypatch.setattr("backdoorlab.policies.spec.PolicySpec.build", build)
    result = runner.invoke(app, ["eval", "--model", "tiny", "--lookup-tokens", "0"])
    assert isinstance(result.exception, BackdoorlabError), result.output
    assert seen["lookup_tokens"] == 0
    seen.clear()
    argv = ["backdoorlab", "eval", "--model", "tiny", "--lookup-tokens", "40"]
    monkeypatch.setattr("sys.argv", argv)
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "\n" not in err and not seen  # refused before the model loads
    assert "lookup_tokens" in err and "31" in err, err
