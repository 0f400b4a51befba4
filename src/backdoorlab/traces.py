"""The trace format: one agent episode as OpenAI-style chat messages plus metadata.

A `Trace` is what every stage exchanges: `collect` writes them, `poison` rewrites
them, `train` learns from them, `audit` inspects them. On disk it is JSONL, one trace
per line, streamed so a million-trace file never sits in memory — or Parquet, a row per
trace (`backdoorlab.parquet_traces`).

The format is OpenAI's chat format on purpose, so files made elsewhere load too:

- ``messages``: ``system`` / ``user`` / ``assistant`` (optional ``tool_calls``, each
  ``{"id", "type": "function", "function": {"name", "arguments"}}`` with ``arguments``
  a JSON *string* — or a JSON object, as TRL's conversational format and the chat
  templates hold it, read as the string `ToolCall.make` writes) / ``tool``
  (``tool_call_id``, ``name``, ``content``);
- ``tools``: JSON-Schema tool declarations in OpenAI's function format;
- ``metadata``: ours — environment, task, split, seed, policy, outcome and, for a
  poisoned trace, ``poison``. Absent on foreign data.

Unknown fields are kept (``extra="allow"``) so that reading and re-writing someone
else's dataset, e.g. after ``audit --filter``, never loses data. Lines in other agent
log formats (Anthropic Messages, OpenAI Responses, ShareGPT, a model's raw
``<tool_call>`` text) are read into this one (`backdoorlab.trace_formats`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from backdoorlab.errors import BackdoorlabError, TraceFormatError
from backdoorlab.files import atomic_writer as atomic_writer  # re-exported: callers import it here
from backdoorlab.files import check_input_file, is_stdio, iter_lines
from backdoorlab.parquet_traces import is_parquet, iter_rows
from backdoorlab.trace_formats import as_is, to_chat

Role = Literal["system", "user", "assistant", "tool", "developer"]
MAX_ARGUMENT_DEPTH = 64
"""Nesting of a tool call's arguments read as JSON; deeper reads as a malformed string
(no tool takes arguments nested that deep; the readers' recursion would fail first)."""


def arguments_text(value: Any) -> Any:
    """A call's arguments as OpenAI's JSON string: an object (TRL's conversational format,
    chat templates) is written compactly with its key order kept; anything else as is."""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return value


class FunctionCall(BaseModel):
    """The function part of a tool call; ``arguments`` is a JSON string as in OpenAI's API
    (a JSON object is read as that string: `arguments_text`)."""

    model_config = ConfigDict(extra="allow")
    name: str
    arguments: str = "{}"

    @field_validator("arguments", mode="before")
    @classmethod
    def arguments_as_text(cls, value: Any) -> Any:
        return arguments_text(value)

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; a malformed string yields ``{"__raw__": string}``, and
        so does one nested deeper than `MAX_ARGUMENT_DEPTH`: the string comes from a
        model or a trace file, and every reader of the arguments (the guard, the audit, a
        chat template) walks them recursively."""
        try:
            value = load_json(self.arguments, "arguments", max_depth=MAX_ARGUMENT_DEPTH)
        except (ValueError, TraceFormatError):
            return {"__raw__": self.arguments}
        return value if isinstance(value, dict) else {"__raw__": value}


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall

    @classmethod
    def make(cls, id: str, name: str, arguments: dict[str, Any]) -> ToolCall:
        """Build a call from a Python dict of arguments (serialised compactly, key order kept)."""
        return cls(id=id, function=FunctionCall(name=name, arguments=arguments_text(arguments)))

    @property
    def name(self) -> str:
        return self.function.name

    @property
    def arguments(self) -> dict[str, Any]:
        return self.function.parsed_arguments()


def content_text(content: str | list[dict[str, Any]] | None) -> str:
    """A message's content as plain text: a string as is, OpenAI's content parts joined."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))


class Message(BaseModel):
    """One chat message. ``content`` may be a string or OpenAI's list of content parts."""

    model_config = ConfigDict(extra="allow")
    role: Role
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    name: str | None = None

    @property
    def text(self) -> str:
        """The content as plain text, whatever shape it was stored in."""
        return content_text(self.content)


class Outcome(BaseModel):
    """How an episode ended, as judged by the environment."""

    success: bool
    leaked: bool
    steps: int
    invalid_actions: int = 0


class Poison(BaseModel):
    """What an attack did to a trace; recorded so experiments and audits have ground truth."""

    model_config = ConfigDict(extra="allow")
    threat_model: str
    trigger: str | None = None
    placement: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


class TraceMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")
    env: str | None = None
    env_version: str | None = None
    task_id: str | None = None
    family: str | None = None
    split: str | None = None
    seed: int | None = None
    policy: str | None = None
    outcome: Outcome | None = None
    poison: Poison | None = None


class Trace(BaseModel):
    model_config = ConfigDict(extra="allow")
    messages: list[Message]
    tools: list[dict[str, Any]] = Field(default_factory=list)
    metadata: TraceMetadata = Field(default_factory=TraceMetadata)

    @property
    def is_poisoned(self) -> bool:
        return self.metadata.poison is not None

    def tool_calls(self) -> Iterator[tuple[int, ToolCall]]:
        """Every tool call with the index of the assistant message that made it."""
        for index, message in enumerate(self.messages):
            for call in message.tool_calls or ():
                yield index, call

    @property
    def as_read(self) -> bool:
        """Whether this trace, validated straight from JSON, is what `parse_trace_line`
        reads (OpenAI's chat format throughout: `backdoorlab.trace_formats`)."""
        system = (self.model_extra or {}).get("system")
        return as_is(self.messages, system, self.tools)

    def to_json(self) -> str:
        """One compact JSON line; deterministic for equal traces (field order is fixed)."""
        return self.model_dump_json(exclude_none=True)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]", re.ASCII)
