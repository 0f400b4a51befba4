"""One file cut into spans: lines before a span counted on demand, digests on a thread."""

from __future__ import annotations

import hashlib

import pytest
from blake3 import blake3

from backdoorlab.defenses.audit.spans import SpanDigests, lines_before, split_file
from backdoorlab.errors import TraceFormatError

CHANGED = "changed"


def _file(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"".join(b"line %d %s\n" % (i, b"x" * (i % 17)) for i in range(400)))
    return path


def test_spans_are_numbered_and_hashed_as_their_bytes(tmp_path):
    path = _file(tmp_path)
    data = path.read_bytes()
    spans = split_file(path, 7)
    assert len(spans) == 7
    firsts = [lines_before(path, start, CHANGED) for start, _ in spans]
    assert firsts == [data[:start].count(b"\n") for start, _ in spans]
    hasher = SpanDigests(path, spans, CHANGED)
    hasher.start()
    digests, whole = hasher.result()
    assert whole == hashlib.sha256(data).hexdigest()
    assert digests == [blake3(data[a:b]).hexdigest() for a, b in spans]  # what workers read


def test_a_file_shorter_than_its_spans_is_a_changed_file(tmp_path):
    path = _file(tmp_path)
    spans = split_file(path, 3)
    path.write_bytes(path.read_bytes()[: spans[-1][0] + 5])  # cut under the last span
    with pytest.raises(TraceFormatError, match=CHANGED):
        lines_before(path, spans[-1][1], CHANGED)
    hasher = SpanDigests(path, spans, CHANGED)
    hasher.start()
    with pytest.raises(TraceFormatError, match=CHANGED):  # raised in the caller's thread
        hasher.result()


def test_cancel_stops_the_thread(tmp_path):
    path = _file(tmp_path)
    hasher = SpanDigests(path, split_file(path, 4), CHANGED)
    hasher.start()
    hasher.cancel()
    assert not hasher.is_alive()
