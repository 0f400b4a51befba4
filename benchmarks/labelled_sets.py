"""What the hand-made trace generators share (`foreign_traces`, `disguised_traces`,
`coding_traces`): an assistant message making one OpenAI-format tool call, and writing a
set as ``NAME.jsonl`` with its labels beside it in ``NAME.labels.jsonl`` — the sidecar
`audit_foreign.py --set` and `guard_foreign.py --set` read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def tool_call(call_id: str, tool: str, args: dict[str, Any], say: str | None = None) -> dict:
    """An assistant message calling ``tool`` with ``args`` (a JSON-string argument)."""
    function = {"name": tool, "arguments": json.dumps(args)}
    return {
        "role": "assistant",
        "content": say,
        "tool_calls": [{"id": call_id, "type": "function", "function": function}],
    }


def write_labelled(out: Path, name: str, pairs: list[tuple[dict, dict]]) -> tuple[Path, Path]:
    """``pairs`` of (trace, label) as ``out/NAME.jsonl`` and ``out/NAME.labels.jsonl``."""
    out.mkdir(parents=True, exist_ok=True)
    traces, labels = out / f"{name}.jsonl", out / f"{name}.labels.jsonl"
    traces.write_text("".join(json.dumps(t) + "\n" for t, _ in pairs), encoding="utf-8")
    labels.write_text("".join(json.dumps(x) + "\n" for _, x in pairs), encoding="utf-8")
    return traces, labels
