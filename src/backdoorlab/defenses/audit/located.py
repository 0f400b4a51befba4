"""Findings on a converted agent log, located in the line as its owner wrote it.

A detector numbers messages as it reads them: OpenAI's chat format, which an Anthropic,
Responses or ShareGPT line is converted to (`backdoorlab.trace_formats`). Their
numbering differs — one Anthropic message holding two tool results is two tool
messages — so "message 4" would send the owner of the file to the wrong place. Each
finding on such a line keeps its ``step`` (what `show` and the viewer number) and gains
``at``, the field path of the original line (``messages.3.content.1``, ``input.5``,
``conversations.4``), in its evidence, beside every nested ``step``; its summary names
that path instead of the number. Lines read as they stand are left untouched.

A coding agent's session (a Claude Code or Codex log, bundled into one line of a
temporary file: `claude_sessions`) is named for its owner, whose file that line is not:
each finding's evidence gains ``session``, the session's file as the user named it, and,
for a finding on a message, ``file`` and ``file_line``: the file (the session's, or a
sub-agent's) and 1-based line of the record that message came from — ``at`` split, so a
script need not parse it. The report's ``line`` and ``trace_index`` stay the session's
place in the audit's order, what ``show -i`` and ``view`` number. A row ``export`` wrote
of such a session (its ``session`` column: `parquet_traces.row_session`) is in OpenAI's
chat format, numbered as it stands: its findings gain ``session`` alone.
Whole-file findings (`Detector.finish`: the spectral outliers, trigger mining) are made
once the lines are gone, so the audit keeps, as it reads, each converted line's origins
and session (`TracePlaces`: known from its conversion, no second decoding) and locates
them the same way. A line read as it stands keeps nothing (its numbering is the file's),
so a plain file of a million traces keeps nothing; runs of traces of the same shape
share one entry. A raw export's LLM call keeps nothing, nor a line only the model
could read unless a finding of its own had its places read: their late findings keep
the chat reading's numbers (finding them would decode every such line twice).

A forked Codex rollout copies the history of the one it forked (`codex_forks`); when the
input holds both, the audit of its own bundles (`AuditOptions.logs`) reports no finding on
a copied message (`own`), per trace and whole-file alike: the original's are reported.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from backdoorlab.defenses.audit.findings import Finding
from backdoorlab.defenses.audit.reader import TraceRecord
from backdoorlab.trace_formats.log_records import file_line

# where our summaries name a message: "(message 3)" after a source (`taint.Leak`) and
# "call at message 3 does not serve" (`judge`) — only there, since a summary also quotes
# tool names, and a tool may be called "message 3". The numbers `step` holds, in ASCII:
# a longer run is no step, and `int` refuses one of over 4,300 digits
_MESSAGE = re.compile(r"\(message ([0-9]{1,9})\)|(?<=call at )message ([0-9]{1,9})(?= does not)")


def located(findings: list[Finding], record: TraceRecord) -> list[Finding]:
    """``findings`` of ``record``'s trace, with ``at`` paths when its line was converted."""
    if not findings:
        return findings
    origin, session = record.origin, record.session
    if origin is None and session is None:
        return findings
    return [_located(finding, origin, session) for finding in findings]


Kept = tuple[tuple[str, ...] | None, str | None, frozenset[int]]
"""What `TracePlaces` keeps of a trace: its origins, session and inherited messages."""


