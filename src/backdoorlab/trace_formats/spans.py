"""An LLM call's OpenTelemetry span, read as a chat trace from its attributes.

A span line is the span's ``attributes`` — an object of them, or OTLP JSON's list of
``{"key", "value": {"stringValue" | "intValue" | "arrayValue" | "kvlistValue" …}}`` —
with its other fields (``name``, ``traceId``…) beside them, or the attribute object
alone. Three conventions name an LLM call's messages there:

- **OpenTelemetry GenAI** (semantic-conventions ``docs/gen-ai/gen-ai-input-messages.json``,
  ``gen-ai-output-messages.json``, ``gen-ai-system-instructions.json``):
  ``gen_ai.system_instructions``, ``gen_ai.input.messages`` and
  ``gen_ai.output.messages`` (JSON text, or structured), messages of ``role`` and
  ``parts`` — ``text`` (``content``), ``tool_call`` (``id``, ``name``, ``arguments``),
  ``tool_call_response`` (``id``, ``response``: a ``tool`` message answering the call),
  media (``blob``, ``file_data``, ``uri``) and ``reasoning`` holding no text read —,
  and ``gen_ai.tool.definitions``;
- their older flattened form, as OpenLLMetry writes it (traceloop's OpenAI
  instrumentation, ``_set_prompts`` / ``_set_completions``): ``gen_ai.prompt.N.role``,
  ``.content`` (a list of parts as its JSON text), ``.tool_call_id``,
  ``.tool_calls.M.id`` / ``.name`` / ``.arguments``, and ``gen_ai.completion.N.*``;
- **OpenInference** (Arize Phoenix; its ``spec/semantic_conventions.md`` and
  ``spec/tool_calling.md``): ``llm.input_messages.N.message.role``, ``.content``,
  ``.contents.K.message_content.type`` / ``.text``, ``.tool_call_id``, the legacy
  ``.function_call_name`` / ``.function_call_arguments_json``,
  ``.tool_calls.M.tool_call.id`` / ``.function.name`` / ``.function.arguments``,
  ``llm.output_messages.N.*``, and ``llm.tools.N.tool.json_schema``.

A message's field is its attribute (``attributes.gen_ai.input.messages.3``,
``attributes.llm.input_messages.2``): what a trace viewer shows. Attributes no reader
uses (token counts, model names) are left in the line, not read.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

from backdoorlab.trace_formats.parts import fail, kind_of, result_text, shown
from backdoorlab.trace_formats.recorded import read_messages

INPUT, OUTPUT, SYSTEM, TOOLS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
)
_FLAT = re.compile(
    r"(gen_ai\.prompt|gen_ai\.completion|llm\.input_messages|llm\.output_messages)\.([0-9]{1,6})\.(.+)"
)
_TOOL_SCHEMA = re.compile(r"llm\.tools\.([0-9]{1,6})\.tool\.json_schema")
_CALL = re.compile(r"(?:message\.)?tool_calls\.([0-9]{1,6})\.(?:tool_call\.)?(.+)")
_CONTENT = re.compile(r"message\.contents\.([0-9]{1,6})\.message_content\.(.+)")
_SILENT_PARTS = frozenset({"blob", "file_data", "uri", "reasoning"})
_VALUES = frozenset(
    {
        "stringValue",
        "boolValue",
        "intValue",
        "doubleValue",
        "bytesValue",
        "arrayValue",
        "kvlistValue",
    }
)
_DEPTH = 64  # OTLP values nest; deeper than this is no message


def holds_messages(attributes: dict[str, Any]) -> bool:
    """Whether a span's attributes (an object of them) name an LLM call's messages."""
    return any(k in (INPUT, OUTPUT) or _FLAT.fullmatch(k) for k in attributes)


def is_span(data: dict[str, Any]) -> bool:
    """Whether ``data`` is a span (its ``attributes``, or the attributes themselves) that
    holds an LLM call's messages — or a span line in no other format (then `from_span`
    says what it lacks)."""
    if holds_messages(data):
        return True
    attributes = data.get("attributes")
    if isinstance(attributes, list):
        keys = (a.get("key") for a in attributes if isinstance(a, dict))
        return holds_messages(dict.fromkeys(k for k in keys if isinstance(k, str)))
    if isinstance(attributes, dict) and holds_messages(attributes):
        return True
    others = ("input", "output", "contents", "messages", "conversations")
    return "attributes" in data and not any(k in data for k in others)


def from_span(data: dict[str, Any], where: str, origin: list[str]) -> dict[str, Any]:
    """``data`` (a span, `is_span`) as a chat trace; ``origin`` gets each message's field."""
    if "attributes" in data:
        attributes, base, consumed = (
            _attributes(data["attributes"], where),
            "attributes.",
            ("attributes",),
        )
    else:
        attributes, base = data, ""
        consumed = tuple(
            k
            for k in data
            if k in (INPUT, OUTPUT, SYSTEM, TOOLS)
            or _FLAT.fullmatch(k)
            or _TOOL_SCHEMA.fullmatch(k)
        )
    messages: list[Any] = []
    fields: list[str] = []
    inner: dict[str, Any] = {"messages": messages}
    system = attributes.get(SYSTEM)
    if system is not None:
        parts = _json(system, f"{base}{SYSTEM}", where)
        text = (
            parts if isinstance(parts, str) else "\n".join(_texts(parts, f"{base}{SYSTEM}", where))
        )
        messages.append({"role": "system", "content": text})
        fields.append(f"{base}{SYSTEM}")
    for key in (INPUT, OUTPUT):
        if key in attributes:
            listed = _json(attributes[key], f"{base}{key}", where)
            if not isinstance(listed, list):
                raise fail(where, f"{base}{key}", "not a list of messages")
            for number, message in enumerate(listed):
                for said, field in _semconv(message, f"{base}{key}.{number}", where):
                    messages.append(said)
                    fields.append(field)
    for family, number, group in _flat_groups(attributes):
        field = f"{base}{family}.{number}"
        messages.append(_flat_message(family, group, field, where))
        fields.append(field)
    tools = attributes.get(TOOLS)
    if tools is not None:
        inner["tools"] = _json(tools, f"{base}{TOOLS}", where)
    schemas = sorted(
        (int(m.group(1)), v) for k, v in attributes.items() if (m := _TOOL_SCHEMA.fullmatch(k))
    )
    if schemas and "tools" not in inner:
        inner["tools"] = [
            _json(v, f"{base}llm.tools.{i}.tool.json_schema", where) for i, v in schemas
        ]
    _name_results(messages)
    if not messages:
        named = f"{INPUT}, {OUTPUT}, gen_ai.prompt.N.*, llm.input_messages.N.*"
        raise fail(
            where, consumed[0] if consumed else "attributes", f"no LLM call's messages ({named})"
        )
    return read_messages(data, consumed, inner, fields, where, origin, f"{base}{SYSTEM}")


