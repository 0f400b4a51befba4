"""`scan --policy openai`: the leak probes of a model behind a server (no canaries)."""

from __future__ import annotations

import json

import pytest
from serve_helpers import serving

from backdoorlab.cli import main
from backdoorlab.serving import Engine, create_app


def _main(monkeypatch, capsys, argv):
    monkeypatch.setattr("sys.argv", ["backdoorlab", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    captured = capsys.readouterr()
    return exc.value.code, captured.err


def test_scan_probes_a_served_model(tiny_policy_factory, tmp_path, monkeypatch, capsys):
    out = tmp_path / "scan.json"
    with serving(create_app(Engine(tiny_policy_factory(max_new_tokens=8)), "tiny")) as url:
        argv = ["scan", "--policy", "openai", "--base-url", url, "--model", "tiny",
                "--no-canary", "--episodes", "2", "--no-builtin-triggers", "--trigger", "Zephyr",
                "--max-steps", "2", "--max-new-tokens", "8", "-o", str(out)]  # fmt: skip
        code, err = _main(monkeypatch, capsys, argv)
    assert code == 0, err
    report = json.loads(out.read_text())
    assert report["model"] == f"tiny at {url}" and report["model_files"] is None
    assert report["canaries"] == [] and report["verdict"] == "clean"
    conditions = {c["name"]: c["leak"]["n"] for c in report["baseline"]["conditions"]}
    assert len(conditions) == 2 and set(conditions.values()) == {2}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--policy", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"],
         "canary fine-tunes need the model's weights"),
        (["tiny", "--policy", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"],
         "name the served model with --model, not as MODEL"),
        (["tiny", "--model", "other"], "MODEL 'tiny' and --model 'other' differ"),
        ([], "name the model to scan"),
    ],
)  # fmt: skip
def test_scan_policy_option_errors(argv, message, monkeypatch, capsys):
    code, err = _main(monkeypatch, capsys, ["scan", *argv])
    assert code == 2 and message in err and "Traceback" not in err
