"""Codex CLI's child agents read inside their parent's trace, where the parent started them.

Codex's multi-agent tools let a session start child agents: the parent calls
``spawn_agent`` (``codex-rs/core/src/tools/handlers/multi_agents/spawn.rs``: arguments
``message`` or ``items``, ``agent_type``, ``fork_context``; its output the JSON
``{"agent_id": THREAD, "nickname"}``; in ``multi_agents_v2/spawn.rs`` the arguments
``message``, ``task_name``, ``fork_turns`` and the output ``{"task_name": PATH,
"nickname"}``), then ``send_input`` / ``wait_agent`` (``multi_agents/wait.rs``: the
output ``{"status": {TARGET: {"completed": FINAL_TEXT}}, "timed_out"}``, ``AgentStatus``
in ``codex-rs/protocol/src/protocol.rs``). Each child is a thread of its own and writes
its own rollout, whose ``session_meta`` ``source`` is ``{"subagent": {"thread_spawn":
{"parent_thread_id", "depth", "agent_path", "agent_nickname", "agent_role"}}}``
(``SessionSource::SubAgent(SubAgentSource::ThreadSpawn {…})``, serde ``snake_case``, in
``codex-rs/protocol/src/protocol.rs``). A ``forked_from_id`` alone is a session the user
forked, not a child: it is left a trace of its own.

Read apart, a child loses what its parent read: a secret the parent read and wrote into
the spawn message, which the child then sends out, is no tool's output in the child's
file but its opening "user" message — words that authorise its destination. So, as
`claude_code` reads a Claude Code sub-agent, a child is read inside its parent's trace,
right after the spawn call's output that names it (its ``agent_id`` the child's thread
id, or its ``task_name`` the child's ``agent_path``); a child that no output names, after
its parent's records; one whose parent the bundle lacks, after everything. In a child —
and in a child's rollout read alone, its parent not in the input (`codex.from_codex`) — the
text written as a user's (the spawn message, a later ``send_input``) is the parent
agent's writing and is read as assistant text: only the user's words authorise a
destination (`defenses.audit.taint`). What the child returns comes back to the parent as
``wait_agent``'s output, a tool's result already.
"""

from __future__ import annotations

import json
from typing import Any

SPAWN_TOOLS = frozenset({"spawn_agent"})
Pair = tuple[str, dict[str, Any]]
Placed = tuple[str, dict[str, Any], bool]  # (FILE:LINE, record, a child's)


def thread(first: Any) -> tuple[str | None, str | None, str | None]:
    """(thread id, parent thread id, agent path) that a rollout's first record names."""
    if not isinstance(first, dict):
        return None, None, None
    meta = first.get("payload") if first.get("type") == "session_meta" else first
    if not isinstance(meta, dict):
        return None, None, None
    own = _text(meta.get("id"))
    source = meta.get("source")
    sub = source.get("subagent") if isinstance(source, dict) else None
    spawn = sub.get("thread_spawn") if isinstance(sub, dict) else None
    if not isinstance(spawn, dict):
        return own, None, None
    parent, path = spawn.get("parent_thread_id"), spawn.get("agent_path")
    return own, _text(parent), _text(path)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _first(records: list[Pair]) -> Any:
    return records[0][1] if records else None


def spliced(main: list[Pair], agents: dict[str, list[Pair]]) -> list[Placed]:
    """``main``'s records with each child's (``agents``, any key) where it was started
    (see the module); every child once, however their parent ids loop."""
    threads = {key: thread(_first(records)) for key, records in agents.items()}
    out: list[Placed] = []
    done: set[str] = set()
    stack: list[tuple[list[Pair], str | None, bool, int]] = [
        (main, thread(_first(main))[0], False, 0)
    ]
    spawns: dict[int, dict[str, str]] = {}  # id(records) → call id → spawn call name

    below: dict[str, list[str]] = {}  # parent thread id → its children's keys
    for key, (_, of, _) in threads.items():
        if of is not None:
            below.setdefault(of, []).append(key)

    def children(parent: str | None, output: Any = None) -> list[str]:
        named = _named(output) if output is not None else None
        return [
            key
            for key in below.get(parent or "", ())
            if key not in done and (named is None or named in (threads[key][0], threads[key][2]))
        ]

    while stack:
        records, own, sub, at = stack.pop()
        if at >= len(records):  # the children no output named, after their parent
            later = children(own)
            if not stack:
                later = [k for k in threads if k not in done and k not in later] + later
            for key in reversed(later):
                done.add(key)
                stack.append((agents[key], threads[key][0], True, 0))
            continue
        place, record = records[at]
        out.append((place, record, sub))
        stack.append((records, own, sub, at + 1))
        calls = spawns.setdefault(id(records), {})
        payload = record.get("payload")
        item = payload if isinstance(payload, dict) else {}
        name = item.get("name")  # of any type: a list's is no key of a set
        if item.get("type") == "function_call" and isinstance(name, str) and name in SPAWN_TOOLS:
            calls[str(item.get("call_id"))] = name
        elif item.get("type") == "function_call_output" and str(item.get("call_id")) in calls:
            for key in reversed(children(own, item.get("output"))):
                done.add(key)
                stack.append((agents[key], threads[key][0], True, 0))
    return out


def _named(output: Any) -> str:
    """The thread id (``agent_id``) or agent path (``task_name``) a spawn's output names;
    ``""`` when it names none (a failed spawn: ``collab_spawn_error``)."""
    if isinstance(output, list):  # content items
        output = "".join(str(p.get("text", "")) for p in output if isinstance(p, dict))
    try:
        result = json.loads(output) if isinstance(output, str) else output
    except (ValueError, RecursionError):
        return ""
    if not isinstance(result, dict):
        return ""
    named = result.get("agent_id", result.get("task_name"))
    return named if isinstance(named, str) and named else ""


def as_agents(item: dict[str, Any]) -> dict[str, Any]:
    """A child's Responses item: a user's message is its parent agent's writing."""
    if item.get("type", "message") != "message" or item.get("role") != "user":
        return item
    content = item.get("content")
    if isinstance(content, str):
        return {**item, "role": "assistant"}
    if not isinstance(content, list):
        return item
    parts = [
        {**p, "type": "output_text"} if isinstance(p, dict) and p.get("type") == "input_text" else p
        for p in content
    ]
    return {**item, "role": "assistant", "content": parts}


def inter_agent(item: dict[str, Any]) -> tuple[str, bool] | None:
    """(its text, whether its author is above its recipient) of a message one agent sent
    another, else None. Codex writes one (a v2 spawn's task, a child's answer) as a
    message whose one text part is the JSON ``{"author", "recipient", "other_recipients",
    "content", "trigger_turn"}`` (``InterAgentCommunication::to_response_input_item`` in
    ``codex-rs/protocol/src/protocol.rs``; agent paths: ``/root``, ``/root/worker``)."""
    content = item.get("content")
    if not isinstance(content, list) or len(content) != 1 or not isinstance(content[0], dict):
        return None
    text = content[0].get("text")
    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        return None
    try:
        sent = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(sent, dict):
        return None
    author, recipient, said = sent.get("author"), sent.get("recipient"), sent.get("content")
    if not (isinstance(author, str) and isinstance(recipient, str) and isinstance(said, str)):
        return None
    return said, above(author, recipient)


def above(author: str, recipient: str) -> bool:
    """Whether agent path ``author`` is above ``recipient`` (``/root`` → ``/root/worker``:
    a parent's task; the other way, a child's answer)."""
    return recipient.startswith(author.rstrip("/") + "/")
