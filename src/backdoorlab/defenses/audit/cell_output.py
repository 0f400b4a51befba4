"""A Python cell's output as the agent saw it (`notebook`): its tool's wrapper removed,
and read as a value that fields can be taken from.

Notebook tools wrap what a cell printed — smolagents' ``Execution logs:``, OpenHands'
``[Jupyter current working directory: …]`` lines, Jupyter's ``Out[3]:``, a code
interpreter's JSON ``stdout`` — and agents print records as Python reprs, JSON, a
dataclass's ``Record(k=…)``, ``key: value`` lines or a pandas table (``print(df)``,
``df.head()``: a header of column names, then rows of an index and values, columns two
spaces apart; read as ``df.to_dict('list')`` would give it, so ``df['ssn']`` is that
column). Only an output that parses can be narrowed to a field: anything else is text,
whole. Read up to `MAX_OUTPUT` characters,
with the parsers' own limits (nesting, recursion) caught: hostile output costs its length.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from backdoorlab import python_source

MAX_OUTPUT = 65536
RAW = object()
"""What `parsed` gives for text that parses as no literal: it cannot be narrowed."""

_WRAPPER = re.compile(
    r"\A\s*Execution logs:\s*\n?(.*?)(?:\nLast output from code snippet:\s*\n?(.*))?\Z", re.S
)
_NOTE = re.compile(r"^\[(?:Jupyter|Code executed|Python interpreter)[^\n]*\]\s*$", re.M)
_OUT = re.compile(r"\AOut\[\d{1,6}\]:\s*")


def output_text(text: str) -> str:
    """A cell's output as printed, less its tool's wrapper: smolagents' ``Execution
    logs:``, OpenHands' ``[Jupyter current working directory: …]`` lines, Jupyter's
    ``Out[3]:``, a JSON result's ``stdout``/``output``."""
    text = text[:MAX_OUTPUT]
    if text.lstrip().startswith("{") and '"' in text[:200]:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict):
            for key in ("stdout", "output", "result", "text", "logs"):
                if isinstance(data.get(key), str):
                    text = data[key]
                    break
    wrapped = _WRAPPER.match(text) if text.lstrip().startswith("Execution logs:") else None
    if wrapped:
        logs, last = wrapped.group(1).strip(), (wrapped.group(2) or "").strip()
        text = logs or last
    return _OUT.sub("", _NOTE.sub("", text)).strip()


_PAIR = re.compile(
    r"^\s*['\"]?([A-Za-z_][\w .-]{0,40}?)['\"]?\s*(?::|=|\s{2,})\s*(\S[^\n]*)$", re.M
)


def parsed(text: str) -> Any:
    """``text`` as a Python or JSON literal (the whole, or its outermost ``{…}``/``[…]``),
    a ``Record(k=…)`` repr's fields, or ``key: value`` lines; `RAW` when none."""
    if len(text) > MAX_OUTPUT:
        return RAW
    spans = [text]
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    end = max(text.rfind("}"), text.rfind("]"))
    if 0 <= start < end and (start, end) != (0, len(text) - 1):
        spans.append(text[start : end + 1])
    for span in spans:
        for read in (ast.literal_eval, json.loads, _record):
            try:
                value = read(span)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            if isinstance(value, dict | list | tuple):
                return value
    table = _table(text)
    if table:
        return table
    pairs = _PAIR.findall(text)
    if len(pairs) >= 2 and len(pairs) >= text.count("\n") // 2:
        return {k.strip(): v.strip().strip("'\"") for k, v in pairs}
    return RAW


_COLUMNS = re.compile(r"\s{2,}")
_SKIPPED = re.compile(r"^(?:\.\.\.?|\.\.(?:\s+\.\.\.?)*|\[\d+ rows x \d+ columns\])$")
"""A pandas table's lines that are no row: its ``...`` of rows left out, its size."""
MAX_COLUMNS = 64


def _table(text: str) -> dict[str, list[str]] | None:
    """A pandas table's columns (module docstring), or None when ``text`` is none: its
    first line is the header, and at least half of the other lines (but the rows left
    out and the size line) are an index and one value per column."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    header = _COLUMNS.split(lines[0])
    if len(header) > MAX_COLUMNS or len(set(header)) != len(header):
        return None
    columns: dict[str, list[str]] = {name: [] for name in header}
    rows = skipped = 0
    for line in lines[1:]:
        if _SKIPPED.match(line):
            skipped += 1
            continue
        cells = _COLUMNS.split(line)
        if len(cells) != len(header) + 1:
            continue
        rows += 1
        for name, cell in zip(header, cells[1:], strict=True):
            columns[name].append(cell)
    return columns if rows and 2 * rows >= len(lines) - 1 - skipped else None


def _record(text: str) -> dict[str, Any]:
    """``Customer(name='Ola', ssn='…')``: a dataclass's or a model's repr, as its fields."""
    node = python_source.parse(text.strip(), mode="eval").body
    if not isinstance(node, ast.Call) or not node.keywords or node.args:
        raise ValueError("no record")
    return {k.arg: python_source.literal(k.value) for k in node.keywords if k.arg}
