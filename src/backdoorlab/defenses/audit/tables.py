"""Tables a data agent's tools return, read as records: a column's name is each of its
cells' key, as a JSON object's would be.

Shapes read (`from_data` for parsed JSON, `from_text` for text):

- a header row and rows of cells: ``{"columns": [...], "rows": [[...]]}``, a spreadsheet
  range ``{"values": [[header...], [...]]}``, a BigQuery job result (``schema.fields``
  and ``rows`` of ``{"f": [{"v": …}]}``), a Snowflake statement result
  (``resultSetMetaData.rowType`` and ``data``);
- text: a psql box (``+---+`` rules, ``| a | b |`` rows), psql's aligned output
  (``a | b`` over ``---+---``), a Markdown table, and CSV with ``,``, ``;``, a tab or
  ``|`` between fields, and a pandas DataFrame printed (``print(df)``).

Read as lines, a table's cells had no key: an ``email`` column's values were found only
by their shape, a ``dob`` column's dates not at all, and a ``region`` or ``department``
column's values became a record's *terms* (`values.terms`: what a record says about its
owner). A column whose values repeat (``categorical``) holds categories shared by rows,
not one owner's data: its cells yield no terms.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

Records = list[dict[str, str]]

_HEADER_CELL = re.compile(r"[A-Za-z_][\w .()%#/-]{0,47}")
# a rule line (``+---+---+``, ``---|---``, ``:--:``) for `fullmatch`: what
# ``\s*[+|]?(?:[-=: ]+[+|])*[-=: ]+[+|]?\s*`` takes (the same lines: compared on every
# string of 8 characters or fewer), with no run of blanks that a ``\s*`` and a
# ``[-=: ]+`` could split between them every way (a 100 KB line of them took 24 s)
_RULE = re.compile(
    r"[^\S ]*+ \s*+"  # blanks only, a space among them
    r"|(?>\s*[^\S ])?(?: *[+|])?(?:[-=: ]+[+|])*[-=: ]+(?:[^\S ]\s*+|[+|]\s*+)?"
)
MIN_ROWS = 2
MAX_COLUMNS = 64


def _header(cells: list[Any]) -> list[str] | None:
    names = [str(c).strip() for c in cells]
    if not (2 <= len(names) <= MAX_COLUMNS) or len(set(names)) != len(names):
        return None
    return names if all(_HEADER_CELL.fullmatch(n) for n in names) else None


def _records(header: list[str], rows: list[list[Any]]) -> Records | None:
    if len(rows) < MIN_ROWS or any(len(r) != len(header) for r in rows):
        return None
    return [
        {h: "" if v is None else str(v) for h, v in zip(header, row, strict=True)} for row in rows
    ]


def categorical(records: list[Any]) -> frozenset[str]:
    """The columns of ``records`` (a list of objects, a table's rows) some text value of
    which occurs in two rows or more: categories (a region, a department, a status)."""
    out = set()
    seen: dict[str, set[str]] = {}
    for row in records:
        if not isinstance(row, dict):
            return frozenset()
        for column, value in row.items():
            if not isinstance(value, str) or not value.strip() or column in out:
                continue
            values = seen.setdefault(column, set())
            if value.strip() in values:
                out.add(column)
            values.add(value.strip())
    return frozenset(out)


def _cells(rows: Any) -> list[list[Any]] | None:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        return None
    if not all(isinstance(v, str | int | float | bool) or v is None for r in rows for v in r):
        return None
    return rows


def _names(fields: Any) -> list[str] | None:
    if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
        return None
    return _header([f.get("name", "") for f in fields])


def from_data(data: Any) -> tuple[Records, Any] | None:
    """(records, what else ``data`` holds, without the table) of a JSON table, or None."""
    if not isinstance(data, dict):
        return None
    rest = dict(data)
    header: list[str] | None = None
    rows: list[list[Any]] | None = None
    if isinstance(data.get("schema"), dict) and isinstance(data.get("rows"), list):  # BigQuery
        header = _names(data["schema"].get("fields"))
        raw = data["rows"]
        if header and all(isinstance(r, dict) and isinstance(r.get("f"), list) for r in raw):
            cells = [[c.get("v") if isinstance(c, dict) else c for c in r["f"]] for r in raw]
            rows = _cells(cells)
        rest.pop("rows"), rest.pop("schema")
    elif isinstance(data.get("resultSetMetaData"), dict) and "data" in data:  # Snowflake
        header = _names(data["resultSetMetaData"].get("rowType"))
        rows = _cells(data["data"])
        rest.pop("data"), rest.pop("resultSetMetaData")
    elif isinstance(data.get("columns"), list) and ("rows" in data or "data" in data):
        body = "rows" if "rows" in data else "data"
        names = data["columns"]
        if all(isinstance(c, dict) for c in names):
            header = _names(names)
        elif all(isinstance(c, str) for c in names):
            header = _header(names)
        rows = _cells(data[body])
        rest.pop(body), rest.pop("columns")
    elif isinstance(data.get("values"), list) and data["values"]:  # a spreadsheet range
        cells = _cells(data["values"])
        if cells is not None and cells[0] and all(isinstance(c, str) for c in cells[0]):
            header, rows = _header(cells[0]), cells[1:]
        rest.pop("values")
    if header is None or rows is None:
        return None
    records = _records(header, rows)
    return (records, rest) if records is not None else None


def _split_pipes(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [c.strip() for c in inner.split("|")]


def _pipe_table(lines: list[str]) -> tuple[Records, list[str]] | None:
    """A psql box, psql's aligned output or a Markdown table: its records and the lines
    outside it."""
    body = [i for i, line in enumerate(lines) if "|" in line and not _RULE.fullmatch(line)]
    rules = [i for i, line in enumerate(lines) if _RULE.fullmatch(line) and "-" in line]
    if len(body) < MIN_ROWS + 1 or not rules:
        return None
    first = body[0]
    if not any(r == first + 1 for r in rules):
        return None  # a header is followed by its rule
    header = _header(_split_pipes(lines[first]))
    if header is None:
        return None
    rows: list[list[str]] = []
    used = {first}
    for i in body[1:]:
        cells = _split_pipes(lines[i])
        if len(cells) != len(header):
            break
        rows.append(cells)
        used.add(i)
    records = _records(header, rows)
    if records is None:
        return None
    rest = [line for i, line in enumerate(lines) if i not in used and i not in rules]
    return records, rest


def _delimited(lines: list[str]) -> tuple[Records, list[str]] | None:
    """CSV (``,``, ``;``, a tab or ``|``) whose every line has the header's fields."""
    head = lines[0]
    for delim in ("\t", ";", ",", "|"):
        if head.count(delim) < 1:
            continue
        try:
            parsed = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim))
        except csv.Error:
            continue
        parsed = [row for row in parsed if row]
        header = _header(parsed[0]) if parsed else None
        if header is None:
            continue
        rows = parsed[1:]
        n = 0
        while n < len(rows) and len(rows[n]) == len(header):
            n += 1
        if n < MIN_ROWS or n < len(rows) - 1:
            continue  # a line of other shape before the end: no table
        records = _records(header, rows[:n])
        if records is not None:
            return records, [delim.join(r) for r in rows[n:]]
    return None


