"""What every format's reader shares: content parts, calls, results, tool declarations."""

from __future__ import annotations

import contextlib
import json
import re
from collections import OrderedDict, defaultdict, deque
from typing import Any

from backdoorlab.errors import TraceFormatError

TEXT_PARTS = frozenset({"text", "input_text", "output_text"})
"""Content parts whose ``text`` is the message's text (OpenAI chat, Responses, Anthropic)."""

SILENT_PARTS = frozenset(
    {
        "image_url",
        "image",
        "input_image",
        "input_audio",
        "audio",
        "file",
        "input_file",
        "refusal",
        "thinking",
        "redacted_thinking",
    }
)
"""Parts that hold no text the audit reads: media, a refusal's note, the model's own
reasoning (never rendered, never sent anywhere by a tool)."""


def fail(where: str, field: str, what: str) -> TraceFormatError:
    """The one-line error for a field no reader understands."""
    return TraceFormatError(f"{where}: field '{field}': {what}")


def is_plain_part(part: Any) -> bool:
    """Whether OpenAI's chat format reads this content part as it stands (its ``text``)."""
    if not isinstance(part, dict):
        return False
    kind = part.get("type")
    if kind is None:
        return "text" in part
    return isinstance(kind, str) and (kind in TEXT_PARTS or kind in SILENT_PARTS)


def kind_of(block: Any) -> str | None:
    """A block's or item's ``type`` when it is a string (JSON may hold anything there)."""
    kind = block.get("type") if isinstance(block, dict) else None
    return kind if isinstance(kind, str) else None


def shown(value: Any) -> str:
    """A value for an error message: its JSON, cut short."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def part_text(part: dict[str, Any]) -> str:
    """A plain part's text, as `backdoorlab.traces.content_text` reads it."""
    return str(part.get("text", ""))


def document_text(block: dict[str, Any]) -> str:
    """A ``document`` block's text: Anthropic's text source (or its content blocks), or
    Cohere's ``document.data`` (a tool's result: a string, or an object read as its JSON);
    a PDF's bytes or a link hold no text read here."""
    source = block.get("source")
    if isinstance(source, dict) and source.get("type") == "text":
        return str(source.get("data", ""))
    if isinstance(source, dict) and source.get("type") == "content":
        return result_text(source.get("content"))
    document = block.get("document")
    if isinstance(document, dict) and "data" in document:
        data = document["data"]
        return data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return ""


def call(call_id: str, name: Any, arguments: Any) -> dict[str, Any]:
    """A tool call in OpenAI's chat format; ``arguments`` an object or its JSON text."""
    if not isinstance(arguments, dict | str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    function = {"name": str(name), "arguments": arguments}
    return {"id": call_id, "type": "function", "function": function}


def tool_message(call_id: str | None, name: str | None, content: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "tool", "content": content}
    if call_id is not None:
        message["tool_call_id"] = call_id
    if name is not None:
        message["name"] = name
    return message


def result_text(content: Any) -> str:
    """A tool result's content as text: a string as is; a list of blocks their text, a
    block that is not text (a search result, a file's listing) as its JSON so its values
    are read, media left out; anything else as JSON."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for block in content:
            if kind_of(block) in TEXT_PARTS:
                texts.append(part_text(block))
            elif kind_of(block) in SILENT_PARTS:
                continue
            elif isinstance(block, str):
                texts.append(block)
            else:
                texts.append(json.dumps(block, ensure_ascii=False))
        return "\n".join(texts)
    return json.dumps(content, ensure_ascii=False)


_CALL_TAGS = re.compile(r"<(tool_call|functioncall)>\s*(.*?)\s*(?:</\1>|$)", re.DOTALL)
"""A call in a model's text: Hermes and Qwen write ``<tool_call>{json}</tool_call>``,
Glaive ``<functioncall> {json}`` to the end of the turn."""
_QUOTED_ARGUMENTS = re.compile(r"""("arguments"\s*:\s*)'(.*)'(\s*})\s*$""", re.DOTALL)
"""Glaive's ``"arguments": '{…}'``: the object quoted as a Python string, not JSON."""


