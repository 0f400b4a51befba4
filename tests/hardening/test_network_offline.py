"""Nothing leaves the machine unless the user asks: `train`, `run` and `scan` (with a
canary) on ``tiny``, started the way a user starts them — without the HF_*/TRANSFORMERS_*
variables that scripts/*.sh export — attempt no connection and resolve no host name.

Each command runs in a child Python whose ``sitecustomize`` (first on PYTHONPATH) wraps
``socket.getaddrinfo``, ``socket.create_connection`` and ``socket.socket.connect`` /
``connect_ex`` to append every attempt to a log; HTTP(S)_PROXY and ALL_PROXY point at a
closed loopback port, so a client that honours proxies shows up as a connect to it
instead of a DNS lookup. No local IPC is allowed either: nothing on these paths uses
sockets legitimately (no AF_UNIX connect was ever logged), so every logged line is a fault.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import backdoorlab

SRC = Path(backdoorlab.__file__).resolve().parents[1]
CLOSED_PORT = "http://127.0.0.1:9"  # discard: nothing listens there

SITECUSTOMIZE = textwrap.dedent(
    """
    import os
    import socket

    _LOG = os.environ["BACKDOORLAB_TEST_NETLOG"]


    def _record(kind, target):
        with open(_LOG, "a") as handle:
            handle.write(f"{os.getpid()} {kind} {target!r}\\n")


    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex
    _getaddrinfo = socket.getaddrinfo
    _create_connection = socket.create_connection


    def connect(self, address):
        _record(f"connect[{self.family.name}]", address)
        return _connect(self, address)


    def connect_ex(self, address):
        _record(f"connect_ex[{self.family.name}]", address)
        return _connect_ex(self, address)


    def getaddrinfo(host, *args, **kwargs):
        _record("getaddrinfo", host)
        return _getaddrinfo(host, *args, **kwargs)


    def create_connection(address, *args, **kwargs):
        _record("create_connection", address)
        return _create_connection(address, *args, **kwargs)


    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
    socket.create_connection = create_connection
    """
)

# Every variable that switches the libraries off-line or quiet, and what `CI` silences
# (TRL skips its telemetry under CI): none may come from the test's own environment —
# after the fix the pytest process itself carries them, set by `import backdoorlab`.
_STRIPPED_PREFIXES = ("HF_", "HUGGINGFACE_", "TRANSFORMERS_", "BACKDOORLAB_ALLOW_", "WANDB_")
_STRIPPED = {"CI", "DO_NOT_TRACK", "DISABLE_TELEMETRY", "PYTHONPATH"}


@pytest.fixture
def probe(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The child's environment and the connection log it writes."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = tmp_path / "connections.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _STRIPPED
        and not key.upper().startswith(_STRIPPED_PREFIXES)
        and "proxy" not in key.lower()
    }
    env |= {
        "PYTHONPATH": f"{site}{os.pathsep}{SRC}",
        "BACKDOORLAB_TEST_NETLOG": str(log),
        "HTTP_PROXY": CLOSED_PORT,
        "HTTPS_PROXY": CLOSED_PORT,
        "ALL_PROXY": CLOSED_PORT,
        "http_proxy": CLOSED_PORT,
        "https_proxy": CLOSED_PORT,
        "all_proxy": CLOSED_PORT,
        "NO_PROXY": "",
        "no_proxy": "",
    }
    return env, log


def _child(env: dict[str, str], cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def _attempts(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_the_probe_sees_a_connection_attempt(probe, tmp_path):
    """The log is not vacuous: a child that connects somewhere is recorded."""
    env, log = probe
    code = "import socket, contextlib\nwith contextlib.suppress(OSError):\n"
    code += "    socket.create_connection(('127.0.0.1', 9), timeout=1)"
    assert _child(env, tmp_path, "-c", code).returncode == 0
    assert any("('127.0.0.1', 9)" in line for line in _attempts(log))


# One child runs the three commands in turn, as `backdoorlab ...` would (`main()`, the
# console entry point): the libraries are imported once instead of three times, which
# halves the test's time; a line in the log marks where each command starts.
DRIVER = textwrap.dedent(
    """
    import json, sys
    from backdoorlab.cli import main

    codes = {}
    for argv in json.loads(sys.argv[1]):
        with open(sys.argv[2], "a") as log:
            log.write(f"== {argv[0]}\\n")
        sys.argv[1:] = argv
        try:
            main()
            codes[argv[0]] = 0
        except SystemExit as exit:
            codes[argv[0]] = exit.code or 0
    print(json.dumps(codes))
    """
)


def test_train_run_and_scan_attempt_no_connection(probe, tmp_path, traces_file):
    env, log = probe
    experiment = {
        "name": "offline",
        "model": "tiny",
        "collect": {"n": 4},
        "attack": {"name": "data-poisoning", "rate": 0.5, "trigger": "ZQX"},
        "train": {"max_steps": 1, "batch_size": 2, "grad_accum": 1},
        "eval": {"n": 1, "max_steps": 1, "max_new_tokens": 4},
        "baseline": False,
    }
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(experiment))
    commands = [
        ["train", "--data", str(traces_file), "-o", "trained", "--model", "tiny",
         "--max-steps", "1", "--batch-size", "2"],
        ["run", "exp.yaml", "--run-dir", "experiment"],
        ["scan", "tiny", "--episodes", "1", "--canary", "lora:adamw_torch:1e-4",
         "--canary-steps", "1", "--canary-traces", "2", "--canary-batch-size", "2",
         "--no-builtin-triggers", "--trigger", "ZQX", "--max-steps", "1",
         "--max-new-tokens", "4", "--fail-on", "none", "-o", "scan.json"],
    ]  # fmt: skip
    done = _child(env, tmp_path, "-c", DRIVER, json.dumps(commands), str(log))
    assert done.returncode == 0, done.stderr[-3000:]
    codes = json.loads(done.stdout.strip().splitlines()[-1])
    assert codes == {"train": 0, "run": 0, "scan": 0}, done.stderr[-3000:]
    assert (tmp_path / "trained" / "adapter").is_dir() and (tmp_path / "scan.json").is_file()
    assert [line for line in _attempts(log) if not line.startswith("== ")] == [], _attempts(log)


def test_a_hub_id_not_here_is_one_line_naming_the_opt_in_and_no_lookup(probe, tmp_path):
    env, log = probe
    env["HF_HOME"] = str(tmp_path / "hf")  # an empty hub cache
    done = _child(
        env, tmp_path, "-m", "backdoorlab.cli", "collect", "-n", "1", "-o", "t.jsonl",
        "--tokenizer", "someorg/no-such-model",
    )  # fmt: skip
    assert done.returncode == 2
    error = done.stderr.strip().splitlines()[-1]  # after collect's progress bar
    assert error.startswith("error: ") and done.stderr.count("error") == 1, done.stderr
    assert "someorg/no-such-model" in error and "--allow-network" in error
    assert _attempts(log) == []


@pytest.mark.parametrize("report_to", ["wandb", "all", "[tensorboard, mlflow]"])
def test_an_online_report_to_needs_the_opt_in(report_to, tmp_path, traces_file, capsys):
    from backdoorlab.cli import main

    argv = ["train", "--data", str(traces_file), "-o", str(tmp_path / "run"), "--model", "tiny",
            "--max-steps", "1", "--set", f"report_to={report_to}"]  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("BACKDOORLAB_ALLOW_NETWORK", raising=False)
        mp.setattr("sys.argv", ["backdoorlab", *argv])
        with pytest.raises(SystemExit) as refused:
            main()
    err = capsys.readouterr().err.strip()
    assert refused.value.code == 2 and len(err.splitlines()) == 1, err
    assert "report_to=" in err and "--allow-network" in err
    assert not (tmp_path / "run" / "train_log.jsonl").exists()


def test_a_local_report_to_needs_no_opt_in():
    from backdoorlab.offline import check_report_to

    check_report_to("none")
    check_report_to(["tensorboard"])


def test_with_the_opt_in_a_hub_id_is_looked_up_and_fails_in_one_line(probe, tmp_path):
    """--allow-network really lets the request out (here into the closed proxy port)."""
    env, log = probe
    env["HF_HOME"] = str(tmp_path / "hf")
    done = _child(
        env, tmp_path, "-m", "backdoorlab.cli", "collect", "-n", "1", "-o", "t.jsonl",
        "--tokenizer", "someorg/no-such-model", "--allow-network",
    )  # fmt: skip
    assert done.returncode == 2
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("error: ") and "someorg/no-such-model" in error, done.stderr
    assert any("('127.0.0.1', 9)" in line for line in _attempts(log))


def test_the_switches_hold_when_the_hub_was_imported_first(probe, tmp_path):
    """A program that imported huggingface_hub and datasets before backdoorlab: their
    constants, read from the environment at that import, are brought in line."""
    env, _ = probe
    code = (
        "import huggingface_hub.constants as hub, datasets.config as ds, backdoorlab\n"
        "print(hub.HF_HUB_OFFLINE, hub.HF_HUB_DISABLE_TELEMETRY, ds.HF_HUB_OFFLINE)"
    )
    assert _child(env, tmp_path, "-c", code).stdout.split() == ["True", "True", "True"]
    env["BACKDOORLAB_ALLOW_NETWORK"] = "1"
    assert _child(env, tmp_path, "-c", code).stdout.split() == ["False", "True", "False"]


def test_a_commands_opt_ins_end_with_it(traces_file):
    """--allow-network/--allow-pickle last as long as the command (in-process callers)."""
    from typer.testing import CliRunner

    from backdoorlab.cli import app

    keys = ("BACKDOORLAB_ALLOW_NETWORK", "BACKDOORLAB_ALLOW_PICKLE", "HF_HUB_OFFLINE")
    before = {key: os.environ.get(key) for key in keys}
    argv = ["collect", "-n", "1", "-o", "-", "--tokenizer", "", "--allow-network",
            "--allow-pickle"]  # fmt: skip
    assert CliRunner().invoke(app, argv).exit_code == 0
    assert {key: os.environ.get(key) for key in keys} == before


def test_the_environment_opt_in_set_after_import_lets_a_library_caller_fetch(monkeypatch):
    """BACKDOORLAB_ALLOW_NETWORK=1 set after `import backdoorlab` (a notebook) is honoured:
    the hub is asked (the connection is recorded and refused here, never made)."""
    import socket

    from backdoorlab.models import ModelNotFoundError, resolve_model_dir

    attempts = []

    def refuse(address, *args, **kwargs):
        attempts.append(address)
        raise ConnectionRefusedError(111, "refused by the test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr("backdoorlab.offline._users_offline", {"HF_HUB_OFFLINE": None})
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # as `import backdoorlab` left it
    monkeypatch.setenv("BACKDOORLAB_ALLOW_NETWORK", "1")
    with pytest.raises(ModelNotFoundError, match="online"):
        resolve_model_dir("someorg/no-such-model", need_weights=False)
    assert attempts
