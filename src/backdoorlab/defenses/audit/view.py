"""A fast, read-only view of one trace line, for the detectors that stream millions.

`backdoorlab.traces.Trace` (pydantic) builds every field, ``tools`` included — two thirds
of a typical line's bytes, which no streaming detector reads — and costs about ten times
what the audit's own reading of a trace does. msgspec decodes the same line into these
structs with the same field types, checking that ``tools`` and a poison's ``payload``
hold JSON objects, as the model requires, without building them. `dataflow` and trigger
mining read the view; `TraceRecord.trace` builds the full model only for a detector
that asks for it.

The view never accepts a line the model would refuse: its types are the model's, in
msgspec's strict mode (no coercion), so anything unusual — a number written as a
string, a field of the wrong type, a lone surrogate — makes `decode` return None, and
the caller parses the line with pydantic, which accepts it (coercing as it always did)
or raises the error every command gives. What the view holds equals what the model
would: the same strings, the same defaults, ``Message.text`` computed the same way.
A line in another agent log format (Anthropic's content blocks, Responses items, ShareGPT
turns, a model's raw ``<tool_call>`` text) is read into OpenAI's chat format first, by
the same `backdoorlab.trace_formats.to_chat` the model's reader uses.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import msgspec

from backdoorlab.errors import TraceFormatError
from backdoorlab.trace_formats import as_is, codex, log_session, origins, to_chat
from backdoorlab.trace_formats.codex_forks import inherited_steps
from backdoorlab.traces import arguments_text, content_text


class FunctionView(msgspec.Struct, gc=False):
    """`backdoorlab.traces.FunctionCall` (arguments given as an object read as its text)."""

    name: str
    arguments: str | dict[str, Any] = "{}"

    def __post_init__(self) -> None:
        self.arguments = arguments_text(self.arguments)

    def parsed_arguments(self) -> dict[str, Any]:
        """As `FunctionCall.parsed_arguments` (the same ``json`` reading)."""
        try:
            value = json.loads(self.arguments)
        except (ValueError, RecursionError):  # too long a number, too deep
            return {"__raw__": self.arguments}
        return value if isinstance(value, dict) else {"__raw__": value}


class ToolCallView(msgspec.Struct, gc=False):
    """`backdoorlab.traces.ToolCall`."""

    id: str
    function: FunctionView
    type: Literal["function"] = "function"

    @property
    def name(self) -> str:
        return self.function.name


class MessageView(msgspec.Struct):
    """`backdoorlab.traces.Message`."""

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[ToolCallView] | None = None
    tool_call_id: str | None = None
    name: str | None = None
    function_call: Any = None  # OpenAI's legacy call: `trace_formats` reads the line
    parts: Any = None  # a Vercel AI SDK UIMessage's content: `trace_formats` reads the line

    @property
    def text(self) -> str:
        """As `Message.text`."""
        return content_text(self.content)


class _Outcome(msgspec.Struct, gc=False):
    success: bool
    leaked: bool
    steps: int
    invalid_actions: int = 0


class _Object(msgspec.Struct, gc=False):
    """Any JSON object, its contents skipped unbuilt (``tools``, a poison's payload)."""


class _Poison(msgspec.Struct, gc=False):
    threat_model: str
    trigger: str | None = None
    placement: str | None = None
    payload: _Object = msgspec.field(default_factory=_Object)


class MetadataView(msgspec.Struct, gc=False):
    """`backdoorlab.traces.TraceMetadata` (its typed fields; others are skipped)."""

    env: str | None = None
    env_version: str | None = None
    task_id: str | None = None
    family: str | None = None
    split: str | None = None
    seed: int | None = None
    policy: str | None = None
    outcome: _Outcome | None = None
    poison: _Poison | None = None


class TraceView(msgspec.Struct):
    """`backdoorlab.traces.Trace`'s messages and metadata; ``id`` is a foreign
    dataset's own top-level ``id`` (an extra field of the model), if any."""

    messages: list[MessageView]
    tools: list[_Object] = []
    metadata: MetadataView = msgspec.field(default_factory=MetadataView)
    id: Any = None
    system: Any = None  # Anthropic's system prompt: the model reads the line
    session: Any = None  # a Parquet row's session (`parquet_traces.row_session`)


_DECODER = msgspec.json.Decoder(TraceView)


def decode(line: bytes) -> TraceView | None:
    """The view of one JSONL line, or None when only the model can decide (see above)."""
    return read_line(line)[0]


def read_line(line: bytes) -> tuple[TraceView | None, bool]:
    """`decode`'s view, and whether the line was read as it stands (OpenAI's chat format:
    its messages are numbered as the file numbers them, `line_origins` has nothing to say)."""
    view, as_written, _ = read_line_places(line)
    return view, as_written


Places = tuple[list[str] | None, str | None, frozenset[int]]
"""A converted line's `line_places` — its messages' origins and the session it bundles —
and the messages a forked Codex rollout copied from the one it forked (`codex_forks`)."""


def read_line_places(line: bytes) -> tuple[TraceView | None, bool, Places | None]:
    """`read_line`, and a converted line's `line_places` from the same conversion (None
    when the line was not converted: read as it stands, or left to the model). Why: a
    whole-file finding (`Detector.finish`) is located after the line is gone, so the
    audit keeps a converted line's places as it reads it, at no second decoding."""
    try:
        if not line.isascii():
            line.decode("utf-8")  # msgspec does not check the strings it skips; the model does
        view = _DECODER.decode(line)
    except msgspec.ValidationError:  # valid JSON, not this shape: perhaps another format
        converted, places = _converted(line)
        return converted, False, places
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None, False, None
    if as_is(view.messages, view.system):
        return view, True, None
    converted, places = _converted(line)
    return converted, False, places


def _converted(line: bytes) -> tuple[TraceView | None, Places | None]:
    """The view of a line in another agent log format, read into OpenAI's chat format
    (`backdoorlab.trace_formats.to_chat`, as the model reads it), with its places; None
    when the line needs no conversion (the model then decides) or cannot be converted
    (the model then raises the error naming the field)."""
    try:
        data = msgspec.json.decode(line)
        if not isinstance(data, dict):
            return None, None
        origin: list[str] = []
        chat = to_chat(data, "", origin)
        if chat is data:
            return None, None
        view = msgspec.convert(chat, TraceView, strict=True)
    except (msgspec.DecodeError, msgspec.ValidationError, TraceFormatError, RecursionError):
        return None, None
    own = all(at == f"messages.{i}" for i, at in enumerate(origin))  # as `origins` says
    bundle = data.get(codex.KEY)
    copied = inherited_steps(bundle.get("inherited"), origin) if isinstance(bundle, dict) else None
    return view, (None if own else origin, log_session(data), copied or frozenset())


def line_origins(line: bytes) -> list[str] | None:
    """Where each message of a line's chat reading sits in the line as written
    (`backdoorlab.trace_formats.origins`); None when the numbering is the line's own (or
    the line cannot be read: its error is the model's to raise)."""
    return line_places(line)[0]


def line_places(line: bytes) -> tuple[list[str] | None, str | None]:
    """`line_origins`, and the agent's session the line bundles (`log_session`: a log's
    messages' origins are then ``FILE:LINE``), from one decoding of the line."""
    try:
        data = msgspec.json.decode(line)
        if not isinstance(data, dict):
            return None, None
        return origins(data), log_session(data)
    except (msgspec.DecodeError, TraceFormatError, RecursionError):
        return None, None
