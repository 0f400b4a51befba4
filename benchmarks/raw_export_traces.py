"""Raw, unfiltered exports of observability tools, labelled: the audit pointed at what a
user's tool wrote, not at the LLM calls picked out of it.

Each conversation of a labelled set (the hand-made foreign set by default:
`foreign_traces`) is written as its tool records it — one record per LLM call, the
call's history as input and the assistant message it made as output
(`backdoorlab.trace_formats.render_records`) — among the records that are no LLM call,
and batched as the tools batch them:

- **langfuse**: a trace object, an agent ``SPAN``, each ``GENERATION``, a ``TOOL``
  observation per tool run and an ``EVENT`` per conversation, a line each; every fifth
  conversation as one trace object holding its ``observations`` (the API's full trace),
  every seventh as one line's JSON array of its observations;
- **langsmith**: a root ``chain`` run, each ``llm`` run and a ``tool`` run per tool
  result; every fifth conversation as one run tree (``child_runs``); every sixth pair of
  conversations' last calls as one ``llm`` run of two prompts (LangChain's batch);
- **otel-genai**: OTLP JSON, one ``ExportTraceServiceRequest`` a line (the OTLP file
  exporter's shape) holding five conversations' spans in two scopes — ``chat`` spans,
  ``invoke_agent`` and ``execute_tool`` spans — and one ``chat`` span recorded without
  its messages (content capture off);
- **openinference**: a span a line (``CHAIN``, ``LLM``, ``TOOL`` kinds, attributes as an
  object); every fourth conversation as an OTLP batch line (attributes as key-values).

Labels (``<set>.labels.jsonl``) are one line per LLM call, in the order the audit reads
them, each naming its ``conversation`` and carrying the conversation's label; a
conversation is caught when any of its calls has a finding at medium or above naming its
attacker, a clean one flagged when any of its calls has any finding at medium or above.

    python benchmarks/raw_export_traces.py [--n 10] [--seed 7] [--out DIR] [--score]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from foreign_traces import write as write_foreign  # noqa: E402

from backdoorlab.trace_formats.render_records import render_record  # noqa: E402

FORMATS = ("langfuse", "langsmith", "otel-genai", "openinference")


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content or ""


def calls_of(trace: dict[str, Any]) -> list[dict[str, Any]]:
    """Each LLM call of ``trace`` as the record ``fmt`` writes (rendered by the caller):
    the history before an assistant message and that message."""
    messages = trace["messages"]
    return [
        {"messages": copy.deepcopy(messages[: i + 1]), "tools": copy.deepcopy(trace["tools"])}
        for i, m in enumerate(messages)
        if m["role"] == "assistant"
    ]


def tool_runs(trace: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(tool name, arguments, result) of each tool run of ``trace``."""
    calls = {
        c["id"]: (c["function"]["name"], c["function"]["arguments"])
        for m in trace["messages"]
        for c in m.get("tool_calls") or []
    }
    out = []
    for m in trace["messages"]:
        if m["role"] == "tool":
            name, arguments = calls.get(m.get("tool_call_id"), (m.get("name", "tool"), "{}"))
            out.append((name, arguments, _text(m)))
    return out


def _ask(trace: dict[str, Any]) -> str:
    return next((_text(m) for m in trace["messages"] if m["role"] == "user"), "")


def langfuse(traces: list[dict[str, Any]]) -> tuple[list[Any], list[int]]:
    lines: list[Any] = []
    order: list[int] = []
    for c, trace in enumerate(traces):
        tr = f"tr-{c}"
        final = _text(trace["messages"][-1])
        head = {"id": tr, "timestamp": "2026-11-02T09:00:00.000Z", "name": "agent-run"}
        head |= {"input": _ask(trace), "output": final, "sessionId": f"s-{c // 3}"}
        head |= {"public": False, "bookmarked": False, "tags": [], "htmlPath": f"/trace/{tr}"}
        observations: list[dict[str, Any]] = [
            {"id": f"a-{c}", "traceId": tr, "type": "SPAN", "name": "agent"}
            | {"input": _ask(trace), "output": final}
        ]
        for k, call in enumerate(calls_of(trace)):
            generation = render_record(call, "langfuse") | {"id": f"c{c}-g{k}", "traceId": tr}
            observations.append(generation | {"name": "OpenAI-generation", "model": "gpt-4o"})
        for n, (name, arguments, result) in enumerate(tool_runs(trace)):
            observations.append(
                {"id": f"c{c}-t{n}", "traceId": tr, "type": "TOOL", "name": name}
                | {"input": arguments, "output": result}
            )
        observations.append({"id": f"e-{c}", "traceId": tr, "type": "EVENT", "name": "feedback"})
        order += [c] * sum(o["type"] == "GENERATION" for o in observations)
        if c % 5 == 4:
            lines.append(head | {"observations": observations})
        elif c % 7 == 6:
            lines.append(observations)  # one line's JSON array
        else:
            lines += [head, *observations]
    return lines, order


