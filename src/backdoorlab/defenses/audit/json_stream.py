"""A JSON object written in pieces, byte for byte as ``json.dumps(obj, indent=2)``.

A report of a million-trace audit holds hundreds of thousands of findings: built as one
string (and the dicts and chunks `json` makes on the way) it took several times the
findings' own memory. `write_json` writes the same text piece by piece, and a value
given as an iterator (the findings, read back from a `FindingLog`) is written as a JSON
array one item at a time, never held whole; an item given as `Compact` text is laid out,
not encoded again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import msgspec

Default = Callable[[Any], Any] | None


class Compact:
    """An item already written as ``json.dumps(value)`` writes it (compact): laid out as
    ``indent=2``, not encoded again. Why: a `FindingLog` keeps its spilled findings as
    exactly that text, and decoding each one only to encode it again was most of the
    report's cost (``json.dumps(json.loads(t)) == t`` for any text ``json.dumps`` wrote)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _dumps(value: Any, level: int, default: Default) -> str:
    """``value`` as `json.dumps(indent=2)` writes it ``level`` levels deep.

    With ``indent``, the standard library encodes in pure Python (its C encoder is for
    compact output only): a quarter of a million-trace audit's command went there. So the
    C encoder writes the compact text — the same escapes and numbers — and msgspec's
    formatter, which copies every token as it is, lays it out as ``indent=2`` would. NaN
    and infinities, which are not JSON to msgspec, take the standard library's path."""
    text = value.text if isinstance(value, Compact) else json.dumps(value, default=default)
    try:
        text = msgspec.json.format(text, indent=2)
    except msgspec.DecodeError:
        if isinstance(value, Compact):
            value = json.loads(value.text)
        text = json.dumps(value, indent=2, default=default)
    return text.replace("\n", "\n" + "  " * level)


def write_json(
    obj: Mapping[str, Any], write: Callable[[str], Any], *, default: Default = None
) -> None:
    """``write(json.dumps(obj, indent=2, default=default) + "\\n")``, in pieces; a value
    that is an `Iterator` is written as the JSON array of its items."""
    if not obj:
        write("{}\n")
        return
    opening = "{"
    for key, value in obj.items():
        if not isinstance(key, str):
            raise TypeError(f"write_json: keys must be strings, not {type(key).__name__}")
        write(f"{opening}\n  {json.dumps(key)}: ")
        opening = ","
        if isinstance(value, Iterator):
            _array(value, write, default)
        else:
            write(_dumps(value, 1, default))
    write("\n}\n")


def _array(items: Iterator[Any], write: Callable[[str], Any], default: Default) -> None:
    before = "[\n    "
    for item in items:
        write(before + _dumps(item, 2, default))
        before = ",\n    "
    write("[]" if before == "[\n    " else "\n  ]")
