"""The commands other than the audit on raw observability exports: how many traces
``show`` and ``export`` read of each, against the audit's count, and whether ``show -i N``
shows the audit's trace N for the audit's findings.

A raw export (`raw_export_traces.py`: Langfuse, LangSmith, OpenTelemetry GenAI,
OpenInference, records that are no LLM call among the calls, batched as the tools batch
them) is numbered by the audit one trace per LLM call; ``show -i N`` and ``view`` must
show that trace for the audit's finding N, and ``export``/``train`` must get those calls.

- counts: ``show -i 10**9`` (its error says how many traces the file holds, or why it
  stopped), ``export -o x.parquet --json`` (its trace count, or its error) and the
  audit's ``traces`` (dataflow);
- findings (``--findings SET``): for each trace index N the audit's findings name (every
  ``--every``-th of them; 1: all), and for the first ``--head`` indices, ``show -i N`` as
  the command prints it, against the audit reader's own trace N (`TraceStream`) printed
  by the same `show_trace` at the same width: equal, differing, or refused (the
  command's error).

Commands run in this process (the console entry point, argv set), so the tree on
``PYTHONPATH`` is the one measured: run it once with the base tree's ``src`` and once
with this one's.

    python benchmarks/raw_export_traces.py --n 20 --out DIR
    python benchmarks/raw_export_commands.py DIR [--findings raw-langfuse] [--every 1]
        [--head 5]

The same agreement for coding agents' logs (a folder or glob of Claude Code sessions and
Codex rollouts, a session a trace named by its file): the three counts, whether each
finding's ``trace_id`` is the file of the audit reader's trace at its index, and ``show
FOLDER -i N`` against that trace for the first ``--head`` indices.

    python benchmarks/raw_export_commands.py --logs ~/.claude/projects [--head 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

WIDTH = 160


def run(*argv: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``backdoorlab ARGV`` run in this process."""
    from backdoorlab.cli import main

    out, err = io.StringIO(), io.StringIO()
    sys.argv = ["backdoorlab", *argv]
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue(), err.getvalue()


def _error(err: str) -> str:
    return next((x for x in err.splitlines() if x.startswith("error:")), err.strip()[-200:])


def counts(path: Path, work: Path) -> dict[str, Any]:
    """The traces show, export and the audit read of ``path`` (or what they said instead)."""
    from backdoorlab.defenses.audit import audit
    from backdoorlab.errors import BackdoorlabError

    row: dict[str, Any] = {}
    try:
        row["audit"] = audit(path, ["dataflow"]).traces
    except BackdoorlabError as exc:
        row["audit"] = f"error: {exc}"[:200]
    _, _, err = run("show", str(path), "-i", str(10**9))
    held = re.search(r"the file holds (\d+)\)", err)
    row["show"] = int(held.group(1)) if held else _error(err)[:200]
    code, out, err = run("export", str(path), "-o", str(work / "x.parquet"), "--json")
    row["export"] = json.loads(out)["traces"] if code == 0 else _error(err)[:200]
    if code == 0:
        import pyarrow.parquet as pq

        row["export_rows"] = pq.read_metadata(work / "x.parquet").num_rows
    said = [x for x in err.splitlines() if x.startswith("skipped ")]
    row["export_said"] = said[0] if said else None
    return row


def findings_shown(path: Path, every: int, head: int) -> dict[str, Any]:
    """``show -i N`` against the audit's trace N for the indices its findings name (every
    ``every``-th) and the first ``head`` indices, each group counted on its own."""
    from rich.console import Console

    from backdoorlab.defenses.audit import audit
    from backdoorlab.defenses.audit.reader import TraceStream
    from backdoorlab.report.viewer import show_trace

    report = audit(path, ["dataflow"])
    groups = {
        "finding_indices": sorted({f.trace_index for f in report.findings})[::every],
        "first_indices": list(range(min(head, report.traces))),
    }
    expected: dict[int, str] = {}
    chosen = {index for indices in groups.values() for index in indices}
    for record in TraceStream(path):
        if record.index in chosen:
            console = Console(file=io.StringIO(), width=WIDTH)
            show_trace(record.trace, console, index=record.index)
            expected[record.index] = console.file.getvalue()  # type: ignore[attr-defined]
    result: dict[str, Any] = {"set": path.name, "findings": len(report.findings)}
    for group, indices in groups.items():
        result[group] = _shown_against(path, indices, expected)
    return result


