"""`backdoorlab view`: a trace file as one self-contained, searchable HTML page.

The page holds the traces as data and a small inline script renders them: the list a
page of 50 at a time, a trace's conversation only when it is opened. A 100k-trace file
therefore costs the browser a JSON parse of the list's fields, never 100k DOM nodes.
The messages are a second data element, parsed on the first search or opened trace;
each trace's messages are a JSON *string* in it, parsed when that trace is opened.

Everything in a trace is untrusted. The data sits in a ``<script type="application/
json">`` element with ``<``, ``>`` and ``&`` written as JSON escapes, so no trace text
can close that element; the script puts text into the page with ``textContent`` only;
and the Content-Security-Policy allows the inline script and style and nothing else,
so nothing the page holds can make a request.

Secrets are found by the same shapes as `show` (`backdoorlab.report.viewer`), whose
patterns the page compiles as JavaScript regular expressions: they are written in the
syntax both languages share.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import atomic_writer, check_regular_file, is_stdio, read_text_file
from backdoorlab.traces import ToolCall, Trace, load_json

if TYPE_CHECKING:
    from backdoorlab.defenses.audit.sinks import SinkResolver

DATA_MARKER = "@@BACKDOORLAB_DATA@@"
"""Where the template's data element holds the data (JSON escapes keep it out of traces)."""

MAX_DEPTH = 100
"""How deep an audit report or a guard decision may nest (ours nest under ten): the page
nests them again and writes them out, deeper than the parser read them."""

MAX_REPORT_BYTES = 1 << 30
"""The largest audit report read: 1 GiB, millions of findings, yet a bound on a file
that never ends (``/dev/zero`` was read until memory ran out)."""


def trace_entry(index: int, trace: Trace, sinks: SinkResolver) -> tuple[dict[str, Any], str]:
    """The list entry of one trace (what filters and the list show) and its messages
    as a compact JSON string (parsed by the page when the trace is opened). A tool call
    carries whether it sends data out (the audit's sink rules decide, as for
    ``dataflow``): a secret in its arguments is where the secret leaves."""
    meta = trace.metadata
    outcome, poison = meta.outcome, meta.poison
    first_user = next((m.text for m in trace.messages if m.role == "user"), "")
    entry: dict[str, Any] = {
        "index": index,
        "family": meta.family or "",
        "task": meta.task_id or "",
        "poison": poison.threat_model if poison else None,
        "trigger": poison.trigger if poison else None,
        "success": outcome.success if outcome else None,
        "leaked": outcome.leaked if outcome else None,
        "steps": len(trace.messages),
        "snippet": first_user[:160],
    }
    messages = [
        [
            m.role,
            m.name or "",
            m.text,
            [
                [c.function.name, c.function.arguments, _is_sink(sinks, c, meta.env)]
                for c in m.tool_calls or ()
            ],
        ]
        for m in trace.messages
    ]
    return entry, _json_text(messages)


def _is_sink(sinks: SinkResolver, call: ToolCall, env: str | None) -> bool:
    try:
        return sinks.resolve(call.function.name, call.function, env) is not None
    except BackdoorlabError:  # an environment the resolver cannot build: foreign data
        return sinks.resolve(call.function.name, call.function, None) is not None


