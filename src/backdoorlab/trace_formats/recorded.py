"""The chat messages an observability record holds, read with the record's field names.

Each record (`observability`, `spans`) is taken apart into messages of a format
`chat.from_messages` reads and where each sits in the record; this reads them and
renames what the chat reader names (``messages.3.content.1``) as the record's field
(``input.3.content.1``), in origins and in errors alike.
"""

from __future__ import annotations

import re
from typing import Any

from backdoorlab.errors import TraceFormatError
from backdoorlab.trace_formats.chat import from_messages
from backdoorlab.trace_formats.parts import fail


def read_messages(
    data: dict[str, Any],
    consumed: tuple[str, ...],
    inner: dict[str, Any],
    fields: list[str],
    where: str,
    origin: list[str],
    system_field: str = "system",
) -> dict[str, Any]:
    """``inner`` (``messages``, ``tools``, ``system`` in a format `from_messages` reads;
    message ``i`` sits at ``fields[i]`` of the record) read as chat; the record's other
    fields but ``consumed`` kept beside them. Errors and origins name the record's fields."""
    if not inner["messages"]:
        raise fail(where, consumed[0], "holds no chat messages")
    sub: list[str] = []
    try:
        chat = from_messages(inner, where, sub)
    except TraceFormatError as exc:
        raise TraceFormatError(_renamed(str(exc), fields, system_field)) from None
    if chat is inner:
        sub = [f"messages.{i}" for i in range(len(inner["messages"]))]
    origin += [_renamed(s, fields, system_field, quoted=False) for s in sub]
    out = kept(data, consumed)
    out["messages"] = chat["messages"]
    if chat.get("tools") is not None:
        out["tools"] = chat["tools"]
    return out


def kept(data: dict[str, Any], consumed: tuple[str, ...]) -> dict[str, Any]:
    """The record's fields but those read as messages; a ``metadata`` that is no object
    (a tool's free-form note, not our trace metadata) left out of the reading."""
    out = {k: v for k, v in data.items() if k not in consumed}
    if "metadata" in out and not isinstance(out["metadata"], dict):
        del out["metadata"]
    return out


def _renamed(text: str, fields: list[str], system_field: str, quoted: bool = True) -> str:
    """``messages.N…`` (and ``system``) in ``text`` as the record's own field names."""
    quote = "'" if quoted else "^"

    def field(match: re.Match[str]) -> str:
        index = int(match.group(2))
        lead = match.group(1) if quoted else ""
        return lead + (fields[index] if index < len(fields) else match.group(0))

    text = re.sub(rf"({quote})messages\.([0-9]{{1,9}})", field, text)
    return re.sub(
        rf"({quote})system\b", lambda m: (m.group(1) if quoted else "") + system_field, text
    )
