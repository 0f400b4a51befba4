"""The records of an agent's own log file (Claude Code's, the Codex CLI's): one JSON value
a line, each with its ``FILE:LINE``, blank lines skipped; a line that is not JSON, a line
over the readers' limit or a file that cannot be read is one error naming it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backdoorlab.errors import TraceFormatError
from backdoorlab.files import guarded_lines


def log_records(path: Path, name: str) -> Iterator[tuple[str, Any]]:
    """(``NAME:LINE``, the line's JSON) of each non-blank line of ``path``."""
    try:
        with open(path, "rb") as handle:
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
    except OSError as exc:
        raise TraceFormatError(f"{name}: cannot read ({exc.strerror})") from None