def read_audit(path: Path, traces: Path) -> dict[int, list[dict[str, Any]]]:
    """An audit report's findings by trace index; refuses a report of another file."""
    from backdoorlab.digests import file_sha256

    report = _json_file(path, "an audit report (backdoorlab audit -o)")
    if not isinstance(report, dict) or not isinstance(report.get("findings"), list):
        raise BackdoorlabError(f"{path}: not an audit report (no 'findings' list)")
    recorded = report.get("sha256")
    if recorded is not None and not isinstance(recorded, str):
        raise BackdoorlabError(f"{path}: not an audit report ('sha256' is not a string)")
    # a pipe or a device can be read once: hashing it would leave no traces to show
    regular = not is_stdio(traces) and Path(traces).is_file()
    if recorded and regular and file_sha256(traces) != recorded:
        raise BackdoorlabError(
            f"{path}: audits another file ({report.get('path')}, sha256 {str(recorded)[:12]}…),"
            f" not {traces}"
        )
    out: dict[int, list[dict[str, Any]]] = {}
    traces_audited = report.get("traces")
    for n, finding in enumerate(report["findings"]):
        if not isinstance(finding, dict) or not _is_int(finding.get("trace_index")):
            raise BackdoorlabError(f"{path}: findings[{n}] has no integer 'trace_index'")
        index = finding["trace_index"]
        if index < 0 or (isinstance(traces_audited, int) and index >= traces_audited):
            raise BackdoorlabError(
                f"{path}: findings[{n}]: trace_index {index} is not one of the "
                f"{traces_audited} traces the report audits"
            )
        for field in ("detector", "severity"):
            if not isinstance(finding.get(field), str):
                raise BackdoorlabError(f"{path}: findings[{n}] has no '{field}' string")
        keep = ("step", "detector", "severity", "summary", "evidence")
        out.setdefault(finding["trace_index"], []).append({k: finding.get(k) for k in keep})
    return out


def read_guard(path: Path) -> dict[int, dict[str, Any]]:
    """Guard decisions (``guard replay -o``: a JSON line per trace with ``index`` and
    ``blocked``) by trace index; the rest of each record is shown as the guard wrote it."""
    from backdoorlab.files import iter_lines

    if not is_stdio(path):
        _regular_file(path, "guard decisions")
    out: dict[int, dict[str, Any]] = {}
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
            record = load_json(text, f"{path}:{number}", BackdoorlabError, max_depth=MAX_DEPTH)
        except ValueError:  # UnicodeDecodeError too
            raise BackdoorlabError(f"{path}:{number}: not a JSON line") from None
        if not isinstance(record, dict) or not _is_int(record.get("index")):
            raise BackdoorlabError(f"{path}:{number}: a guard decision needs an integer 'index'")
        out[record["index"]] = record
    return out


def _text(path: str | os.PathLike[str]) -> str:
    """A path as text a UTF-8 page can hold: the bytes of a file name that are not UTF-8
    (Linux allows any) as U+FFFD; ``str`` keeps them as lone surrogates, which no UTF-8
    writer takes (the page's write raised UnicodeEncodeError)."""
    return os.fsencode(path).decode("utf-8", "replace")


