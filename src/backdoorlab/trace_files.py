"""The traces of a trace file as every command reads them: a raw observability export's
LLM calls one trace each, in the audit's order.

`backdoorlab.traces.iter_traces` reads a line as one trace. A user's raw export (a full
Langfuse, LangSmith, OpenTelemetry GenAI or OpenInference export: trace objects, tool
spans, OTLP batches, run trees) is not that: its records that are no LLM call are
skipped and counted, and a line may hold several LLM calls (`trace_formats.exports`).
The audit and the guard's replay read it so, numbering the calls in order; ``show``,
``view``, ``export``, ``train`` and ``poison`` read the same file through this module,
so that ``show -i N`` is the trace of the audit's ``trace_index`` N, never a tool span's
input read as a user's words, and an export or a training set gets the LLM calls.

A line is unpacked exactly as the audit's `TraceStream` unpacks it (`unpack_line`, the
same decoding; each call parsed by `parse_call`, so a bad record is named by its place
in the line); every other line is read by `parse_trace_line`, byte for byte what
`iter_traces` gives, errors included. Lines are streamed, and a file whose records are
all no LLM call is refused in the audit's line (`nothing_to_read`).
"""

from __future__ import annotations

import glob
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
from pydantic import ValidationError

from backdoorlab.errors import TraceFormatError
from backdoorlab.files import check_input_file, is_stdio
from backdoorlab.parquet_traces import is_parquet, row_session
from backdoorlab.trace_formats.claude_sessions import converted
from backdoorlab.trace_formats.exports import Call, Unpacked, nothing_to_read, skipped_note, unpack
from backdoorlab.traces import Trace, iter_trace_lines, parse_trace_line

RAW_EXPORTS = "a raw observability export's LLM calls are read as chat traces"
"""What the commands' help says of a raw export (Langfuse, LangSmith, OpenTelemetry)."""


