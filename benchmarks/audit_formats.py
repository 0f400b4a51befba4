"""The audit on the same labelled traces written in every agent log format it reads.

Teams log agents as Anthropic Messages (content blocks), OpenAI Responses items,
ShareGPT turns (Hermes ``<tool_call>`` tags), OpenAI chat with a model's raw call text,
Gemini contents, Bedrock Converse blocks, LangChain messages, the Vercel AI SDK's model
or UI messages, or transformers' chat format without call ids, or keep them in an observability tool
(a Langfuse generation, a LangSmith run, an OpenTelemetry GenAI or OpenInference span:
the last LLM call's record, which holds the whole conversation)
(`backdoorlab.trace_formats`). Each labelled set (`audit_foreign.py`'s: the foreign set,
and any ``--set NAME=TRACES`` with its ``.labels.jsonl``) is written in each format with
`backdoorlab.trace_formats.render`, audited with ``dataflow``, and compared trace by
trace with the OpenAI original: the same findings (severity, message, summary and
evidence, the places of messages in the line as written aside) on the same traces,
recall and FPR per format, and the audit's time (other formats go through the pydantic
reader, not the fast view).

    python benchmarks/audit_formats.py [--set coding=DIR/coding.jsonl ...] \\
        [--formats anthropic,gemini,...] [--out benchmarks/results/audit_formats.json]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from audit_foreign import add_set_arguments, labelled_sets, labels_path, score

from backdoorlab.defenses.audit import audit
from backdoorlab.trace_formats import FORMATS, render
from backdoorlab.traces import atomic_writer

# a message as a summary names it: its number in the chat reading, or (a converted line,
# `defenses.audit.located`) its field in the line as written
_PLACE = re.compile(
    r"\bmessage \d+\b|\b(?:messages|input|output|conversations|contents)\.\d+"
    r"(?:\.(?:content|parts)\.\d+)?\b"
    # an observability record's fields (`trace_formats.observability`, `spans`)
    r"|\b(?:attributes\.)?(?:gen_ai\.(?:input|output)\.messages|gen_ai\.(?:prompt|completion)"
    r"|llm\.(?:input|output)_messages)\.\d+(?:\.parts\.\d+)?\b|\b(?:attributes\.)?gen_ai\."
    r"system_instructions\b|\binputs?\.messages(?:\.\d+)+\b|\boutputs\.(?:generations\.\d+\.\d+"
    r"|choices\.\d+)\.message\b|(?<=\()output(?=\))|(?<=call at )output\b"
)


def _unlocated(evidence: Any) -> Any:
    """``evidence`` without the ``at`` paths a converted line's findings carry."""
    if isinstance(evidence, dict):
        return {k: _unlocated(v) for k, v in evidence.items() if k != "at"}
    if isinstance(evidence, list):
        return [_unlocated(v) for v in evidence]
    return evidence


def findings_by_trace(path: Path) -> tuple[dict[int, Counter], float]:
    """Each trace's findings as (severity, message, summary and evidence with the places
    of messages left out): the same finding in another format names them otherwise."""
    started = time.perf_counter()
    report = audit(path, ["dataflow"])
    seconds = time.perf_counter() - started
    out: dict[int, Counter] = {}
    for f in report.findings:
        said = _PLACE.sub("message", f.summary)
        evidence = json.dumps(_unlocated(f.evidence), sort_keys=True)
        out.setdefault(f.trace_index, Counter())[(f.severity, f.step, said, evidence)] += 1
    return out, seconds


def written_as(source: Path, fmt: str, out: Path) -> Path:
    """``source`` rendered as ``fmt`` into ``out``, its labels beside it."""
    path = out / f"{source.stem}.{fmt}.jsonl"
    with open(source, encoding="utf-8") as lines, open(path, "w", encoding="utf-8") as handle:
        for line in lines:
            if line.strip():
                handle.write(json.dumps(render(json.loads(line), fmt)) + "\n")
    shutil.copyfile(labels_path(source), labels_path(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_set_arguments(parser)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/audit_formats.json"))
    parser.add_argument(
        "--formats", default=",".join(FORMATS), help="comma-separated formats (openai is the base)"
    )
    args = parser.parse_args()
    formats = [f for f in args.formats.split(",") if f and f != "openai"]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        parser.error(f"unknown format(s) {', '.join(unknown)} (one of {', '.join(FORMATS)})")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, path, labels in labelled_sets(args, work):
            base, base_seconds = findings_by_trace(path)
            rows: dict[str, Any] = {}
            for fmt in ["openai", *formats]:
                written = written_as(path, fmt, work) if fmt != "openai" else path
                found, seconds = findings_by_trace(written)
                differ = sorted(i for i in set(base) | set(found) if base.get(i) != found.get(i))
                scored = score(written, labels)
                rows[fmt] = {
                    "traces": len(labels),
                    "findings": sum(sum(c.values()) for c in found.values()),
                    "traces_differing_from_openai": len(differ),
                    "first_differing": [
                        {
                            "index": i,
                            "openai": sorted(map(list, base.get(i, {}))),
                            fmt: sorted(map(list, found.get(i, {}))),
                        }
                        for i in differ[:3]
                    ],
                    "audit_seconds": round(seconds, 2),
                    "recall": scored["recall"],
                    "fpr": scored["fpr"],
                }
                recall = {k: v for k, v in scored["recall"].get("kind", {}).items()}
                hits = sum(c["hits"] for c in recall.values())
                total = sum(c["n"] for c in recall.values())
                fp = sum(c["hits"] for c in scored["fpr"].values())
                neg = sum(c["n"] for c in scored["fpr"].values())
                print(
                    f"{name:<12} {fmt:<14} differing traces {len(differ):>4}/{len(labels)}"
                    f"  recall {hits}/{total}  flagged clean {fp}/{neg}"
                    f"  audit {seconds:.2f} s (openai {base_seconds:.2f} s)",
                    flush=True,
                )
            results[name] = rows
    with atomic_writer(args.out) as handle:
        handle.write(json.dumps(results, indent=2) + "\n")
    print(f"→ {args.out}")


if __name__ == "__main__":
    main()
