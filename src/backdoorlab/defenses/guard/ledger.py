"""The guard's decision log as a hash chain: an edited, removed, inserted or reordered
decision shows.

Each line is a decision's JSON with two more fields: ``prev``, the ``hash`` of the line
before (`GENESIS` for the first), and ``hash``, the SHA-256 of the line's own content
(every field but ``hash``, keys sorted, compact separators). `verify` recomputes the
chain. A chain alone proves nothing against someone who rewrites the whole file, so its
last hash (the *head*) is worth keeping elsewhere: ``eval --guard`` puts it in its metrics
JSON (``guard.log_head``), whose lineage the provenance layer records and signs; ``guard
verify LOG --head H`` then also catches lines cut off the end. Signing each line instead
would need a key on the serving machine for every decision; one hash in a signed record
covers the log.

Hand-written rather than a library: a Merkle log library (Trillian, sigstore's Rekor)
is a service; this is twenty lines of `hashlib`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import MAX_LINE_BYTES, write_failure
from backdoorlab.traces import load_json

if TYPE_CHECKING:
    from backdoorlab.defenses.guard.core import Decision

GENESIS = "0" * 64


class GuardLogError(BackdoorlabError):
    """A decision log whose chain does not verify; the message names file and line."""


def _digest(body: dict[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Ledger:
    """Writes decisions to ``handle`` as a chain starting after ``prev``."""

    def __init__(self, handle: IO[str], prev: str = GENESIS) -> None:
        self.handle = handle
        self.head = prev
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        body = {**record, "prev": self.head}
        body["hash"] = _digest(body)
        self.handle.write(json.dumps(body, ensure_ascii=False) + "\n")
        self.head = body["hash"]
        self.count += 1


def last_hash(path: str | os.PathLike[str]) -> str:
    """The head of an existing log (to append to it), `GENESIS` when there is none; the
    log is verified first, so a broken one is not silently extended."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return GENESIS
    return verify(path)[1]


@contextlib.contextmanager
def appending(path: str | os.PathLike[str]) -> Iterator[Callable[[Decision], None]]:
    """A guard's ``log`` writing each decision to the log at ``path`` while a server runs
    (``serve --guard-log``, ``guard proxy --log``): appended line by line, not atomic — it
    grows as decisions are made — and a hash chain continued from the file's last line."""
    prev = last_hash(path)
    try:
        handle = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - closed below
    except OSError as exc:  # e.g. under /proc or /sys, where even root cannot create
        raise write_failure(Path(path), exc) from None
    with handle:
        ledger = Ledger(handle, prev)
        yield lambda decision: ledger.write(decision.to_dict())


def verify(path: str | os.PathLike[str], head: str | None = None) -> tuple[int, str]:
    """(decisions, head) of the log at ``path``; `GuardLogError` naming the first line
    that breaks the chain, or the end when ``head`` is given and the log ends elsewhere."""
    prev, count = GENESIS, 0
    try:
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise GuardLogError(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        for number, line in _lines(path, handle):
            if not line.strip():
                continue
            try:
                body = load_json(line, f"{path}:{number}", GuardLogError)
            except ValueError:
                raise GuardLogError(f"{path}:{number}: not a JSON line") from None
            if not isinstance(body, dict) or "hash" not in body or "prev" not in body:
                raise GuardLogError(f"{path}:{number}: no 'hash' and 'prev' (not a chained log)")
            claimed = body.pop("hash")
            if body["prev"] != prev:
                raise GuardLogError(
                    f"{path}:{number}: 'prev' is not the hash of the line before "
                    "(a line removed, inserted or moved)"
                )
            try:
                digest = _digest(body)
            except RecursionError:  # parsed, but a frame short of hashing it
                raise GuardLogError(f"{path}:{number}: JSON nested too deeply") from None
            if digest != claimed:
                raise GuardLogError(f"{path}:{number}: content does not match its hash (edited)")
            prev, count = claimed, count + 1
    if head is not None and head != prev:
        raise GuardLogError(
            f"{path}: ends at {prev[:12]}…, not at the expected head {head[:12]}… "
            "(lines added or cut at the end)"
        )
    return count, prev


def _lines(path: str | os.PathLike[str], handle: IO[str]) -> Any:
    """(number, line) of each line, each at most `MAX_LINE_BYTES` characters: a log with
    no newline in sight (/dev/zero) is refused, not read into memory without end."""
    number = 0
    try:
        while line := handle.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(line) > MAX_LINE_BYTES:
                raise GuardLogError(
                    f"{path}:{number}: line longer than {MAX_LINE_BYTES >> 20} MiB "
                    "(a decision log holds one decision a line: is this one?)"
                )
            yield number, line
    except UnicodeDecodeError:
        raise GuardLogError(f"{path}: not UTF-8 text") from None