def _name_results(messages: list[dict[str, Any]]) -> None:
    """Each ``tool`` message named after the call it answers: a span names only the id."""
    names: dict[str, str] = {}
    for message in messages:
        for c in message.get("tool_calls") or ():
            if "id" in c:
                names[c["id"]] = c["function"]["name"]
        answered = message.get("tool_call_id")
        if message["role"] == "tool" and "name" not in message and answered in names:
            message["name"] = names[answered]


def _attributes(attributes: Any, where: str) -> dict[str, Any]:
    """A span's attributes as an object: OTLP JSON's list of key-values read."""
    if isinstance(attributes, dict):
        return attributes
    if not isinstance(attributes, list):
        raise fail(where, "attributes", "neither an object nor a list of key-values")
    out: dict[str, Any] = {}
    for number, pair in enumerate(attributes):
        if not isinstance(pair, dict) or not isinstance(pair.get("key"), str):
            raise fail(where, f"attributes.{number}", 'an attribute is {"key", "value"}')
        out[pair["key"]] = _any_value(pair.get("value"), f"attributes.{number}.value", where, 0)
    return out


def _any_value(value: Any, field: str, where: str, depth: int) -> Any:
    """OTLP JSON's ``AnyValue`` as the value it holds."""
    if depth > _DEPTH:
        raise fail(where, field, "values nested too deeply")
    if not isinstance(value, dict) or len(value) > 1:
        raise fail(where, field, f"{shown(value)} is no OTLP value")
    if not value:
        return None
    ((key, held),) = value.items()
    if key not in _VALUES:
        raise fail(where, field, f"{shown(key)} is no OTLP value")
    if key in ("stringValue", "boolValue", "doubleValue", "bytesValue"):
        return held
    if key == "intValue":
        return (
            int(held) if isinstance(held, int | str) and str(held).lstrip("-").isdigit() else held
        )
    values = held.get("values", []) if isinstance(held, dict) else None
    if not isinstance(values, list):
        raise fail(where, f"{field}.{key}", "no list of values")
    if key == "arrayValue":
        return [
            _any_value(v, f"{field}.{key}.values.{i}", where, depth + 1)
            for i, v in enumerate(values)
        ]
    if key == "kvlistValue":
        pairs = [
            (v.get("key"), v.get("value")) if isinstance(v, dict) else (None, None) for v in values
        ]
        return {
            str(k): _any_value(v, f"{field}.{key}.values.{i}", where, depth + 1)
            for i, (k, v) in enumerate(pairs)
        }
    raise fail(where, field, f"{shown(key)} is no OTLP value")


