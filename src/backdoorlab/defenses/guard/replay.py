"""Replaying recorded traces through the guard as if they were live: what a policy would
have done to logged traffic, before it is deployed.

Each trace gets a fresh session; its messages are read in order and every tool call, and
every image of the assistant's text (``reply:image``), is screened where it stands,
exactly as a live guard would have seen it — except that a call the guard would have
refused still ran in the recording, so what follows it is what really happened, not what
the agent would have done after a refusal. One result per trace, in input order; a trace
is ``blocked`` when any of its calls would be.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

from backdoorlab.defenses.audit.located import message_place
from backdoorlab.defenses.audit.reader import TraceRecord, TraceStream
from backdoorlab.defenses.guard.core import Guard, GuardSession


def replay_trace(guard: Guard, record: TraceRecord, logs: bool = False) -> GuardSession:
    """A session that has screened every tool call and reply image of ``record``'s trace
    — up to the call that stopped it, with the policy's ``stop_after``: a live guard would
    have ended the conversation there, so what the recording holds after it never
    happens. ``logs`` (the command's own bundle of agents' logs): a forked Codex
    rollout's copied messages are not screened again (`located.own`); the calls after
    them still see what they read."""
    trace = record.trace
    session = guard.session(env=trace.metadata.env, conversation=record.trace_id)
    copied = record.inherited if logs else frozenset()
    for index, message in enumerate(trace.messages):
        if index in copied:
            continue
        for call in message.tool_calls or ():
            if session.screen(trace.messages, index, call).stop:
                return session
        reply = message.text if message.role == "assistant" else ""  # its images
        if reply and any(d.stop for d in session.screen_reply(trace.messages, index, reply)):
            return session
    return session


def result_line(record: TraceRecord, session: GuardSession) -> dict[str, Any]:
    """One trace's line of ``decisions.jsonl``: whether it would be blocked, how many calls
    were screened, and every decision that found something (allowed ones included).
    ``at``: where in its line the trace's record sits, when the line holds several (a
    raw export's batch of spans). A converted line's decisions name their message as the
    audit's findings do (`located.message_place`): ``at`` in the line as written, and an
    agent's session (a Claude Code or Codex log) ``session``, ``file`` and ``file_line``
    — the line's own ``line`` is the session's place in the bundle, which no user opens."""
    found = [d.to_dict() for d in session.decisions if d.severity is not None]
    if found and (record.origin is not None or record.session is not None):
        # a converted line's; an exported row's (no origin) its session alone
        found = [d | message_place(d["step"], record.origin, record.session) for d in found]
    place = {"at": record.place} if record.place is not None else {}
    known = record.known_places  # a session's, always: read as the line was converted
    named = {"session": known[1]} if known is not None and known[1] is not None else {}
    return {
        "index": record.index,
        "line": record.line,
        **place,
        **named,
        "trace_id": record.trace_id,
        "blocked": session.blocked,
        "calls": len(session.decisions),
        "blocked_calls": sum(d.blocked for d in session.decisions),
        "stopped_at": next((d.step for d in session.decisions if d.stop), None),
        "decisions": found,
    }


def replay(
    path: str | os.PathLike[str],
    guard: Guard | None = None,
    skipped: Counter[str] | None = None,
    logs: bool = False,
) -> Iterator[dict[str, Any]]:
    """`result_line` of every trace of the file at ``path`` (ours or plain OpenAI JSONL,
    ``.gz`` too), in order; a malformed line raises one line naming file and line.
    ``skipped``, when given, gets a raw export's records that are no LLM call, by why
    (`trace_formats.exports`), once the file is read. ``logs``: ``path`` is the command's
    own bundle of agents' logs (`replay_trace`)."""
    guard = guard if guard is not None else Guard()
    stream = TraceStream(path)
    for record in stream:
        yield result_line(record, replay_trace(guard, record, logs))
    if skipped is not None:
        skipped.update(stream.skipped)
