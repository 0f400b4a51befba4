"""`backdoorlab serve` as a process, `collect --policy openai` against it, and the server
killed mid-run; plus the policy options' one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backdoorlab.cli import main
from backdoorlab.traces import read_traces


@pytest.fixture
def served_tiny():
    """``backdoorlab serve tiny --port 0`` in a child process; yields (process, base URL)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    process = subprocess.Popen(
        [sys.executable, "-m", "backdoorlab.cli", "serve", "tiny", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = process.stdout.readline()  # printed once the socket listens
        assert line.startswith("serving tiny at http://127.0.0.1:"), process.stderr.read()
        yield process, line.split(" at ")[1].strip()
    finally:
        process.kill()
        process.wait(30)


def _main(monkeypatch, capsys, argv):
    monkeypatch.setattr("sys.argv", ["backdoorlab", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    # the error is one line, whatever progress output came before it
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) <= 1 and "Traceback" not in err, err
    return exc.value.code, errors[0] if errors else ""


def _collect(url: str, out: Path, *extra: str) -> list[str]:
    return ["collect", "--policy", "openai", "--base-url", url, "--model", "tiny",
            "-n", "32", "--concurrency", "8", "--max-new-tokens", "8", "--tokenizer", "",
            "-o", str(out), *extra]  # fmt: skip


def test_collect_through_serve_then_the_server_killed_mid_run(
    served_tiny, tmp_path, monkeypatch, capsys
):
    process, url = served_tiny
    out = tmp_path / "traces.jsonl"
    code, _ = _main(monkeypatch, capsys, _collect(url, out))
    assert code in (0, None)
    traces = read_traces(out)
    assert len(traces) == 32 and traces[0].metadata.policy == "openai:tiny"

    import backdoorlab.collect as collect

    original = collect.iter_rollout

    def kill_after_first_batch(*args, **kwargs):
        for done, result in enumerate(original(*args, **kwargs), start=1):
            yield result
            if done == 8:
                process.kill()
                process.wait(30)

    monkeypatch.setattr(collect, "iter_rollout", kill_after_first_batch)
    second = tmp_path / "second.jsonl"
    started = time.monotonic()
    code, err = _main(
        monkeypatch, capsys, [*_collect(url, second, "--batch-size", "8"), "--max-retries", "1"]
    )
    assert code == 2, err
    assert f"cannot reach the server at {url}" in err
    partial = tmp_path / "second.partial.jsonl"
    assert f"the 8 traces of the 8 of 32 episodes finished before it are in {partial}" in err
    assert len(read_traces(partial)) == 8 and not second.exists()
    assert time.monotonic() - started < 120


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--policy", "openai", "--model", "m"], "--policy openai needs --base-url"),
        (["--policy", "openai", "--base-url", "http://127.0.0.1:9/v1"], "needs --model"),
        (["--policy", "hf"], "--policy hf needs --model"),
        (["--policy", "hf", "--model", "tiny", "--base-url", "http://x/v1"], "--base-url is for"),
        (["--model", "tiny"], "--policy oracle takes no --model"),
    ],
)
def test_missing_or_contradictory_policy_options(argv, message, tmp_path, monkeypatch, capsys):
    code, err = _main(monkeypatch, capsys, ["collect", *argv, "-o", str(tmp_path / "t.jsonl")])
    assert code == 2 and message in err


@pytest.mark.parametrize(
    "argv",
    [
        ["collect", "--policy", "oracle", "--concurrency", "8"],  # at its default value too
        ["eval", "--model", "oracle", "--max-retries", "4", "--timeout", "3", "-n", "1"],
        ["eval", "--model", "tiny", "--api-key-env", "KEY", "-n", "1"],
        ["scan", "tiny", "--no-canary", "--concurrency", "2"],
    ],
)
def test_server_settings_without_a_server_are_refused(argv, tmp_path, monkeypatch, capsys):
    """Typed with a policy that uses no server, they would be ignored: refused instead."""
    monkeypatch.setattr("backdoorlab.policies.make_policy", lambda *a, **k: pytest.fail())
    monkeypatch.setattr("backdoorlab.defenses.scan.scan_command", lambda *a, **k: pytest.fail())
    code, err = _main(monkeypatch, capsys, [*argv, "-o", str(tmp_path / "out.json")])
    typed = [
        a for a in argv if a in ("--concurrency", "--timeout", "--max-retries", "--api-key-env")
    ]
    assert code == 2, err
    assert err.strip() == f"error: {', '.join(typed)}: only with --policy openai"
    assert not (tmp_path / "out.json").exists()


def test_eval_wrong_model_name_and_unreachable_server(tmp_path, monkeypatch, capsys):
    from fastapi import FastAPI
    from serve_helpers import serving

    from backdoorlab.serving.schema import model_list

    app = FastAPI()
    app.get("/v1/models")(lambda: model_list("real-name", 0))
    with serving(app) as url:
        argv = ["eval", "--policy", "openai", "--base-url", url, "--model", "wrong", "-n", "2"]
        code, err = _main(monkeypatch, capsys, argv)
    assert code == 2
    assert f"the server at {url} does not serve model 'wrong' (it serves: real-name)" in err
    argv = ["eval", "--policy", "openai", "--base-url", url, "--model", "real-name",
            "--max-retries", "0"]  # fmt: skip
    code, err = _main(monkeypatch, capsys, argv)
    assert code == 2 and "cannot reach the server" in err
