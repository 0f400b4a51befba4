"""`file_sha256` answers from a whole-file reader's digest only while the file is unchanged.

An audit hashes the file as it reads it (`TraceStream`, a sharded audit's `SpanDigests`)
and hands the digest to `remember_sha256`, so its verdict, lineage records and
``--filter`` check do not hash a 5 GB file three more times. A stale answer would bind a
verdict to content nobody audited, so these tests check the record is dropped by any
write, and never kept for a file written just before the read (coarse timestamps).
"""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from backdoorlab import digests
from backdoorlab.defenses.audit.reader import TraceStream
from backdoorlab.digests import file_sha256, remember_sha256, stamp

FAKE = "f" * 64  # a digest no content has: returned only from the record


def _next_tick(directory) -> None:
    """Wait until this file system's timestamps have moved on (a few ms on most; a second
    or two on some), so a write from now on gets a newer mtime than one before."""
    probe = directory / ".tick"
    probe.write_bytes(b"0")
    first = probe.stat().st_mtime_ns
    deadline = time.monotonic() + 3
    while probe.stat().st_mtime_ns == first and time.monotonic() < deadline:
        time.sleep(0.01)
        probe.write_bytes(b"0")


@pytest.fixture
def settled(monkeypatch, tmp_path):
    """A file whose last write counts as long ago (RACY_NS 0) and an empty record."""
    monkeypatch.setattr(digests, "RACY_NS", 0)
    monkeypatch.setattr(digests, "_DIGESTS", {})
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"one\n")
    _next_tick(tmp_path)  # past the timestamp tick of that write
    return path


def _remember(path, digest):
    with open(path, "rb") as handle:
        before = stamp(handle)
    remember_sha256(path, digest, before)


def test_an_unchanged_file_is_answered_from_the_record(settled):
    _remember(settled, FAKE)
    assert file_sha256(settled) == FAKE


def test_a_rewrite_of_the_same_size_drops_the_record(settled):
    _remember(settled, FAKE)
    _next_tick(settled.parent)
    settled.write_bytes(b"two\n")  # same size: only mtime and ctime tell
    assert file_sha256(settled) == hashlib.sha256(b"two\n").hexdigest()


def test_a_write_during_the_read_is_not_remembered(settled):
    with open(settled, "rb") as handle:
        before = stamp(handle)
    _next_tick(settled.parent)
    settled.write_bytes(b"more than before\n")
    remember_sha256(settled, FAKE, before)
    assert file_sha256(settled) == hashlib.sha256(b"more than before\n").hexdigest()


def test_a_file_written_just_before_its_read_is_not_remembered(monkeypatch, tmp_path):
    monkeypatch.setattr(digests, "_DIGESTS", {})  # RACY_NS as shipped
    path = tmp_path / "fresh.jsonl"
    path.write_bytes(b"fresh\n")
    _remember(path, FAKE)
    assert file_sha256(path) == hashlib.sha256(b"fresh\n").hexdigest()


def test_a_whole_read_of_the_audit_is_remembered_a_span_is_not(settled, monkeypatch):
    settled.write_bytes(b'{"messages": []}\n' * 3)
    _next_tick(settled.parent)
    digest = hashlib.sha256(settled.read_bytes()).hexdigest()
    stream = TraceStream(settled, span=(0, 17))
    list(stream)
    assert digests._DIGESTS == {}
    stream = TraceStream(settled)
    list(stream)
    assert stream.sha256 == digest

    def no_reading(*args, **kwargs):
        raise AssertionError("file_sha256 read the file again")

    monkeypatch.setattr(digests.hashlib, "file_digest", no_reading)
    assert file_sha256(settled) == digest


def test_pipes_and_empty_files_are_never_remembered(settled, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    _next_tick(tmp_path)
    _remember(empty, FAKE)  # /proc's files are empty to stat, whatever they hold
    assert file_sha256(empty) == hashlib.sha256(b"").hexdigest()
    read, write = os.pipe()
    os.write(write, b"piped\n")
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        assert not stamp(pipe).plain