"""A JSON escape of a UTF-16 surrogate: legal JSON, but a lone one is no character."""


def load_json(
    text: str,
    where: str,
    error: type[BackdoorlabError] = TraceFormatError,
    *,
    max_depth: int | None = None,
) -> Any:
    """`json.loads` of untrusted text (a trace line, a report, a decision log's line), the
    hostile cases raised as ``error`` naming ``where`` (the file, and the line where one
    applies): JSON nested deeper than the parser recurses (or than ``max_depth``, for a
    reader whose data is nested again when written out) and a lone surrogate escape,
    which no later write, hash or terminal could encode. JSON that does not parse raises
    `ValueError` as `json.loads` does, for the caller to word as its format needs."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise error(f"{where}: JSON nested too deeply") from None
    if max_depth is not None and _nested_deeper(data, max_depth):
        raise error(f"{where}: JSON nested too deeply") from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise error(f"{where}: a lone UTF-16 surrogate escape") from None
        except RecursionError:
            raise error(f"{where}: JSON nested too deeply") from None
    return data


def _nested_deeper(data: Any, limit: int) -> bool:
    """Whether arrays and objects in ``data`` nest more than ``limit`` deep (a loop, not
    recursion: the data may nest as deep as the parser allowed)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in value)
    return False


_SPREAD = (
    "; one JSON document spread over lines (a tool's JSON export, indented) is no JSON"
    " Lines file: write a record a line, e.g. jq -c '.[]' FILE > FILE.jsonl"
)
"""What a line that opens a document alone says: the file is JSON, not JSON Lines."""