class TracePlaces:
    """Each converted trace's origins and session, by trace index, for `Detector.finish`'s
    findings: ``starts[k]`` is the first index of the ``k``-th run of traces sharing
    ``values[k]`` (None: nothing kept — a line read as it stands). Plain lists, so that a
    shard's hand it back to the coordinator (`shards`)."""

    def __init__(self) -> None:
        self.starts = array("q")  # 8 bytes a run, not an int object's 36
        self.values: list[Kept | None] = []
        self._shared: dict[Any, Any] = {}  # one copy of each shape

    def keep(self, record: TraceRecord) -> None:
        """``record``'s places, if its line was converted (read after the detectors saw
        it: a finding's `located` may have read them already)."""
        known = record.known_places
        value = None
        if known is not None and (known[0] is not None or known[1] is not None):
            key = (None if known[0] is None else tuple(known[0]), known[1], known[2])
            value = self._shared.setdefault(key, key)
        self.add(record.index, value)

    def add(self, index: int, value: Kept | None) -> None:
        if self.values and self.values[-1] == value:
            return
        if not self.starts and value is None:
            return  # before anything kept: nothing, as a lookup there finds
        self.starts.append(index)
        self.values.append(value)

    def extend(self, other: TracePlaces, shift: int) -> None:
        """``other``'s places (a shard's), its indices after ``shift`` traces."""
        self.add(shift, None)  # what came before ends where the shard begins
        for start, value in zip(other.starts, other.values, strict=True):
            self.add(start + shift, value)

    def locate(self, findings: Iterable[Finding], logs: bool = False) -> list[Finding]:
        """``findings`` (whole-file ones: each names its ``trace_index``), each located as
        `located` locates a trace's when its trace was converted; with ``logs`` (the
        audit's own bundles of agents' logs), those on a fork's inherited messages left
        out, as `own` leaves them."""
        out = []
        for finding in findings:
            at = bisect_right(self.starts, finding.trace_index) - 1
            value = self.values[at] if at >= 0 else None
            if value is None:
                out.append(finding)
            elif not (logs and finding.step in value[2]):
                out.append(_located(finding, value[0], value[1]))
        return out


def own(findings: list[Finding], record: TraceRecord, logs: bool) -> list[Finding]:
    """``findings`` but those on a message a forked Codex rollout copied from the rollout
    it forked (`codex_forks`: found only when that one is in the input, where the same
    finding is reported). ``logs``: the input is the audit's own bundle of agents' logs
    (`claude_sessions`), never a dataset's line, which could claim any message copied."""
    if not logs or not record.inherited:
        return findings
    return [f for f in findings if f.step not in record.inherited]


def _located(finding: Finding, origin: Sequence[str] | None, session: str | None = None) -> Finding:
    if origin is None:  # numbered as the file numbers it: an exported row's session only
        place = message_place(finding.step, None, session)
        return replace(finding, evidence={**finding.evidence, **place})

    def path(step: int) -> str:
        return _path(origin, step)

    evidence = _with_paths(finding.evidence, path)
    evidence.update(message_place(finding.step, origin, session))
    summary = _MESSAGE.sub(_renamed(path), finding.summary)
    return replace(finding, summary=summary, evidence=evidence)


def _path(origin: Sequence[str], step: int) -> str:
    return origin[step] if 0 <= step < len(origin) else f"message {step}"


def message_place(
    step: int | None, origin: Sequence[str] | None, session: str | None
) -> dict[str, Any]:
    """Where message ``step`` (None: the trace as a whole) of a converted trace sits, as a
    finding's evidence names it: ``at``, and for an agent's session ``session``, ``file``
    and ``file_line``; of a trace numbered as it stands (``origin`` None: an exported
    row) its ``session`` alone. The guard's replay names its decisions by it too."""
    at = step is not None and origin is not None
    out: dict[str, Any] = {"at": _path(origin, step)} if at else {}  # type: ignore[arg-type]
    if session is not None:
        out["session"] = session
        place = file_line(out["at"]) if at else None
        if place is not None:
            out["file"], out["file_line"] = place
    return out


def _renamed(path: Callable[[int], str]) -> Callable[[re.Match[str]], str]:
    def rename(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return f"({path(int(match.group(1)))})"
        return path(int(match.group(2)))

    return rename


def _with_paths(value: Any, path: Any) -> Any:
    """A copy of ``value`` where each object with an integer ``step`` (or a list of
    ``steps``) also has ``at`` (or ``at``: a list)."""
    if isinstance(value, list):
        return [_with_paths(item, path) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: _with_paths(item, path) for key, item in value.items()}
    step, steps = value.get("step"), value.get("steps")
    if isinstance(step, int) and not isinstance(step, bool):
        out["at"] = path(step)
    elif isinstance(steps, list) and all(type(s) is int for s in steps):
        out["at"] = [path(s) for s in steps]
    return out