def parse_record(raw: bytes, source: str, lineno: int) -> Trace:
    """Parse one line; the fast path validates straight from bytes, errors go the slow way."""
    try:
        trace = Trace.model_validate_json(raw)
    except ValidationError:
        pass
    else:
        if trace.as_read:  # else another format's line: `parse_trace_line` converts it
            return trace
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TraceFormatError(
            f"{source}:{lineno}: not valid UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    return parse_trace_line(text, source=source, lineno=lineno)


def parse_call(raw: bytes, source: str, lineno: int, call: Call | None) -> Trace:
    """`parse_record` of ``raw``, the record of ``call`` in line ``lineno`` (None: the
    line itself): an error names the record's fields as the line names them."""
    if call is None:
        return parse_record(raw, source, lineno)
    try:
        return parse_record(raw, source, lineno)
    except TraceFormatError as exc:
        text = _FIELD.sub(lambda m: f"field '{call.place(m.group(1))}'", str(exc), count=1)
        if call.at and call.at not in text:
            text += f" (in {call.at})"
        raise TraceFormatError(text) from None


_FIELD = re.compile(r"field '([^']*)'")


def unpack_line(raw: bytes, source: str, lineno: int) -> Unpacked | None:
    """The LLM calls and skipped records of a raw export's line (`trace_formats.exports`);
    None for a line that is one record (or no JSON: `parse_record` says why)."""
    try:
        data = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    return unpack(data, f"{source}:{lineno}")


class _ChatKeys(msgspec.Struct):
    """The keys that make a line a chat in a format `to_chat` reads, which `unpack`
    leaves as it stands; their values are skipped, not built."""

    messages: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    conversations: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    contents: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_CHAT_KEYS = msgspec.json.Decoder(_ChatKeys)


def is_chat(line: str) -> bool:
    """Whether ``line`` is a JSON object with a chat's key (`unpack` gives None for it),
    found without building the line: the common line of a plain trace file is spared
    the full decoding `unpack_line` makes (a fifth of what reading it cost)."""
    try:
        keys = _CHAT_KEYS.decode(line)
    except (msgspec.DecodeError, RecursionError):  # not an object, or no JSON
        return False
    return not (keys.messages is keys.conversations is keys.contents is msgspec.UNSET)


def call_bytes(call: Call, source: str, lineno: int) -> bytes:
    """The record of ``call`` (of line ``lineno``) as the JSON line it is parsed from."""
    try:
        return msgspec.json.encode(call.record)
    except (msgspec.EncodeError, UnicodeEncodeError, RecursionError):
        raise TraceFormatError(f"{source}:{lineno}: a value no JSON line can hold") from None


def call_trace(call: Call, source: str, lineno: int) -> Trace:
    """The trace of one LLM call of line ``lineno``, as the audit's record of it reads."""
    return parse_call(call_bytes(call, source, lineno), source, lineno, call)


def iter_export_lines(
    path: str | os.PathLike[str], skipped: Counter[str] | None = None
) -> Iterator[tuple[int, str, list[Call] | None]]:
    """(line number, text, its LLM calls) of each non-blank line of a trace file, the
    calls None for a line that is one trace as it stands. ``skipped`` gets a raw
    export's records that are no LLM call, by why, as they are read; a file that has
    such records and no trace raises `TraceFormatError` (`nothing_to_read`) at its end."""
    source = "<stdin>" if is_stdio(path) else str(path)
    found: Counter[str] = Counter()
    traces = 0
    for lineno, line in iter_trace_lines(path):
        unpacked = None if is_chat(line) else unpack_line(line.encode("utf-8"), source, lineno)
        if unpacked is None:
            traces += 1
            yield lineno, line, None
            continue
        found.update(unpacked.skipped)
        if skipped is not None:
            skipped.update(unpacked.skipped)
        traces += len(unpacked.calls)
        yield lineno, line, unpacked.calls
    if not traces and found:
        raise TraceFormatError(nothing_to_read(source, found))


def is_many(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names many files, a directory or a glob (``a[1]`` that exists is a
    file): read only as coding agents' logs (`claude_sessions`), checked by the reader."""
    if is_stdio(path):
        return False
    given = Path(path)
    return given.is_dir() or (not given.exists() and glob.has_magic(str(given)))


def iter_line_traces(
    path: str | os.PathLike[str], skipped: Counter[str] | None = None
) -> Iterator[tuple[int, str, Trace]]:
    """(line number, the line's text, trace) of every trace of the file, in the audit's
    order: ``trace_index`` N is the N-th (`iter_export_lines`). Claude Code's and the
    Codex CLI's own logs (a file, a directory or a glob of them) are read as the audit
    reads them, a session a trace named by its file (`claude_sessions`): line N is then
    the N-th session; a directory or glob of no such log is refused as before, one line
    (`check_input_file`)."""
    for lineno, line, trace, _ in iter_session_traces(path, skipped):
        yield lineno, line, trace


def iter_session_traces(
    path: str | os.PathLike[str], skipped: Counter[str] | None = None
) -> Iterator[tuple[int, str, Trace, str | None]]:
    """`iter_line_traces`, each with the agent's session file it is — as the audit's
    findings name it (their evidence's ``session``) — or None when the input is no
    agent's log: ``show``, ``view`` and ``export`` name a session as the report does. A
    Parquet file ``export`` wrote of such logs names each row's in its ``session`` column
    (`parquet_traces.row_session`): read back, so a round trip keeps it."""
    source = "<stdin>" if is_stdio(path) else str(path)
    if not is_stdio(path):
        with converted(path) as logs:
            if logs is not None:
                with open(logs, encoding="utf-8") as handle:  # a session a line, streamed
                    for lineno, text in enumerate(handle, 1):
                        line = text.rstrip("\n")
                        trace = parse_trace_line(line, source=source, lineno=lineno)
                        session = (trace.model_extra or {}).get("id")
                        yield lineno, line, trace, session if isinstance(session, str) else None
                return
        if is_many(path):
            check_input_file(path)  # "is a directory, not a file", "no such file"
    rows = not is_stdio(path) and is_parquet(path)  # an exported row names its session
    for lineno, line, calls in iter_export_lines(path, skipped):
        if calls is None:
            trace = parse_trace_line(line, source=source, lineno=lineno)
            yield lineno, line, trace, row_session(trace.model_extra) if rows else None
            continue
        for call in calls:
            yield lineno, line, call_trace(call, source, lineno), None


def iter_file_traces(
    path: str | os.PathLike[str], skipped: Counter[str] | None = None
) -> Iterator[Trace]:
    """Stream the traces of a trace file as the audit numbers them (`iter_line_traces`):
    a plain file's as `iter_traces` gives them, a raw export's LLM calls."""
    for _, _, trace in iter_line_traces(path, skipped):
        yield trace


def say_skipped(skipped: Counter[str], say: Callable[[str], None] | None = None) -> None:
    """Say on standard error (or through ``say``) the one line the audit says of a raw
    export's skipped records, when there are any (each reason made printable: a
    LangSmith run type is the file's text)."""
    if not skipped:
        return
    from backdoorlab.terminal import inert

    line = inert(skipped_note(skipped))
    if say is not None:
        say(line)
    else:
        print(line, file=sys.stderr, flush=True)


def read_file_traces(
    path: str | os.PathLike[str], say: Callable[[str], None] | None = None
) -> list[Trace]:
    """Every trace of the file (`iter_file_traces`), the skipped records said once read."""
    skipped: Counter[str] = Counter()
    traces = list(iter_file_traces(path, skipped))
    say_skipped(skipped, say)
    return traces