def _is_int(value: Any) -> bool:
    """An integer index, not a boolean (``True`` is an ``int`` to Python: trace 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _regular_file(path: Path, what: str) -> None:
    """Refuse anything but a regular file (`files.check_regular_file`), and ``-``."""
    if is_stdio(path):  # not a file named "-" (the message said "no such file")
        raise BackdoorlabError(f"-: {what} is read from a file, not from standard input")
    if not os.path.lexists(path):
        raise BackdoorlabError(f"{path}: no such file ({what})")
    check_regular_file(path, f"expected {what} in a file")


def _json_file(path: Path, what: str) -> Any:
    _regular_file(path, what)
    text = read_text_file(path, BackdoorlabError, limit=MAX_REPORT_BYTES)
    try:
        return load_json(text, str(path), BackdoorlabError, max_depth=MAX_DEPTH)
    except ValueError as exc:
        raise BackdoorlabError(f"{path}: cannot read {what} ({exc})") from None


def page_data(
    traces: Path,
    audit: Path | None = None,
    guard: Path | None = None,
    skipped: Counter[str] | None = None,
) -> dict[str, Any]:
    """Everything the page shows, as one JSON-able dict (see `render_viewer`). A raw
    observability export's LLM calls are its traces, numbered as the audit and the guard
    number them (``skipped`` gets its records that are no LLM call: `trace_files`)."""
    from backdoorlab.defenses.audit.sinks import SinkResolver
    from backdoorlab.report.viewer import SECRET_SHAPES
    from backdoorlab.trace_files import iter_session_traces

    findings = read_audit(audit, traces) if audit is not None else {}
    decisions = read_guard(guard) if guard is not None else {}
    entries, messages = [], []
    sinks = SinkResolver()
    for index, (_, _, trace, session) in enumerate(iter_session_traces(traces, skipped)):
        entry, text = trace_entry(index, trace, sinks)
        if session is not None:  # an agent's log: its file, as the audit's findings name it
            entry["session"] = session
        if index in findings:
            entry["findings"] = findings[index]
        if index in decisions:
            entry["guard"] = decisions[index]
        entries.append(entry)
        messages.append(text)
    if not entries:
        raise BackdoorlabError(f"{traces}: holds no traces")
    for path, indices, what in ((audit, findings, "a finding"), (guard, decisions, "a decision")):
        stray = [i for i in indices if not 0 <= i < len(entries)]
        if stray:
            raise BackdoorlabError(
                f"{path}: {what} for trace {stray[0]}, but {traces} holds {len(entries)} "
                "traces (a file of other traces?)"
            )
    return {
        "source": _text(traces),
        "audit": _text(audit) if audit else None,
        "guard": _text(guard) if guard else None,
        "secretShapes": [p.pattern for p in SECRET_SHAPES],
        "traces": entries,
        "messages": messages,
    }


def _json_text(data: Any) -> str:
    """Compact JSON that a browser's ``JSON.parse`` takes: Python writes NaN and
    ±Infinity as bare words JSON lacks (one in a guard decision or a finding broke the
    whole page), so each is written as that word, a string."""
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a float JSON cannot hold: rare, so the copy is made only then
        return json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"))


def _finite(data: Any) -> Any:
    """A copy of ``data`` with every non-finite float as its name, a string (a loop, not
    recursion: however deep the data nests)."""
    root = [data]
    pending: list[tuple[Any, Any]] = [(root, 0)]
    while pending:
        parent, key = pending.pop()
        value = parent[key]
        if isinstance(value, float) and not math.isfinite(value):
            parent[key] = "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
        elif isinstance(value, dict):
            parent[key] = copy = dict(value)
            pending.extend((copy, k) for k in copy)
        elif isinstance(value, list | tuple):
            parent[key] = copy = list(value)
            pending.extend((copy, i) for i in range(len(copy)))
    return root[0]


def script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: ``<``, ``>``, ``&`` (and the two line
    separators JavaScript once treated as newlines) as ``\\u`` escapes."""
    text = _json_text(data)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def render_viewer(data: dict[str, Any]) -> Iterator[str]:
    """The page, in pieces (the data of a large file is not copied into one string).

    The messages go in an element of their own, after the list's data: the page draws
    the list from the small part and parses the large one only when a trace is opened or
    the text searched."""
    from importlib.resources import files

    from backdoorlab.report.html import environment

    assets = files("backdoorlab.report") / "assets"
    template = environment().get_template("viewer.html.j2")
    head, middle, tail = template.render(
        title=Path(data["source"]).name,
        style=(assets / "viewer.css").read_text(),
        script=(assets / "viewer.js").read_text(),
    ).split(DATA_MARKER)
    yield head
    yield script_json({k: v for k, v in data.items() if k != "messages"})
    yield middle
    yield script_json(data["messages"])
    yield tail


def write_viewer(
    traces: Path,
    output: Path,
    audit: Path | None = None,
    guard: Path | None = None,
    skipped: Counter[str] | None = None,
) -> Path:
    """Write the viewer page of ``traces`` (with audit findings and guard decisions)."""
    data = page_data(traces, audit, guard, skipped)
    with atomic_writer(output) as handle:
        for piece in render_viewer(data):
            handle.write(piece)
    return output
