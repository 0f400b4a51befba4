"""Codex CLI's rollout files recognised and bundled, one session a line (`codex`).

`claude_sessions` finds the files an input names and writes the bundles; here is what
is Codex's own: whether a file is a rollout (its first record a ``session_meta`` in the
``{"timestamp", "type", "payload"}`` envelope, or an older ``rollout-*.jsonl`` whose
first line is the bare header ``{"id", "timestamp", …}``), and its records, each checked
as it is read (a JSON object: a malformed line fails naming its file and line). Only the
records the reading needs are kept — ``event_msg`` and ``turn_context`` repeat or
describe the conversation — so the bundle stays near the conversation's own size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backdoorlab.errors import TraceFormatError
from backdoorlab.trace_formats import codex_agents, codex_forks
from backdoorlab.trace_formats.codex import KEY, from_codex
from backdoorlab.trace_formats.log_records import log_records

_KEPT = frozenset({"session_meta", "response_item", "compacted"})


def is_rollout(record: Any, path: Path) -> bool:
    """Whether ``record``, the first of ``path``, opens a Codex rollout."""
    if not isinstance(record, dict):
        return False
    if record.get("type") == "session_meta" and isinstance(record.get("payload"), dict):
        return True
    older = path.name.startswith("rollout-") and "type" not in record
    return older and isinstance(record.get("id"), str) and "timestamp" in record


def family(firsts: dict[Path, Any]) -> dict[Path, list[Path]]:
    """Each rollout of ``firsts`` (path → its first record) that no other in it started,
    with its child agents' rollouts, children's children too (`codex_agents`). A child
    whose parent is absent, or whose parent ids loop back to it, is a rollout of its own."""
    threads = {path: codex_agents.thread(first) for path, first in firsts.items()}
    by_id: dict[str, Path] = {}
    for path, (own, _, _) in threads.items():
        if own is not None:
            by_id.setdefault(own, path)
    top: dict[Path, Path] = {}  # each rollout's root: itself when none is above it here
    for path in firsts:
        chain, node = {path: None}, path  # a dict: ordered, and quick to look in
        while node not in top:
            parent = by_id.get(threads[node][1] or "")
            if parent is None or parent in chain:  # no parent here, or the ids loop
                break
            chain[parent] = None
            node = parent
        entry = by_id.get(threads[node][1] or "") if node not in top else None
        members = list(chain)
        cycle = members.index(entry) if entry in chain else len(members)
        for member in members[cycle:]:  # a loop of parent ids: each its own
            top[member] = member
        for member in members[:cycle]:  # the rest under the root above them
            top[member] = top.get(node, node) if entry not in chain else entry
    roots: dict[Path, list[Path]] = {}
    for path in firsts:
        roots.setdefault(top[path], [])
        if top[path] != path:
            roots[top[path]].append(path)
    return roots


def forks(firsts: dict[Path, Any]) -> dict[Path, Path]:
    """Each rollout of ``firsts`` that the user forked from another of them (its
    ``forked_from_id``), with that one (`codex_forks`)."""
    by_id: dict[str, Path] = {}
    for path, first in firsts.items():
        own = codex_agents.thread(first)[0]
        if own is not None:
            by_id.setdefault(own, path)
    out = {}
    for path, first in firsts.items():
        parent = by_id.get(codex_forks.forked_from(first) or "")
        if parent is not None and parent != path:
            out[path] = parent
    return out


def records(path: Path, name: str) -> list[list[Any]]:
    """``[FILE:LINE, record]`` of each record of ``path`` (called ``name``) that is read."""
    out: list[list[Any]] = []
    for at, record in log_records(path, name):
        if not isinstance(record, dict):
            raise TraceFormatError(f"{at}: not a Codex record (not a JSON object)")
        kind = record.get("type")
        if "payload" in record and not isinstance(kind, str):
            raise TraceFormatError(f"{at}: field 'type': not a Codex record type")
        if "payload" not in record or kind in _KEPT:
            out.append([at, record])
    return out


def bundle(
    path: Path,
    name: str,
    agents: dict[str, Path] | None = None,
    forked: Path | None = None,
) -> dict[str, Any]:
    """One rollout (with its child agents' ``agents``) as the line `codex` reads, checked
    by reading it once. ``forked``: the rollout it was forked from (the user's fork), when
    the input holds it; what it and each child forked with its parent's context copied
    is named in the bundle's ``inherited`` (`codex_forks`)."""
    children = {key: records(child, str(child)) for key, child in (agents or {}).items()}
    own = records(path, name)
    inherited = _inherited(own, name, children, records(forked, str(forked)) if forked else None)
    line = {"id": name, KEY: {"records": own, "agents": children}}
    if inherited:
        line[KEY]["inherited"] = inherited
    from_codex(line, name, [])
    return line


def _inherited(
    own: list[list[Any]],
    name: str,
    children: dict[str, list[list[Any]]],
    forked: list[list[Any]] | None,
) -> dict[str, str]:
    """``{FILE: its last inherited record}`` of the rollout (from ``forked``) and of each
    child (from its parent's records, when the bundle holds the parent)."""
    out: dict[str, str] = {}
    if forked is not None and (last := codex_forks.inherited_through(own, forked)):
        out[name] = last
    files = {name: own, **children}
    by_thread: dict[str, str] = {}
    for key, pairs in files.items():
        thread = codex_agents.thread(pairs[0][1] if pairs else None)[0]
        if thread is not None:
            by_thread.setdefault(thread, key)
    for key, pairs in children.items():
        parent = by_thread.get(codex_agents.thread(pairs[0][1] if pairs else None)[1] or "")
        last = None
        if parent is not None and parent != key:
            last = codex_forks.inherited_through(pairs, files[parent])
        if last is not None:
            out[key] = last
    return out