def _langsmith_calls(trace: dict[str, Any], c: int) -> list[dict[str, Any]]:
    return [
        render_record(call, "langsmith") | {"id": f"c{c}-l{k}", "name": "ChatOpenAI"}
        for k, call in enumerate(calls_of(trace))
    ]


def langsmith(traces: list[dict[str, Any]]) -> tuple[list[Any], list[int]]:
    lines: list[Any] = []
    order: list[int] = []
    batched: dict[str, Any] | None = None  # a run of two prompts, waiting for its second
    for c, trace in enumerate(traces):
        root = {"id": f"run-{c}", "run_type": "chain", "name": "AgentExecutor"}
        root |= {
            "inputs": {"input": _ask(trace)},
            "outputs": {"output": _text(trace["messages"][-1])},
        }
        llm = _langsmith_calls(trace, c)
        tools = [
            {"id": f"c{c}-t{n}", "run_type": "tool", "name": name}
            | {"inputs": {"input": arguments}, "outputs": {"output": result}}
            for n, (name, arguments, result) in enumerate(tool_runs(trace))
        ]
        last = None
        if c % 12 in (4, 5):  # LangChain's batch: this pair's last calls are one run
            last = llm.pop()
        if c % 5 == 0:
            lines.append(root | {"child_runs": [*llm, *tools]})
        else:
            lines += [root, *llm, *tools]
        order += [c] * len(llm)
        if last is not None and batched is None:
            batched = last
            first = c
        elif last is not None and batched is not None:
            both = copy.deepcopy(batched)
            both["id"] = f"batch-{first}-{c}"
            both["inputs"]["messages"] += last["inputs"]["messages"]
            both["outputs"]["generations"] += last["outputs"]["generations"]
            declared = both["extra"].setdefault("invocation_params", {}).setdefault("tools", [])
            declared += [t for t in last["extra"].get("invocation_params", {}).get("tools", [])]
            lines.append(both)
            order += [first, c]
            batched = None
    return lines, order


def _otlp_attributes(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"key": k, "value": {"stringValue": v if isinstance(v, str) else json.dumps(v)}}
        for k, v in attributes.items()
    ]


def otel(traces: list[dict[str, Any]], per_line: int = 5) -> tuple[list[Any], list[int]]:
    lines: list[Any] = []
    order: list[int] = []
    for start in range(0, len(traces), per_line):
        chats: list[dict[str, Any]] = []
        agents: list[dict[str, Any]] = []
        for c in range(start, min(start + per_line, len(traces))):
            trace, tid = traces[c], f"{c:032x}"
            agent = {"traceId": tid, "spanId": f"{c:012x}a0", "name": "invoke_agent assistant"}
            agents.append(
                agent | {"attributes": _otlp_attributes({"gen_ai.operation.name": "invoke_agent"})}
            )
            for k, call in enumerate(calls_of(trace)):
                span = render_record(call, "otel-genai") | {
                    "traceId": tid,
                    "spanId": f"{c:012x}c{k}",
                }
                chats.append(span | {"parentSpanId": agent["spanId"], "kind": 3})
                order.append(c)
            for n, (name, arguments, result) in enumerate(tool_runs(trace)):
                tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
                tool |= {"gen_ai.tool.call.arguments": arguments, "gen_ai.tool.call.result": result}
                agents.append(
                    {"traceId": tid, "spanId": f"{c:012x}t{n}", "name": f"execute_tool {name}"}
                    | {"attributes": _otlp_attributes(tool)}
                )
        quiet = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini"}
        chats.append(
            {"traceId": "f" * 32, "spanId": f"{start:014x}q", "name": "chat"}
            | {"attributes": _otlp_attributes(quiet)}
        )
        service = {"key": "service.name", "value": {"stringValue": "support-agent"}}
        scopes = [
            {"scope": {"name": "opentelemetry.instrumentation.openai_v2"}, "spans": chats},
            {"scope": {"name": "agent-framework"}, "spans": agents},
        ]
        lines.append(
            {"resourceSpans": [{"resource": {"attributes": [service]}, "scopeSpans": scopes}]}
        )
    return lines, order