def _shown_against(path: Path, indices: list[int], expected: dict[int, str]) -> dict[str, Any]:
    """``show PATH -i N`` as the command prints it, against ``expected[N]``."""
    os.environ["COLUMNS"] = str(WIDTH)
    equal, differ, refused = 0, [], []
    for index in indices:
        code, out, err = run("show", str(path), "-i", str(index))
        if code != 0:
            refused.append((index, _error(err)[:160]))
        elif out == expected[index]:
            equal += 1
        else:
            differ.append(index)
    return {
        "indices_checked": len(indices),
        "equal": equal,
        "differ": len(differ),
        "first_differing": differ[:5],
        "refused": len(refused),
        "first_refusal": refused[0] if refused else None,
    }


def logs_shown(folder: str, work: Path, head: int) -> dict[str, Any]:
    """A folder (or glob) of coding agents' logs: the traces ``show``, ``export`` and the
    ``audit`` command count, and ``show FOLDER -i N`` for the first ``head`` indices
    against the audit reader's trace N of the same sessions (`claude_sessions`), with
    the trace id (the session's file) each finding names."""
    from rich.console import Console

    from backdoorlab.defenses.audit.reader import TraceStream
    from backdoorlab.report.viewer import show_trace
    from backdoorlab.trace_formats.claude_sessions import converted

    report = work / "report.json"
    code, _, err = run("audit", folder, "-o", str(report), "--detectors", "dataflow")
    audited = json.loads(report.read_text()) if code in (0, 1) else None
    row: dict[str, Any] = {"audit": audited["traces"] if audited else _error(err)[:200]}
    _, _, err = run("show", folder, "-i", str(10**9))
    held = re.search(r"the file holds (\d+)\)", err)
    row["show"] = int(held.group(1)) if held else _error(err)[:200]
    code, out, err = run("export", folder, "-o", str(work / "x.parquet"), "--json")
    row["export"] = json.loads(out)["traces"] if code == 0 else _error(err)[:200]
    if audited is None:
        return row
    expected: dict[int, str] = {}
    ids: dict[int, str] = {}
    with converted(folder) as bundled:
        if bundled is None:
            return {**row, "error": "no agent's log there"}
        for record in TraceStream(bundled):
            ids[record.index] = str(record.trace.id)
            if record.index < head:
                console = Console(file=io.StringIO(), width=WIDTH)
                show_trace(record.trace, console, index=record.index)
                expected[record.index] = console.file.getvalue()  # type: ignore[attr-defined]
    named = [f for f in audited["findings"] if ids.get(f["trace_index"]) != f["trace_id"]]
    row["findings"] = len(audited["findings"])
    row["findings_misnamed"] = len(named)
    row["shown"] = _shown_against(Path(folder), sorted(expected), expected)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, nargs="?", help="raw_export_traces.py's --out")
    parser.add_argument(
        "--logs", help="instead: a folder or glob of Claude Code sessions / Codex rollouts"
    )
    parser.add_argument("--findings", default="raw-langfuse", help="the set whose findings to show")
    parser.add_argument("--every", type=int, default=1, help="check every K-th finding's index")
    parser.add_argument("--head", type=int, default=5, help="and the first H indices")
    args = parser.parse_args()
    import backdoorlab

    result: dict[str, Any] = {"tree": str(Path(backdoorlab.__file__).parent), "counts": {}}
    if args.logs is not None:
        with tempfile.TemporaryDirectory() as tmp:
            result["logs"] = logs_shown(args.logs, Path(tmp), args.head)
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    if args.dir is None:
        parser.error("give DIR, or --logs")
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(args.dir.glob("raw-*.jsonl")):
            if path.name.endswith(".labels.jsonl"):
                continue
            result["counts"][path.stem] = counts(path, Path(tmp))
            print(path.stem, json.dumps(result["counts"][path.stem]), file=sys.stderr)
        chosen = args.dir / f"{args.findings}.jsonl"
        result["show_vs_audit"] = findings_shown(chosen, args.every, args.head)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
