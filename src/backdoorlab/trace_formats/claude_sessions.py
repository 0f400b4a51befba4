"""Coding agents' log files found and bundled, one conversation a line, for the readers.

Every reader here takes one conversation a line; Claude Code (`claude_code`) and the
Codex CLI (`codex`) write one record a line and a conversation a file. `converted`
turns an input — a Claude Code session transcript or stream-json file, a Codex rollout,
a directory of them (``~/.claude/projects`` or one project's, ``~/.codex/sessions``), or
a glob — into a temporary JSONL of one line per session, each bundling the session's
records with their ``FILE:LINE`` (a Claude session with those of its sub-agents' files:
``<session>/subagents/agent-ID.jsonl``, or an older ``agent-ID.jsonl`` beside it of the
same ``sessionId``; a rollout with its child agents' rollouts: `codex_rollouts`), and
yields its path; any other input yields None, read as before.

Each record is checked as it is read (a JSON object with a ``type``) and each bundle is
read once through `claude_code` before the audit starts, so a malformed record fails in
one line naming its file and line, not the temporary file. Only the fields the reading
needs are kept (a record's ``toolUseResult`` repeats the result it holds): the bundle
stays near the size of the conversation itself. The temporary file is private (mode
0600: it holds what the sessions read, secrets included) and removed afterwards.
"""

from __future__ import annotations

import glob
import json
import os
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import EllipsisType
from typing import Any

from backdoorlab.errors import BackdoorlabError, TraceFormatError
from backdoorlab.files import MAX_LINE_BYTES
from backdoorlab.trace_formats import codex_rollouts
from backdoorlab.trace_formats.claude_code import KEY, carries_message, from_claude_code, log_kind
from backdoorlab.trace_formats.log_records import SUFFIXES, log_records, opened, stem

_KEPT = ("type", "message", "uuid", "parentUuid", "isSidechain", "agentId", "sessionId")
_KEPT_TOO = ("isCompactSummary", "isMeta", "parent_tool_use_id", "attachment", "subtype")


@dataclass
class Session:
    """One conversation's files: its own and its sub-agents' (by agent id)."""

    path: Path
    agents: dict[str, Path] = field(default_factory=dict)
    name: str = ""  # what the user calls it (``<stdin>`` for a spooled pipe): its path
    codex: bool = False  # a Codex rollout, not a Claude Code log
    forked: Path | None = None  # the rollout this one was forked from, in the input

    def __post_init__(self) -> None:
        self.name = self.name or str(self.path)


def first_record(path: Path) -> Any:
    """The first non-blank line of ``path`` as JSON, or None (not JSON, empty, unreadable,
    longer than any line a reader takes: read no further than that)."""
    try:
        with opened(path) as handle:
            while line := handle.readline(MAX_LINE_BYTES):
                if line.strip():
                    return json.loads(line)
    except (OSError, EOFError, zlib.error, ValueError, RecursionError):
        return None
    return None


def _blank(path: Path) -> bool:
    """Whether ``path`` holds only blank lines (whitespace), read in blocks; asked only of
    a folder's files that are no log, so a log folder's scan reads nothing more."""
    try:
        with opened(path) as handle:
            while block := handle.read(1 << 16):
                if block.strip():
                    return False
    except (OSError, EOFError, zlib.error):
        return False
    return True


def _kind(path: Path) -> tuple[str | None, Any]:
    """``codex`` (a rollout), ``claude`` (a transcript or stream) or None for ``path``,
    with its first record: read once, for the kind and for the sessions it names."""
    archived = path.suffix == ".gz" and not path.name.endswith(SUFFIXES)
    if archived or path.suffix == ".parquet" or not path.is_file():
        return None, None
    first = first_record(path)
    if codex_rollouts.is_rollout(first, path):
        return "codex", first
    return ("claude" if log_kind(first) is not None else None), first


def is_log(path: Path) -> bool:
    """Whether ``path`` is a plain file that Claude Code (transcript or stream) or the
    Codex CLI (a rollout) wrote."""
    return _kind(path)[0] is not None


def sessions(path: str | os.PathLike[str]) -> list[Session] | None:
    """The sessions of ``path`` (a file, a directory searched down, a glob), or None when
    it holds no Claude Code log; a directory or glob mixing them with other traces fails."""
    given = Path(path)
    if given.is_file():
        kind, first = _kind(given)
        return [_session(given, kind, {given: first})] if kind else None
    if given.is_dir():
        files = sorted(p for suffix in SUFFIXES for p in given.rglob(f"*{suffix}"))
    elif not given.exists() and glob.has_magic(str(given)):
        files = sorted(Path(p) for p in glob.glob(str(given), recursive=True))
    else:
        return None
    files = [p for p in files if p.is_file() and p.stat().st_size]  # an empty file: nothing
    kinds = {p: _kind(p) for p in files}
    logs = {p for p in files if kinds[p][0]}
    if not logs:
        return None
    # a file of blank lines holds nothing, as an empty one: only the others are asked
    others = [p for p in files if p not in logs and not _blank(p)]
    if others:
        raise BackdoorlabError(f"{path}: mixes agents' logs with other traces ({others[0]})")
    files = [p for p in files if p in logs]
    firsts = {p: first for p, (_, first) in kinds.items()}
    rollouts = {p: f for p, (k, f) in kinds.items() if k == "codex"}
    family = codex_rollouts.family(rollouts)
    found = [
        _session(p, kinds[p][0], firsts, family.get(p, []))
        for p in files
        if not _sub_agent_of(p, logs) and (kinds[p][0] != "codex" or p in family)
    ]
    forks = codex_rollouts.forks(rollouts)
    for session in found:
        session.forked = forks.get(session.path)
    claimed = {a for s in found for a in s.agents.values()}
    return [s for s in found if s.path not in claimed]


