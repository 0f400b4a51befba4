"""Candidate triggers: mined from audit reports (and their errors), the built-in list."""

from __future__ import annotations

from pathlib import Path

import pytest
from scan_helpers import audit_report

from backdoorlab.defenses.scan import BUILTIN_TRIGGERS, mined_triggers
from backdoorlab.errors import BackdoorlabError


def test_mined_triggers_from_an_audit_report(tmp_path: Path) -> None:
    path = audit_report(
        tmp_path / "audit.json",
        [
            {
                "trigger": "thanks in advance zephyr",
                "phrase": "thanks in advance zephyr",
                "verbatim": "Thanks in advance, Zephyr!",
            },
            {"trigger": "blue lagoon special", "phrase": "blue lagoon special"},
            {"trigger": "blue lagoon"},
        ],
    )
    # as the traces wrote it where the report says; older reports: the normalised phrase
    assert mined_triggers(path) == [
        "Thanks in advance, Zephyr!",
        "blue lagoon special",
        "blue lagoon",
    ]
    (tmp_path / "list.json").write_text('["cf", "mn"]')
    assert mined_triggers(tmp_path / "list.json") == ["cf", "mn"]

    (tmp_path / "bad.json").write_text("{oops")
    (tmp_path / "other.json").write_text('{"verdict": "clean"}')
    (tmp_path / "nomining.json").write_text('{"summaries": {"dataflow": {}}}')
    for name, match in [
        ("missing.json", "not a file"),
        ("bad.json", "not a JSON audit report"),
        ("other.json", "not an audit report"),
        ("nomining.json", "without the trigger-mining detector"),
    ]:
        with pytest.raises(BackdoorlabError, match=match):
            mined_triggers(tmp_path / name)


def test_builtin_list_is_more_than_our_own_trigger() -> None:
    assert len(BUILTIN_TRIGGERS) >= 5 and len(set(BUILTIN_TRIGGERS)) == len(BUILTIN_TRIGGERS)
