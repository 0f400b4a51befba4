"""Four small raw observability exports, as a user's tool writes them, for the tests of
every command that reads a trace file (`backdoorlab.trace_files`).

Each holds four LLM calls, clean and leaking in turn, each about its own patient (so
no two traces are alike and an index that slipped shows), among records that are no LLM
call, batched as the tools batch them: a Langfuse trace with its ``observations`` and a
line's JSON array, a LangSmith run tree and a run of two prompts, OTLP batches with HTTP
spans and a ``chat`` span recorded without its messages, OpenInference spans a line and
in an OTLP batch. The records are the audit tests' own (`test_trace_formats_exports`,
`test_trace_formats_observability`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_trace_formats_exports import (
    CHAIN,
    EVENT,
    HTTP,
    QUIET_CHAT,
    SPAN,
    TOOL,
    TOOL_RUN,
    TRACE_OBJECT,
    _batch,
)
from test_trace_formats_observability import (
    ATTACKER,
    LANGFUSE,
    LANGSMITH,
    OPENINFERENCE,
    OTEL_OTLP,
    _clean,
)

PATIENTS = (5001, 5002, 5003, 5004)
"""The patient each export's calls are about, in order; the second and fourth leak."""
LEAKING = (1, 3)
"""The indices of the leaking calls, in the order the audit reads them."""
_CHAIN_SPAN = {"name": "Agent", "attributes": {"openinference.span.kind": "CHAIN"}}
_TOOL_SPAN = {"name": "get_chart", "attributes": {"openinference.span.kind": "TOOL"}}

__all__ = ["ATTACKER", "LEAKING", "PATIENTS", "raw_exports", "write_raw_exports"]


def _about(record: dict[str, Any], patient: int) -> dict[str, Any]:
    return json.loads(json.dumps(record).replace("4411", str(patient)))


def _calls(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The record four times, one per patient, clean where the index is not leaking."""
    return [
        _about(record if n in LEAKING else _clean(record), patient)
        for n, patient in enumerate(PATIENTS)
    ]


def _two_prompts(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two LangSmith chat runs as LangChain batches them: one run of two prompts."""
    run = json.loads(json.dumps(first))
    run["inputs"]["messages"] += second["inputs"]["messages"]
    run["outputs"]["generations"] += second["outputs"]["generations"]
    return run


def _otlp(span: dict[str, Any]) -> dict[str, Any]:
    """An OpenInference span as OTLP JSON writes it: attributes as key-values."""
    pairs = [{"key": k, "value": {"stringValue": v}} for k, v in span["attributes"].items()]
    return span | {"attributes": pairs}


def raw_exports() -> dict[str, list[Any]]:
    """Each export's lines (JSON values), by format."""
    lf, ls = _calls(LANGFUSE), _calls(LANGSMITH)
    ot, oi = _calls(OTEL_OTLP), _calls(OPENINFERENCE)
    return {
        "langfuse": [
            *(TRACE_OBJECT, SPAN, lf[0], TOOL, lf[1], EVENT),
            dict(TRACE_OBJECT, observations=[SPAN, lf[2], EVENT]),
            [TOOL, lf[3]],
        ],
        "langsmith": [
            *(CHAIN, ls[0], TOOL_RUN),
            dict(CHAIN, child_runs=[TOOL_RUN, ls[1]]),
            _two_prompts(ls[2], ls[3]),
            CHAIN,
        ],
        "otel-genai": [
            _batch([HTTP, ot[0], QUIET_CHAT], [ot[1]]),
            _batch([HTTP]),
            _batch([ot[2], ot[3]]),
        ],
        "openinference": [
            *(_CHAIN_SPAN, oi[0], _TOOL_SPAN, oi[1]),
            _batch([_otlp(_CHAIN_SPAN), _otlp(oi[2]), _otlp(_TOOL_SPAN)]),
            oi[3],
        ],
    }


def write_raw_exports(directory: Path) -> dict[str, Path]:
    """The four exports as JSON Lines files in ``directory`` (``raw-FORMAT.jsonl``), with
    a blank line in each, as a tool's file may have."""
    paths = {}
    for name, lines in raw_exports().items():
        path = directory / f"raw-{name}.jsonl"
        text = [json.dumps(line) + "\n" for line in lines]
        text.insert(2, "\n")
        path.write_text("".join(text), encoding="utf-8")
        paths[name] = path
    return paths