def calls_in_text(text: str) -> tuple[str, list[tuple[str, Any]]] | None:
    """The calls a model wrote in its text (name, arguments) and the text left around
    them; None when the text holds no call that parses (then it is only text)."""
    if "<tool_call>" not in text and "<functioncall>" not in text:
        return None
    found: list[tuple[str, Any]] = []
    for match in _CALL_TAGS.finditer(text):
        parsed = _call_object(match.group(2))
        if parsed is None:
            return None  # not a call after all: keep the whole text as the model wrote it
        found.append(parsed)
    if not found:
        return None
    return _CALL_TAGS.sub("", text).strip(), found


def _call_object(body: str) -> tuple[str, Any] | None:
    for candidate in (body, _QUOTED_ARGUMENTS.sub(r"\1\2\3", body)):
        try:
            value = json.loads(candidate)
        except (ValueError, RecursionError):  # too long a number, too deep
            continue
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            arguments = value.get("arguments", value.get("parameters", {}))
            if isinstance(arguments, str):  # else it stays the text the model wrote
                with contextlib.suppress(ValueError, RecursionError):
                    arguments = json.loads(arguments)
            return value["name"], arguments
    return None


def openai_tools(tools: Any) -> Any:
    """Tool declarations in OpenAI's chat format: Anthropic's ``{name, description,
    input_schema}`` and Responses' flat ``{type: function, name, parameters}`` moved under
    ``function``; a JSON text of them (ShareGPT datasets) read first; anything else as is."""
    if isinstance(tools, str):
        try:
            tools = json.loads(tools)
        except (ValueError, RecursionError):  # too long a number, too deep
            return tools
    if not isinstance(tools, list):
        return tools
    out = []
    for tool in tools:
        flat = isinstance(tool, dict) and "function" not in tool and "name" in tool
        if flat and ("input_schema" in tool or tool.get("type", "function") == "function"):
            spec = {k: v for k, v in tool.items() if k not in ("type", "input_schema")}
            if "input_schema" in tool:
                spec["parameters"] = tool["input_schema"]
            tool = {"type": "function", "function": spec}
        out.append(tool)
    return out


def system_text(system: Any) -> str | None:
    """A top-level system prompt (a string, or a list of text blocks: Anthropic's typed,
    Bedrock Converse's untyped among its cache points) as text."""
    if isinstance(system, str):
        return system
    if isinstance(system, list) and all(isinstance(b, dict) for b in system):
        texts = (b for b in system if "text" in b and (kind_of(b) or "text") in TEXT_PARTS)
        return "\n".join(part_text(b) for b in texts)
    return None


class Unanswered:
    """Calls the log gave no id, oldest first, found by id or by tool name in constant
    time: a hostile line of 20,000 such calls took 20 s with a list scanned per result."""

    def __init__(self) -> None:
        self._order: OrderedDict[str, str | None] = OrderedDict()
        self._by_name: dict[str | None, deque[str]] = defaultdict(deque)

    def __bool__(self) -> bool:
        return bool(self._order)

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._order

    def add(self, call_id: str, name: str | None) -> None:
        self._order[call_id] = name
        self._by_name[name].append(call_id)

    def take(
        self, call_id: str | None = None, name: str | None = None, oldest: bool = True
    ) -> str | None:
        """``call_id``'s entry, else the oldest of tool ``name``, else (``oldest``) the
        oldest of any; None when there is none such."""
        queue = self._by_name.get(name) if call_id is None and name is not None else None
        while queue and call_id is None:
            first = queue.popleft()  # ids already answered by id or age are skipped here
            if first in self._order:
                call_id = first
        if call_id is None and oldest and self._order:
            call_id = next(iter(self._order))
        if call_id is None or call_id not in self._order:
            return None
        del self._order[call_id]
        return call_id
