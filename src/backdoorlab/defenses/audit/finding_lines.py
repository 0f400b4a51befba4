"""A finding as one line of JSON: how the audit's `FindingLog` writes it, how a sharded
audit's worker hands it over (`encode_trace`), and how the coordinator moves its trace
index and line on without decoding it (`shifted_line`).

The line is ``json.dumps(finding.__dict__, default=jsonable)``: the report's own text
for the finding, so a line written here is copied into a report as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, is_dataclass, replace
from typing import TYPE_CHECKING, Any

from backdoorlab.defenses.audit.findings import Finding

if TYPE_CHECKING:
    from backdoorlab.defenses.audit.finding_log import Brief


def report_key(finding: Finding | Brief) -> tuple[int, int]:
    """The report's order: by trace, then by message (a whole-trace finding first)."""
    return finding.trace_index, finding.step if finding.step is not None else -1


def jsonable(value: Any) -> Any:
    """JSON for what `json` cannot write itself (a report's ``default``): sets and
    tuples as lists, a dataclass as `dataclasses.asdict` gives it, anything else as its
    text."""
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


def as_json(finding: Finding) -> dict[str, Any]:
    """What ``json.dumps(finding.to_dict(), default=jsonable)`` writes, given to `json`
    without `Finding.to_dict`'s deep copy of the evidence (``asdict`` copies every dict
    in it: ~8x the cost of writing them). Not to be changed: it is the finding's own."""
    return finding.__dict__


def encode_line(finding: Finding) -> str:
    """The finding's line in the log's file (ASCII: `json` escapes the rest)."""
    return json.dumps(as_json(finding), default=jsonable)


Row = tuple[int, int, str, str, float]
"""What the log keeps of a written finding beside its line, to count and rank it without
a decode: its key (trace index; step, -1 for the whole trace), detector, severity, score."""


def row(finding: Finding) -> Row:
    return (*report_key(finding), finding.detector, finding.severity, finding.score)


Encoded = tuple[int, int, str, str, float, bytes]
"""One finding as a sharded audit's worker hands it to the coordinator's log
(`FindingLog.add_encoded`): its `row` and its line as the log writes it. Plain values
pickle and unpickle at a fraction of a `Finding`'s cost, and the line is encoded once,
in the worker."""


def encode_trace(findings: Iterable[Finding]) -> list[Encoded]:
    """One trace's findings in the order `FindingLog.add_trace` takes them, encoded."""
    return [(*row(f), encode_line(f).encode()) for f in sorted(findings, key=report_key)]


_HEAD = re.compile(rb'\{"trace_index": (-?\d+), "line": (-?\d+), ')


def shift(finding: Finding, index: int, line: int) -> Finding:
    """``finding`` with its trace index and line moved on by ``index`` and ``line``."""
    return replace(finding, trace_index=finding.trace_index + index, line=finding.line + line)


def shifted_line(text: bytes, index: int, line: int) -> bytes:
    """``text`` (an `encode_line`d finding) with its trace index and line moved on by
    ``index`` and ``line``: the line `encode_line` gives the finding so moved. Its first two
    fields are rewritten in place; a line of another layout is decoded and encoded."""
    if not (index or line):
        return text
    head = _HEAD.match(text)
    if head is None:
        return encode_line(shift(Finding(**json.loads(text)), index, line)).encode()
    moved = b'{"trace_index": %d, "line": %d, ' % (int(head[1]) + index, int(head[2]) + line)
    return moved + text[head.end() :]
