"""Traces stored as Parquet: each row one trace, read as the JSON line it stands for.

A fine-tuning set is as often a Hugging Face dataset's Parquet files as JSONL: TRL's
conversational format, a ``messages`` column (and ``tools``, ``metadata`` or anything
else), written by ``datasets`` — what ``backdoorlab export`` writes too. Every reader of
traces (`backdoorlab.traces.iter_trace_lines`, the audit's stream, ``--filter``) takes a
``.parquet`` file by turning each row into the JSON object a JSONL line would hold, so
the rest of the toolkit, and every error message, stays line-based: "line" N of a
Parquet file is its row N (1-based).

Two encodings of the same rows exist, and both are read:

- ``datasets.Json()`` features (our ``export``; pyarrow's ``arrow.json`` extension):
  each message, tool or metadata cell is a JSON text, decoded as written (as is a plain
  string where a trace's ``messages``, ``tools`` or ``metadata`` belong);
- plain Arrow structs (most datasets on the Hub): Arrow gives every struct of a column
  the union of all their keys, filling the missing ones with null — a user message
  gets ``tool_calls: null``, a call's ``arguments`` the other tools' keys. Null fields
  of structs are dropped, so a row reads back as the dict that was written.

Rows are read a record batch at a time (memory: one batch, not the file). pyarrow does
the reading (`pyarrow.parquet.ParquetFile`), imported only when a Parquet file is met.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from backdoorlab.errors import BackdoorlabError

SUFFIX = ".parquet"
BATCH_ROWS = 1024
"""Rows per record batch read (and written back by `copy_rows`)."""


def is_parquet(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a Parquet file (by its suffix, as ``.gz`` is recognised)."""
    return str(path).lower().endswith(SUFFIX)


def check_regular(path: str | os.PathLike[str], error: type[BackdoorlabError]) -> None:
    """Refuse a Parquet input that is not a regular file (a named pipe, a device, a
    socket), before anything opens it: Parquet is read from its footer, by seeking, and
    pyarrow opening a named pipe with no writer blocks where neither SIGTERM nor Ctrl-C
    can end it. A missing file passes (the caller's own check names it)."""
    from backdoorlab.files import check_regular_file

    check_regular_file(path, "a Parquet file is read by seeking in it: give a file path", error)


def _open(path: Path, error: type[BackdoorlabError]) -> Any:
    import pyarrow.parquet as pq

    check_regular(path, error)
    try:
        handle = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:  # ArrowInvalid is a ValueError
        raise error(f"{path}: not a readable Parquet file ({_reason(exc)})") from None
    names = handle.schema_arrow.names
    if not any(name in names for name in CONVERSATION_COLUMNS):
        raise error(
            f"{path}: no 'messages', 'conversations' or 'input' column"
            f" (columns: {', '.join(names) or 'none'})"
        )
    return handle


def _reason(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


SESSION_COLUMN = "session"
"""The column ``export`` writes for coding agents' logs: the session file each row came
from. Read back (`row_session`), so that an audit, ``show`` or ``guard replay`` of the
exported rows names each finding's session as the audit of the logs did."""


def row_session(row: Any) -> str | None:
    """A row's session (`SESSION_COLUMN`: a non-empty string), else None."""
    value = row.get(SESSION_COLUMN) if isinstance(row, dict) else None
    return value if isinstance(value, str) and value else None


TRACE_FIELDS = ("messages", "tools", "metadata", "conversations")
"""A trace's own fields (and ShareGPT's turns): never a string, so a string there is JSON
text (some datasets store each message, or the whole list, serialised)."""
CONVERSATION_COLUMNS = ("messages", "conversations", "input")
"""The column that makes a row a trace: OpenAI chat or Anthropic ``messages``, ShareGPT
``conversations``, a Responses ``input`` (`backdoorlab.trace_formats`)."""


def _json_columns(schema: Any) -> set[str]:
    """Columns (or list columns) whose values are JSON texts: ``datasets.Json`` cells,
    and the trace's own fields (`TRACE_FIELDS`)."""
    import pyarrow as pa

    found = set(TRACE_FIELDS)
    for field in schema:
        kind = field.type
        if pa.types.is_list(kind) or pa.types.is_large_list(kind):
            kind = kind.value_type
        if isinstance(kind, pa.BaseExtensionType) and kind.extension_name == "arrow.json":
            found.add(field.name)
    return found


def _without_nulls(value: Any) -> Any:
    """A struct cell as the dict that was written: Arrow's filler nulls dropped."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _decoded(value: Any, json_text: bool, where: str, error: type[BackdoorlabError]) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_decoded(v, json_text, where, error) for v in value]
    if json_text and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise error(f"{where}: a JSON cell that is not valid JSON") from None
        except RecursionError:
            raise error(f"{where}: JSON nested too deeply") from None
    return _without_nulls(value)


def iter_rows(
    path: str | os.PathLike[str], error: type[BackdoorlabError] = BackdoorlabError
) -> Iterator[tuple[int, bytes]]:
    """(1-based row number, the row as one JSON line in UTF-8 bytes) of each row."""
    path = Path(path)
    handle = _open(path, error)
    json_columns = _json_columns(handle.schema_arrow)
    row = 0
    try:
        for batch in handle.iter_batches(batch_size=BATCH_ROWS):
            for record in batch.to_pylist():
                row += 1
                where = f"{path}:{row}"
                trace = {
                    name: _decoded(value, name in json_columns, where, error)
                    for name, value in record.items()
                    if value is not None
                }
                try:
                    text = json.dumps(trace, ensure_ascii=False, default=str)
                except ValueError as exc:  # e.g. a float NaN has no JSON spelling
                    raise error(f"{where}: a value JSON cannot hold ({exc})") from None
                yield row, text.encode("utf-8") + b"\n"
    except (OSError, ValueError) as exc:
        if isinstance(exc, BackdoorlabError):
            raise
        raise error(f"{path}:{row + 1}: Parquet read failed ({_reason(exc)})") from None


def copy_rows(
    source: str | os.PathLike[str],
    out: IO[bytes],
    drop: Callable[[int], bool],
    error: type[BackdoorlabError] = BackdoorlabError,
) -> tuple[int, int]:
    """Write ``source``'s rows to ``out`` as Parquet (same schema and metadata), leaving
    out those whose 0-based index ``drop`` accepts; returns (kept, dropped). Kept rows
    are the source's Arrow values, never re-encoded from JSON."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = Path(source)
    handle = _open(source, error)
    kept = dropped = index = 0
    writer = pq.ParquetWriter(_Unclosed(out), handle.schema_arrow)
    try:
        for batch in handle.iter_batches(batch_size=BATCH_ROWS):
            mask = [not drop(index + i) for i in range(batch.num_rows)]
            index += batch.num_rows
            kept += sum(mask)
            dropped += len(mask) - sum(mask)
            writer.write_batch(batch.filter(pa.array(mask, type=pa.bool_())))
    except (OSError, ValueError) as exc:
        raise error(f"{source}:{index + 1}: Parquet read failed ({_reason(exc)})") from None
    finally:
        writer.close()
    return kept, dropped


class _Unclosed:
    """``out`` for pyarrow, which closes the file it writes to; the caller's own stream
    (hashing, fsync, rename) must stay open."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.closed = False
        self.position = 0

    def write(self, data: bytes) -> int:
        self.raw.write(data)
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        self.raw.flush()

    def close(self) -> None:
        self.closed = True
