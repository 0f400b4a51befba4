"""A forked Codex rollout's inherited history: what it copied from the rollout it forked.

Codex forks a thread two ways, and both copy history into the new rollout: the user's
fork (``session_meta.payload.forked_from_id``, the thread it forked: ``SessionMeta`` in
``codex-rs/protocol/src/protocol.rs``) and a child agent spawned with its parent's
context (``spawn_agent``'s ``fork_context`` / ``fork_turns``; its ``session_meta``
names the parent in ``source.subagent.thread_spawn.parent_thread_id``). Either way the
new thread starts from ``InitialHistory::Forked(items)`` and persists those items as
they were, right after its own ``session_meta`` (``record_initial_history`` in
``codex-rs/core``): the parent's records again, under new line timestamps. No record
marks where the copy ends.

So the copy is found by content: the leading run of the rollout's records (after its
own first) each equal, but for the line's ``timestamp``, to a record of the rollout it
forked. That is reliable only when that rollout is in the input, which is also the only
case where the copy's findings would be reported twice; alone, a fork's whole history is
read as its own. `claude_sessions` and `codex_rollouts` find it as they bundle; the
bundle names, per file, the last inherited record (``inherited``: ``{FILE: FILE:LINE}``),
and the audit reports no finding on a message read from it — the detectors still read
it, so the taint a later call of the fork's own carries is still seen.
"""

from __future__ import annotations

import json
from typing import Any

from backdoorlab.trace_formats.log_records import file_line


def forked_from(first: Any) -> str | None:
    """The thread a rollout's first record says it was forked from (the user's fork)."""
    meta = first.get("payload") if isinstance(first, dict) else None
    value = meta.get("forked_from_id") if isinstance(meta, dict) else None
    return value if isinstance(value, str) and value else None


def _key(record: Any) -> str:
    """A record as compared: its JSON but for the line's own ``timestamp``."""
    if isinstance(record, dict):
        record = {k: v for k, v in record.items() if k != "timestamp"}
    return json.dumps(record, sort_keys=True)


def inherited_through(own: list[list[Any]], parent: list[list[Any]]) -> str | None:
    """The ``FILE:LINE`` of the last record ``own`` (``[AT, record]`` pairs, its first
    its own ``session_meta``) copied from ``parent``, or None when none was."""
    theirs = {_key(record) for _, record in parent}
    last = None
    for at, record in own[1:]:
        if _key(record) not in theirs:
            break
        last = at
    return last


def inherited_steps(inherited: Any, origin: list[str]) -> frozenset[int]:
    """The messages (by index in the chat reading) whose origin ``FILE:LINE`` is at or
    before the last inherited record of its file (``inherited`` as a bundle holds it)."""
    if not isinstance(inherited, dict) or not inherited:
        return frozenset()
    last: dict[str, int] = {}
    for name, at in inherited.items():
        place = file_line(at) if isinstance(at, str) else None
        if isinstance(name, str) and place is not None and place[0] == name:
            last[name] = place[1]
    steps = set()
    for step, at in enumerate(origin):
        place = file_line(at)
        if place is not None and place[0] in last and place[1] <= last[place[0]]:
            steps.add(step)
    return frozenset(steps)