def _json(value: Any, field: str, where: str) -> Any:
    """An attribute that holds JSON as its text (as exporters write objects), read."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        if field.endswith(SYSTEM):
            return value  # instructions written as plain text
        raise fail(where, field, "not JSON") from None


def _texts(parts: Any, field: str, where: str) -> list[str]:
    if not isinstance(parts, list):
        raise fail(where, field, "not a list of parts")
    out = []
    for number, part in enumerate(parts):
        if kind_of(part) == "text":
            out.append(str(part.get("content", "")))
        elif kind_of(part) not in _SILENT_PARTS:
            raise fail(where, f"{field}.{number}.type", f"part {shown(kind_of(part))} is not read")
    return out


def _semconv(message: Any, field: str, where: str) -> list[tuple[dict[str, Any], str]]:
    """A GenAI semconv message as chat messages: its text and calls one message, each
    ``tool_call_response`` a ``tool`` message (in any role: some instrumentations keep
    results in a user's message, as the provider's API does)."""
    if not isinstance(message, dict) or not isinstance(message.get("parts"), list):
        raise fail(where, field, 'a message is {"role", "parts"}')
    role = message.get("role")
    out: list[tuple[dict[str, Any], str]] = []
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    opened: list[str] = []

    def flush() -> None:
        if texts or calls:
            said: dict[str, Any] = {"role": role, "content": "".join(texts)}
            if calls:
                said["tool_calls"] = list(calls)
            out.append((said, opened[0]))
        texts.clear(), calls.clear(), opened.clear()

    for number, part in enumerate(message["parts"]):
        kind = kind_of(part)
        place = f"{field}.parts.{number}" if len(message["parts"]) > 1 else field
        if kind == "tool_call_response":
            flush()
            answer: dict[str, Any] = {"role": "tool", "content": result_text(part.get("response"))}
            if part.get("id") is not None:
                answer["tool_call_id"] = str(part["id"])
            out.append((answer, place))
            continue
        if not opened:
            opened.append(place)
        if kind == "text":
            texts.append(str(part.get("content", "")))
        elif kind == "tool_call":
            calls.append(_call(part.get("id"), part.get("name"), part.get("arguments")))
        elif kind not in _SILENT_PARTS:
            raise fail(where, f"{field}.parts.{number}.type", f"part {shown(kind)} is not read")
    flush()
    if not out:
        out.append(({"role": role, "content": ""}, field))
    return out


def _call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    """A call in OpenAI's chat format; without an ``id`` when the log gave none (the chat
    reader then gives one and pairs its result by order)."""
    if arguments is None:
        arguments = {}
    elif not isinstance(arguments, dict | str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    out: dict[str, Any] = {
        "type": "function",
        "function": {"name": str(name), "arguments": arguments},
    }
    return {"id": str(call_id), **out} if call_id is not None else out


def _flat_groups(attributes: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    """The flattened messages: (family, number, {rest of key: value}), prompts first."""
    groups: dict[tuple[str, int], dict[str, Any]] = defaultdict(dict)
    for key, value in attributes.items():
        match = _FLAT.fullmatch(key)
        if match:
            groups[(match.group(1), int(match.group(2)))][match.group(3)] = value
    order = ("gen_ai.prompt", "llm.input_messages", "gen_ai.completion", "llm.output_messages")
    return [
        (f, n, g)
        for (f, n), g in sorted(groups.items(), key=lambda x: (order.index(x[0][0]), x[0][1]))
    ]


def _flat_message(family: str, group: dict[str, Any], field: str, where: str) -> dict[str, Any]:
    """One flattened message (OpenLLMetry's or OpenInference's keys) as a chat message."""
    prefix = "message." if family.startswith("llm.") else ""
    role = group.get(f"{prefix}role")
    content = group.get(f"{prefix}content")
    if isinstance(content, str) and content.lstrip()[:1] == "[":
        try:
            parsed = json.loads(content)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, list) and all(isinstance(p, dict) and "type" in p for p in parsed):
            content = parsed  # a list of parts, written as its JSON
    contents: dict[int, dict[str, Any]] = defaultdict(dict)
    calls: dict[int, dict[str, Any]] = defaultdict(dict)
    for key, value in group.items():
        if (match := _CONTENT.fullmatch(key)) is not None:
            contents[int(match.group(1))][match.group(2)] = value
        elif (match := _CALL.fullmatch(key)) is not None:
            calls[int(match.group(1))][match.group(2)] = value
    if content is None and contents:
        content = "".join(
            str(c.get("text", ""))
            for _, c in sorted(contents.items())
            if c.get("type", "text") == "text"
        )
    message: dict[str, Any] = {"role": role, "content": content if content is not None else ""}
    if calls:
        message["tool_calls"] = [
            _call(
                c.get("id"),
                c.get("function.name", c.get("name")),
                c.get("function.arguments", c.get("arguments")),
            )
            for _, c in sorted(calls.items())
        ]
    legacy = group.get(f"{prefix}function_call_name")  # OpenInference's function call
    if legacy is not None:
        arguments = group.get(f"{prefix}function_call_arguments_json")
        message.setdefault("tool_calls", []).append(_call(None, legacy, arguments))
    for key in ("tool_call_id", "name"):
        if group.get(f"{prefix}{key}") is not None:
            message[key] = str(group[f"{prefix}{key}"])
    if role is None:
        raise fail(where, f"{field}.{prefix}role", "a message without its role")
    return message
