"""The records of an agent's own log file (Claude Code's, the Codex CLI's): one JSON value
a line, each with its ``FILE:LINE``, blank lines skipped; a line that is not JSON, a line
over the readers' limit or a file that cannot be read (a broken ``.gz`` too) is one error
naming it. A log archived as ``NAME.jsonl.gz`` is read as ``NAME.jsonl`` is. And the
checks both formats' readers make of a bundle of such records (`bundle_of`,
`record_pairs`)."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from backdoorlab.errors import TraceFormatError
from backdoorlab.files import guarded_lines

SUFFIXES = (".jsonl", ".jsonl.gz")
"""How an agent's log file is named: as written, or archived with gzip."""


def opened(path: Path) -> IO[bytes]:
    """``path`` open for reading its bytes, gzip-decoded when it is a ``.gz``."""
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # noqa: SIM115


def stem(path: Path) -> str:
    """A log's name less ``.jsonl`` or ``.jsonl.gz`` (a session's id, ``agent-ID``)."""
    name = path.name
    for suffix in reversed(SUFFIXES):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def log_records(path: Path, name: str) -> Iterator[tuple[str, Any]]:
    """(``NAME:LINE``, the line's JSON) of each non-blank line of ``path``."""
    try:
        with opened(path) as handle:
            for number, line in guarded_lines(handle, name, TraceFormatError):
                if not line.strip():
                    continue
                at = f"{name}:{number}"
                try:
                    record = json.loads(line)
                except (ValueError, RecursionError) as exc:
                    why = f"{exc.msg} at character {exc.pos}" if hasattr(exc, "pos") else exc
                    raise TraceFormatError(f"{at}: not JSON ({why})") from None
                yield at, record
    except (OSError, EOFError, zlib.error) as exc:  # a .gz cut short or corrupt too
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or "cut short"
        raise TraceFormatError(f"{name}: cannot read ({why})") from None


def file_line(at: str) -> tuple[str, int] | None:
    """``FILE:LINE`` (what `log_records` names a record by) as its file and line, or
    None for a place of another shape (a bundle line a dataset holds names any: a line
    number of over 4,300 digits is one `int` refuses)."""
    name, colon, number = at.rpartition(":")
    if not (name and colon and number.isascii() and number.isdigit() and len(number) <= 18):
        return None
    return name, int(number)


def bundle_of(data: dict[str, Any], key: str, where: str) -> Any:
    """The bundle under ``key`` of a line (`claude_sessions` writes ``{"id", key}``); a
    line holding anything else beside it is refused: a dataset's line in another format
    that also carried ``key`` would be read as the bundle alone, its own messages — a
    leak in them — never read."""
    if other := sorted(set(data) - {"id", key}):
        raise TraceFormatError(
            f"{where}: field '{other[0]}' beside '{key}' (a bundle holds no more)"
        )
    return data[key]


def record_pairs(value: Any, where: str, key: str) -> list[tuple[str, dict[str, Any]]]:
    """``value`` as the ``(FILE:LINE, record)`` pairs a bundle holds, else one error."""
    if not isinstance(value, list) or not all(
        isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], dict)
        for p in value
    ):
        raise TraceFormatError(f"{where}: field '{key}': records are not [FILE:LINE, record]")
    return [(at, record) for at, record in value]
