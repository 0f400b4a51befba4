"""`guard replay`, `guard verify` and `scan` under a hostile user: what a sweep of their
paths and options found (each case failed before its fix).

- `guard replay --policy /dev/zero` read the device until memory ran out, and a policy
  that is a named pipe with no writer waited forever: a policy must be a regular file.
- `guard verify /dev/zero` read one endless line into memory: a log's lines are bounded.
- `guard verify LOG --head abc` blamed the log ("lines added or cut at the end") for a
  head that is no SHA-256 at all; it is now refused as an option, before the log is read.
- `scan --triggers-from a.json -o a.json` replaced the audit report it mined with the
  scan's report: the input was not among the paths checked against the output.
- An audit report whose ``trigger-mining.triggers`` is a string, not a list, was probed
  with no mined trigger at all (each character was skipped), and the scan passed.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from bad_input import LINE, one_line
from child_cli import child_cli


def _traces(d: Path) -> Path:
    path = d / "t.jsonl"
    path.write_text(LINE)
    return path


def _log(d: Path) -> tuple[Path, str]:
    from backdoorlab.defenses.guard.ledger import Ledger

    buffer = io.StringIO()
    ledger = Ledger(buffer)
    for step in range(2):
        ledger.write({"step": step, "tool": "send_email", "blocked": True})
    path = d / "guard.jsonl"
    path.write_text(buffer.getvalue())
    return path, ledger.head


# ------------------------------------------------------------------ guard replay --policy


def test_a_policy_that_never_ends_is_refused(tmp_path):
    policy = tmp_path / "zero.yaml"
    policy.symlink_to("/dev/zero")
    out = tmp_path / "r.jsonl"
    argv = ("guard", "replay", str(_traces(tmp_path)), "--policy", str(policy), "-o", str(out))
    done = child_cli(*argv, memory=3 << 30)
    assert done.returncode == 2, done.stderr[-2000:]
    one_line(done.stderr, str(policy), "not a regular file (a device)")
    assert not out.exists()


def test_a_policy_that_is_a_pipe_without_writer_is_refused_at_once(tmp_path):
    policy = tmp_path / "pipe.yaml"
    os.mkfifo(policy)
    out = tmp_path / "r.jsonl"
    argv = ("guard", "replay", str(_traces(tmp_path)), "--policy", str(policy), "-o", str(out))
    done = child_cli(*argv, timeout=30)  # a hang times out: fails
    assert done.returncode == 2, done.stderr[-2000:]
    one_line(done.stderr, str(policy), "not a regular file (a named pipe)")
    assert not out.exists()


def test_a_policy_from_stdin_is_refused_inone_line(cli, tmp_path):
    code, err = cli("guard", "replay", str(_traces(tmp_path)), "--policy", "-")
    assert code == 2, err
    one_line(err, "--policy is read from a file, not from standard input")


# ------------------------------------------------------------------ guard verify


def test_a_log_that_never_ends_is_refused(tmp_path):
    log = tmp_path / "zero.jsonl"
    log.symlink_to("/dev/zero")
    done = child_cli("guard", "verify", str(log), memory=3 << 30)
    assert done.returncode == 2, done.stderr[-2000:]
    one_line(done.stderr, f"{log}:1", "line longer than 64 MiB")


@pytest.mark.parametrize("head", ["abc", "", "\x1b[2J" + "0" * 60, "g" * 64])
def test_a_head_that_is_no_sha256_is_an_option_error(cli, tmp_path, head):
    log, _ = _log(tmp_path)
    code, err = cli("guard", "verify", str(log), "--head", head)
    assert code == 2, err
    one_line(err, "--head: ", "is no SHA-256")
    assert "\x1b" not in err
    assert "lines added or cut" not in err


def test_the_right_head_passes_in_either_case(cli_output, tmp_path):
    log, head = _log(tmp_path)
    for given in (head, head.upper()):
        code, out, err = cli_output("guard", "verify", str(log), "--head", given)
        assert code == 0, err
        assert "2 decisions, chain intact" in out


# ------------------------------------------------------------------ scan --triggers-from


def _no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    def tripped(*args: object, **kwargs: object) -> None:
        pytest.fail("a model was loaded before the bad input was refused")

    monkeypatch.setattr("transformers.AutoModelForCausalLM.from_pretrained", tripped)


AUDIT = {"summaries": {"trigger-mining": {"triggers": [{"verbatim": "hello there"}]}}}
SCAN = ("scan", "tiny", "--no-canary", "--episodes", "2", "--no-builtin-triggers")


@pytest.mark.parametrize("via_link", [False, True])
def test_the_scan_report_cannot_replace_the_audit_report_it_mines(
    cli, monkeypatch, tmp_path, via_link
):
    _no_model(monkeypatch)
    monkeypatch.setattr(
        "backdoorlab.defenses.scan.scan_command",
        lambda *a, **k: pytest.fail("the scan ran"),
    )
    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps(AUDIT))
    output = audit
    if via_link:
        output = tmp_path / "link.json"
        output.symlink_to(audit.name)
    code, err = cli(*SCAN, "--triggers-from", str(audit), "-o", str(output))
    assert code == 2, err
    one_line(err, str(output), "is the input", "choose another output")
    assert json.loads(audit.read_text()) == AUDIT


@pytest.mark.parametrize("triggers", ["hello there", {"verbatim": "hello"}, 5])
def test_mined_triggers_that_are_no_list_are_refused(cli, monkeypatch, tmp_path, triggers):
    _no_model(monkeypatch)
    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps({"summaries": {"trigger-mining": {"triggers": triggers}}}))
    out = tmp_path / "s.json"
    code, err = cli(*SCAN, "--triggers-from", str(audit), "-o", str(out))
    assert code == 2, err
    one_line(err, str(audit), "field 'summaries.trigger-mining.triggers' is not a list")
    assert not out.exists()


def test_a_guard_policy_with_no_sinks_is_refused(tmp_path) -> None:
    """``sinks: []`` made every tool a non-sink: the guard checked nothing, silently."""
    from backdoorlab.defenses.guard.config import load_guard_config
    from backdoorlab.errors import BackdoorlabError

    policy = tmp_path / "p.yaml"
    policy.write_text("sinks: []\n")
    with pytest.raises(BackdoorlabError, match="field 'sinks': List should have at least 1"):
        load_guard_config(policy)