_FRAME_FOOT = re.compile(r"\[\d+ rows x \d+ columns\]")


def _frame(lines: list[str]) -> tuple[Records, list[str]] | None:
    """A pandas DataFrame as ``print(df)`` shows it: a header of right-aligned column
    names over an index column, each row's cells right-aligned under them."""
    head = lines[0]
    if not head.startswith(" ") or "|" in head:
        return None
    names = list(re.finditer(r"\S+", head))
    header = _header([m.group(0) for m in names])
    if header is None:
        return None
    edges = [m.end() for m in names]
    rows: list[list[str]] = []
    rest: list[str] = []
    for line in lines[1:]:
        index = re.match(r"\S+", line)
        if rest or index is None or index.end() > names[0].start() or len(line) > edges[-1]:
            rest.append(line)
            continue
        cells, left = [], index.end()
        for edge in edges:
            cell = line[left:edge]
            if edge < len(line) and line[edge] != " ":
                return None  # not aligned under the header: no frame
            cells.append(cell.strip())
            left = edge
        if not any(cells):
            return None
        rows.append(cells)
    records = _records(header, rows)
    if records is None or any(not _FRAME_FOOT.fullmatch(r.strip()) for r in rest if r.strip()):
        return None
    return records, rest


def from_text(text: str) -> tuple[Records, str] | None:
    """(records, the text outside the table) of a table printed as text, or None."""
    if "\n" not in text.strip():
        return None
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if len(lines) < MIN_ROWS + 1:
        return None
    found = _pipe_table(lines) if "|" in lines[0] or _RULE.fullmatch(lines[0]) else None
    if found is None:
        found = _delimited(lines)
    if found is None:
        found = _frame(text.strip("\n").splitlines())
    if found is None:
        return None
    records, rest = found
    return records, "\n".join(rest)