def _session(
    path: Path, kind: str | None, firsts: dict[Path, Any], children: list[Path] | None = None
) -> Session:
    """``path``'s session; ``firsts``: the first records already read, by file;
    ``children``: a rollout's child agents' rollouts."""
    if kind == "codex":
        return Session(path, {str(child): child for child in children or ()}, codex=True)
    return _with_agents(path, firsts)


def _sub_agent_of(path: Path, logs: set[Path]) -> bool:
    """Whether ``path`` is ``<session>/subagents/agent-ID.jsonl`` of a session in ``logs``
    (read with it; a sub-agent's file whose session is not there is audited alone)."""
    folder = path.parent.parent
    session = {folder.parent / f"{folder.name}{suffix}" for suffix in SUFFIXES}
    return path.parent.name == "subagents" and not session.isdisjoint(logs)


def _with_agents(path: Path, firsts: dict[Path, Any]) -> Session:
    session = Session(path)
    if path.parent.name == "subagents" or path.name.startswith("agent-"):
        return session  # a sub-agent's own file, audited alone
    own = stem(path)
    for suffix in SUFFIXES:
        for agent in sorted((path.parent / own / "subagents").glob(f"agent-*{suffix}")):
            session.agents[stem(agent)[len("agent-") :]] = agent
        for agent in sorted(path.parent.glob(f"agent-*{suffix}")):  # before 2.1: beside it
            first = firsts[agent] if agent in firsts else first_record(agent)
            if isinstance(first, dict) and first.get("sessionId") == own:
                session.agents[stem(agent)[len("agent-") :]] = agent
    return session


def _records(path: Path, name: str = "") -> list[list[Any]]:
    """``[FILE:LINE, record]`` of each conversation record of ``path`` (called ``name``),
    checked."""
    out: list[list[Any]] = []
    for at, record in log_records(path, name or str(path)):
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            raise TraceFormatError(f"{at}: not a Claude Code record (no 'type')")
        if carries_message(record) or record["type"] == "attachment":
            out.append([at, _kept(record)])
        elif record["type"] == "system" and record.get("subtype") == "local_command":
            out.append([at, {**_kept(record), "content": record.get("content")}])
        elif (link := _progress_link(record)) is not None:
            out.append([at, link])
    return out


def _progress_link(record: dict[str, Any]) -> dict[str, Any] | None:
    """A sub-agent's ``progress`` record, as the link it gives: the call that started it
    (``parentToolUseID``) and its id (``data.agentId``); the rest is in its own file."""
    data = record.get("data")
    call, agent = record.get("parentToolUseID"), isinstance(data, dict) and data.get("agentId")
    if record["type"] == "progress" and isinstance(call, str) and isinstance(agent, str):
        return {"type": "progress", "parentToolUseID": call, "agentId": agent}
    return None


def _kept(record: dict[str, Any]) -> dict[str, Any]:
    kept = {k: record[k] for k in (*_KEPT, *_KEPT_TOO) if k in record}
    result = record.get("toolUseResult")
    if isinstance(result, dict) and isinstance(result.get("agentId"), str):
        kept["toolUseResult"] = {"agentId": result["agentId"]}
        if result.get("isAsync") is True or result.get("status") == "async_launched":
            kept["toolUseResult"]["status"] = "async_launched"  # a background agent's
    return kept


def bundle(session: Session) -> dict[str, Any]:
    """One session as the line `claude_code` (or `codex`) reads, checked by reading it
    once."""
    if session.codex:
        return codex_rollouts.bundle(session.path, session.name, session.agents, session.forked)
    agents = {agent: _records(path) for agent, path in session.agents.items()}
    records = _records(session.path, session.name)
    line = {"id": session.name, KEY: {"records": records, "agents": agents}}
    from_claude_code(line, session.name, [])
    return line


@contextmanager
def converted(
    path: str | os.PathLike[str],
    name: str | None = None,
    found: list[Session] | None | EllipsisType = ...,
) -> Iterator[Path | None]:
    """A temporary JSONL of ``path``'s sessions, one a line, or None when ``path`` holds
    no agent's log (see the module). ``name``: what to call a single file (a pipe
    spooled to a temporary file: ``<stdin>``). ``found``: ``sessions(path)`` when the
    caller has it already (a folder is then listed, its first records read, once);
    ``...``: looked up here."""
    found = sessions(path) if found is ... else found
    if found is None:
        yield None
        return
    if name is not None and len(found) == 1 and Path(path).is_file():
        found[0].name = name
    fd, bundled = tempfile.mkstemp(prefix="backdoorlab-claude-", suffix=".jsonl")
    temporary = Path(bundled)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for session in found:
                line = json.dumps(bundle(session))  # ASCII: a lone surrogate too
                if len(line) >= MAX_LINE_BYTES:
                    raise TraceFormatError(
                        f"{session.name}: over {MAX_LINE_BYTES >> 20} MiB as one trace (its"
                        " messages and its sub-agents'), more than a trace may hold"
                    )
                handle.write(line + "\n")
        try:
            yield temporary
        except BackdoorlabError as exc:  # the user never saw the temporary file
            exc.args = (str(exc).replace(str(temporary), name or str(path)),)
            raise
    finally:
        temporary.unlink(missing_ok=True)