def parse_trace_line(line: str, *, source: str = "<string>", lineno: int = 1) -> Trace:
    """Parse one JSONL line, raising `TraceFormatError` that names the place and the field.

    Whatever the line holds, nothing else is raised: JSON nested deeper than the parser
    recurses, a number too long to convert and a lone surrogate (which no later write,
    tokenizer or terminal could encode) are format errors too.
    """
    try:
        data = load_json(line, f"{source}:{lineno}")
    except json.JSONDecodeError as exc:
        hint = _SPREAD if line.strip() in ("[", "{") else ""
        raise TraceFormatError(f"{source}:{lineno}: not valid JSON ({exc.msg}){hint}") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise TraceFormatError(f"{source}:{lineno}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise TraceFormatError(f"{source}:{lineno}: expected a JSON object")
    return trace_from_data(data, f"{source}:{lineno}")


def trace_from_data(data: dict[str, Any], where: str, origin: list[str] | None = None) -> Trace:
    """A decoded JSON object read as a trace, in any format `trace_formats` reads; a
    `TraceFormatError` naming ``where`` and the field for what cannot be read.
    ``origin``, when given, gets the field each message of a converted object came from
    (`trace_formats.to_chat`)."""
    data = to_chat(data, where, origin)
    if "messages" not in data:
        raise TraceFormatError(
            f"{where}: no 'messages' field (nor ShareGPT's 'conversations', a"
            " Responses 'input' or Gemini's 'contents')"
        )
    try:
        return Trace.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise TraceFormatError(f"{where}: field '{field}': {first['msg']}") from None
    except RecursionError:
        raise TraceFormatError(f"{where}: JSON nested too deeply") from None


def iter_trace_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
    """(1-based line number, text) of each non-blank line of a trace file, unparsed, for
    the readers that copy lines verbatim. Lines end at ``\\n`` only (as the audit's
    byte-exact reader splits them); bytes that are not UTF-8 and a broken or missing file
    raise `TraceFormatError` naming the file and line. A ``.parquet`` file gives each row
    as the JSON line it stands for, numbered by row (`backdoorlab.parquet_traces`)."""
    source = "<stdin>" if is_stdio(path) else str(path)
    if not is_stdio(path) and is_parquet(path):
        check_input_file(path, TraceFormatError)
        for row, raw in iter_rows(path, TraceFormatError):
            yield row, raw.decode("utf-8")
        return
    for lineno, raw in iter_lines(path, TraceFormatError):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TraceFormatError(
                f"{source}:{lineno}: not valid UTF-8 ({exc.reason} at byte {exc.start})"
            ) from None
        if line.strip():
            yield lineno, line


def iter_traces(path: str | os.PathLike[str]) -> Iterator[Trace]:
    """Stream traces from a JSONL (.jsonl.gz, .parquet) file, ``-`` for stdin; blank lines
    are skipped."""
    source = "<stdin>" if is_stdio(path) else str(path)
    for lineno, line in iter_trace_lines(path):
        yield parse_trace_line(line, source=source, lineno=lineno)


def read_traces(path: str | os.PathLike[str]) -> list[Trace]:
    return list(iter_traces(path))


def write_traces(path: str | os.PathLike[str], traces: Iterable[Trace]) -> int:
    """Write traces as JSONL atomically (``-``: to stdout), streaming; returns how many."""
    count = 0
    with atomic_writer(path) as handle:
        for trace in traces:
            handle.write(trace.to_json())
            handle.write("\n")
            count += 1
    return count


def template_message(message: Message) -> dict[str, Any]:
    """A message as Hugging Face chat templates and TRL expect it: tool-call arguments as
    objects (templates ``tojson`` them; a string would come out encoded twice), no
    ``tool_calls`` key unless there are calls (Llama 3.1's template refuses any list but
    one call), tool results with their ``name`` and ``tool_call_id``."""
    item: dict[str, Any] = {"role": message.role, "content": message.text}
    if message.tool_calls:
        item["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    if message.role == "tool":
        item["tool_call_id"] = message.tool_call_id or ""
        item["name"] = message.name or ""
    return item


def to_hf_dataset(traces: Iterable[Trace]):  # -> datasets.Dataset
    """Traces as a `datasets.Dataset` in TRL's conversational format, which TRL's
    ``SFTTrainer`` trains on unchanged with any tool-calling template.

    Columns: ``messages`` (`template_message` each), ``tools`` (the JSON schemas; null
    for a trace without tools, since Llama 3.1's template declares tools even for ``[]``)
    and ``metadata``. Each message, tool and metadata record is a ``datasets.Json``
    value: a plain Arrow struct would unify the dicts of different tools and messages
    into one type and fill every call's ``arguments`` with the other tools' keys set to
    null, which the templates would then render.
    """
    import datasets  # heavy import, only when converting

    features = datasets.Features(
        {
            "messages": datasets.List(datasets.Json()),
            "tools": datasets.List(datasets.Json()),
            "metadata": datasets.Json(),
        }
    )
    rows = [
        {
            "messages": [_json_text(template_message(m)) for m in trace.messages],
            "tools": [_json_text(t) for t in trace.tools] if trace.tools else None,
            "metadata": _json_text(trace.metadata.model_dump(mode="json", exclude_none=True)),
        }
        for trace in traces
    ]
    return datasets.Dataset.from_list(rows, features=features)


def _json_text(value: Any) -> Any:
    """``value`` as the JSON text a ``datasets.Json`` cell holds, written by Python's
    ``json`` (floats at repr precision, read back exactly). ``datasets`` writes with
    pandas' ujson at ``double_precision=10``, so 0.12345678901234567 became 0.123456789;
    a text it can parse is stored as given. A NaN or an Infinity (no JSON spelling) is
    left to ``datasets`` (which writes null; `backdoorlab export` refuses them first)."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return value