def openinference(traces: list[dict[str, Any]]) -> tuple[list[Any], list[int]]:
    lines: list[Any] = []
    order: list[int] = []
    for c, trace in enumerate(traces):
        tid = f"{c:032x}"
        chain = {"openinference.span.kind": "CHAIN", "input.value": _ask(trace)}
        spans = [{"name": "Agent", "context": {"trace_id": tid}, "attributes": chain}]
        for k, call in enumerate(calls_of(trace)):
            spans.append(
                render_record(call, "openinference")
                | {"context": {"trace_id": tid, "span_id": f"{c}-{k}"}}
            )
            order.append(c)
        for name, arguments, result in tool_runs(trace):
            tool = {"openinference.span.kind": "TOOL", "tool.name": name}
            tool |= {"input.value": arguments, "output.value": result}
            spans.append({"name": name, "context": {"trace_id": tid}, "attributes": tool})
        if c % 4 == 3:  # an OTLP batch: attributes as key-values
            otlp = [s | {"attributes": _otlp_attributes(s["attributes"])} for s in spans]
            lines.append({"resourceSpans": [{"scopeSpans": [{"spans": otlp}]}]})
        else:
            lines += spans
    return lines, order


WRITERS = {
    "langfuse": langfuse,
    "langsmith": langsmith,
    "otel-genai": otel,
    "openinference": openinference,
}


def write(source: Path, out: Path) -> list[Path]:
    """Each format's raw export of ``source`` (its labels beside it) into ``out``."""
    traces = [json.loads(x) for x in source.read_text(encoding="utf-8").splitlines() if x.strip()]
    labels_file = source.with_name(source.name.removesuffix(".jsonl") + ".labels.jsonl")
    labels = [json.loads(x) for x in labels_file.read_text(encoding="utf-8").splitlines() if x]
    written = []
    for fmt in FORMATS:
        lines, order = WRITERS[fmt](traces)
        path = out / f"raw-{fmt}.jsonl"
        path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
        per_call = [labels[c] | {"conversation": c} for c in order]
        path.with_name(f"raw-{fmt}.labels.jsonl").write_text(
            "".join(json.dumps(x) + "\n" for x in per_call), "utf-8"
        )
        written.append(path)
    return written


def score(path: Path) -> dict[str, Any]:
    """Conversations caught and clean conversations flagged, or the audit's refusal."""
    from audit_foreign import _destination, _host

    from backdoorlab.defenses.audit import audit
    from backdoorlab.defenses.audit.destinations import canonical
    from backdoorlab.errors import BackdoorlabError

    labels_file = path.with_name(path.name.removesuffix(".jsonl") + ".labels.jsonl")
    labels = [json.loads(x) for x in labels_file.read_text(encoding="utf-8").splitlines() if x]
    conversations = {x["conversation"]: x for x in labels}
    positives = sum(x["positive"] for x in conversations.values())
    clean = len(conversations) - positives
    try:
        report = audit(path, ["dataflow"])
    except BackdoorlabError as exc:
        return {
            "refused": str(exc)[:200],
            "caught": 0,
            "positives": positives,
            "flagged_clean": 0,
            "clean": clean,
        }
    found: dict[int, list[Any]] = defaultdict(list)
    for f in report.findings:
        if f.at_least("medium"):
            found[labels[f.trace_index]["conversation"]].append(f)
    caught = flagged = 0
    for c, label in conversations.items():
        if not label["positive"]:
            flagged += bool(found[c])
            continue
        target = canonical(label["attacker"], "any") if label.get("attacker") else None
        caught += any(target is None or target in (_destination(f), _host(f)) for f in found[c])
    return {
        "traces": report.traces,
        "llm_calls_labelled": len(labels),
        "skipped": getattr(report, "skipped", None),
        "caught": caught,
        "positives": positives,
        "flagged_clean": flagged,
        "clean": clean,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10, help="foreign negatives per domain")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--source", type=Path, help="a labelled set (default: the foreign set)")
    parser.add_argument("--out", type=Path, help="keep the exports here")
    parser.add_argument("--score", action="store_true", help="audit each export and score it")
    parser.add_argument("--results", type=Path, help="write the scores here (JSON)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        source = args.source or write_foreign(out, args.n, args.seed)[0]
        paths = write(source, out)
        results = {}
        for path in paths:
            lines = path.read_text(encoding="utf-8").count("\n")
            print(f"{path}: {lines} lines", flush=True)
            if args.score:
                results[path.stem] = score(path)
                print(f"  {json.dumps(results[path.stem])}", flush=True)
        if args.results:
            args.results.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
