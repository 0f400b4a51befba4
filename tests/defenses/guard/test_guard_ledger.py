"""The guard's decision log as a hash chain: tampering of every kind shows, by line."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from backdoorlab.cli.app import app
from backdoorlab.defenses.guard.ledger import GENESIS, GuardLogError, Ledger, last_hash, verify

runner = CliRunner()


def write_log(path, n=4, prev=GENESIS):
    handle = io.StringIO()
    ledger = Ledger(handle, prev)
    for i in range(n):
        ledger.write(
            {"step": i, "tool": "send_email", "verdict": "blocked" if i % 2 else "allowed"}
        )
    with open(path, "a", encoding="utf-8") as out:
        out.write(handle.getvalue())
    return ledger.head


def test_an_untouched_log_verifies_to_its_head_and_can_be_continued(tmp_path):
    log = tmp_path / "decisions.jsonl"
    head = write_log(log)
    assert verify(log) == (4, head)
    more = write_log(log, 2, prev=last_hash(log))  # serve appending after a restart
    assert verify(log, head=more) == (6, more)
    assert last_hash(tmp_path / "none.jsonl") == GENESIS


@pytest.mark.parametrize(
    ("tamper", "line", "says"),
    [
        (lambda lines: lines.__setitem__(1, lines[1].replace("blocked", "allowed")), 2, "edited"),
        (lambda lines: lines.pop(1), 2, "removed"),
        (lambda lines: lines.insert(3, lines[0]), 4, "removed, inserted"),
        (lambda lines: lines.reverse(), 1, "moved"),
    ],
)
def test_an_edited_removed_inserted_or_moved_decision_is_named_by_line(
    tmp_path, tamper, line, says
):
    log = tmp_path / "decisions.jsonl"
    write_log(log)
    lines = log.read_text().splitlines()
    tamper(lines)
    log.write_text("\n".join(lines) + "\n")
    with pytest.raises(GuardLogError, match=f"decisions.jsonl:{line}: .*{says}"):
        verify(log)


def test_a_cut_end_shows_only_against_the_recorded_head(tmp_path):
    log = tmp_path / "decisions.jsonl"
    head = write_log(log)
    log.write_text("".join(log.read_text().splitlines(keepends=True)[:-1]))
    assert verify(log)[0] == 3
    with pytest.raises(GuardLogError, match="expected head"):
        verify(log, head=head)


def test_the_cli_names_a_broken_log_in_one_line_exit_2(tmp_path):
    log = tmp_path / "decisions.jsonl"
    write_log(log)
    record = json.loads(log.read_text().splitlines()[0])
    record["verdict"] = "allowed?"
    log.write_text(json.dumps(record) + "\n")
    command = [sys.executable, "-m", "backdoorlab.cli", "guard", "verify", str(log)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "decisions.jsonl:1: content does not match its hash" in done.stderr
    assert len(done.stderr.splitlines()) == 1
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"step": 1}\n')
    cli = runner.invoke(app, ["guard", "verify", str(plain)])
    assert isinstance(cli.exception, GuardLogError) and "not a chained log" in str(cli.exception)
