"""Claude Code's own logs — a session transcript, a headless stream-json — as one trace.

Claude Code writes one *record* a line and a whole file is one conversation: a session
transcript (``~/.claude/projects/<project>/<session>.jsonl``: ``user``, ``assistant``,
``system``, ``summary``, ``file-history-snapshot``… records, only ``user`` and
``assistant`` holding a ``message`` in Anthropic's shape) or the stream ``claude -p
--output-format stream-json`` and the Agent SDK print (``system``/``init``, ``assistant``,
``user``, ``result`` events). `claude_sessions` bundles a file and its sub-agents' files
into one line, ``{"id", "claude_code": {"records": [[AT, RECORD]…], "agents": {ID:
[[AT, RECORD]…]}}}`` (AT: ``FILE:LINE``), which `to_chat` reads here:

- one API message written as several records (one block each, one ``message.id``) is
  one message, its blocks in order (a block written twice is read once);
- a sub-agent (the ``Task``/``Agent`` tool) is read where it ran: its messages right
  after the call that started it, before that call's result. Why: its parent sees only
  its final text, so a leak made by its own calls, of a value the parent read, was
  invisible. Its records are found as ``isSidechain`` records of the same file (older
  versions), a ``subagents/agent-ID.jsonl`` file (2.x; linked by the result's
  ``toolUseResult.agentId`` or a ``progress`` record's ``parentToolUseID``, else by its
  opening prompt) or stream events with a ``parent_tool_use_id``; one linked to no
  call is read after the parent's records;
- a ``<task-notification>`` that Claude Code writes as a user's text (a background task
  or agent done) is that task's result, a tool message; a background agent (a call with
  ``run_in_background``, its first result the launch's ``{"isAsync": true, "status":
  "async_launched", "agentId"}``) is read right before that notification (its
  ``<tool-use-id>`` the call's), where the parent hears from it, not before the
  "launched" result: what the parent read meanwhile was read before the agent's calls
  (a message sent to the running agent may carry it);
- a sub-agent's "user" text (its prompt, a later ``SendMessage``) and a compaction
  summary are the agent's own writing, read as assistant text: what only the user or the
  system *says* authorises a destination (`defenses.audit.taint`), and a prompt the agent
  wrote from what a tool returned must not. The opening prompt, when it repeats the
  call's own ``prompt``, is not read twice;
- what Claude Code writes as the user's but nobody typed — a bash-mode command's output,
  a local command's, an ``isMeta`` record, an ``attachment`` record (an @-mentioned
  file, a hook's output) — is a tool's result (`claude_meta`): it authorises nothing;
- each message's origin is the ``FILE:LINE`` of the record it came from, so a finding
  names the line its owner opens.

A record of an unknown content block, or whose message is not an object, is an error
naming its file and line.
"""

from __future__ import annotations

import json
import re
from typing import Any

from backdoorlab.errors import TraceFormatError
from backdoorlab.trace_formats import claude_meta
from backdoorlab.trace_formats.chat import from_messages
from backdoorlab.trace_formats.log_records import bundle_of, record_pairs
from backdoorlab.trace_formats.parts import SILENT_PARTS, TEXT_PARTS, kind_of, shown

KEY = "claude_code"
AGENT_TOOLS = frozenset({"Task", "Agent"})
_STREAM_TYPES = frozenset({"system", "assistant", "user", "result", "stream_event"})
_MARKERS = ("parentUuid", "isSidechain", "sessionId", "leafUuid")
_NOTICE = "<task-notification>"
_NOTICE_CALL = re.compile(r"<tool-use-id>\s*([^<\s]+)\s*</tool-use-id>")
_NOTICE_TASK = re.compile(r"<task-id>\s*([^<\s]+)\s*</task-id>")
_FIELD = re.compile(r"field 'messages\.([0-9]+)(?:\.content\.([0-9]+))?")

Placed = tuple[str, dict[str, Any], bool]  # (FILE:LINE, record, written by a sub-agent)


def log_kind(record: Any) -> str | None:
    """``transcript`` or ``stream`` when ``record`` (a file's first) is Claude Code's, else
    None. A line of another format (``messages``, ``input``…) is never one."""
    if not isinstance(record, dict) or not isinstance(record.get("type"), str):
        return None
    if any(k in record for k in ("messages", "input", "contents", "conversations")):
        return None
    if "session_id" in record and record["type"] in _STREAM_TYPES:
        return "stream"
    if any(k in record for k in _MARKERS) or "snapshot" in record and "messageId" in record:
        return "transcript"
    return None


def carries_message(record: dict[str, Any]) -> bool:
    """Whether a record is part of the conversation (a user or assistant message)."""
    return record.get("type") in ("user", "assistant") and "message" in record


def from_claude_code(data: dict[str, Any], where: str, origin: list[str]) -> dict[str, Any]:
    """A bundle (see the module) in OpenAI's chat format; ``origin`` gets each message's
    ``FILE:LINE``."""
    bundle = bundle_of(data, KEY, where)
    if not isinstance(bundle, dict) or not isinstance(bundle.get("records"), list):
        raise TraceFormatError(f"{where}: field '{KEY}': not a bundle of Claude Code records")
    seen: set[str] = set()  # a record written twice (a resumed session, a sub-agent's
    # records also in its parent's file) is read once
    records = _pairs(bundle["records"], where, seen)
    agents = bundle.get("agents") or {}
    if not isinstance(agents, dict):
        raise TraceFormatError(f"{where}: field '{KEY}.agents': not an object")
    main: list[Placed] = []
    groups: dict[str, list[Placed]] = {}
    keys = _sidechain_keys([record for _, record in records])
    for (at, record), key in zip(records, keys, strict=True):
        (groups.setdefault(key, []) if key else main).append((at, record, bool(key)))
    for agent, placed in agents.items():
        group = groups.setdefault(f"agent:{agent}", [])
        group.extend((at, record, True) for at, record in _pairs(placed, where, seen))
    ordered = _spliced(main, groups, _links(main, groups))
    messages, places = _messages(ordered)
    read: list[str] = []
    try:
        chat = from_messages({"messages": messages}, where, read)
    except TraceFormatError as exc:  # name the record, not the bundle
        raise TraceFormatError(_renamed(str(exc), places)) from None
    origin.extend(_place(field, places) for field in read)
    out = {k: v for k, v in data.items() if k != KEY}
    out["messages"] = chat["messages"]
    return out


def _pairs(value: Any, where: str, seen: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """The ``[FILE:LINE, record]`` pairs of ``value``, but for a ``uuid`` in ``seen``."""
    out = []
    for at, record in record_pairs(value, where, KEY):
        uuid = record.get("uuid")
        if isinstance(uuid, str) and record.get("type") != "progress":
            if uuid in seen:
                continue
            seen.add(uuid)
        out.append((at, record))
    return out


def _sidechain_keys(records: list[dict[str, Any]]) -> list[str | None]:
    """The sub-agent each record of the parent's file belongs to, or None (the parent's):
    a stream event's ``parent_tool_use_id``, a sidechain record's ``agentId``, else (older
    files) the first record of its ``parentUuid`` chain."""
    chain = [r for r in records if r.get("isSidechain") is True]
    side = {r["uuid"]: r for r in chain if isinstance(r.get("uuid"), str)}  # a list is no key
    keys: list[str | None] = []
    for record in records:
        tool = record.get("parent_tool_use_id")
        if isinstance(tool, str):
            keys.append(f"tool:{tool}")
        elif record.get("isSidechain") is not True:
            keys.append(None)
        elif isinstance(record.get("agentId"), str):
            keys.append(f"agent:{record['agentId']}")
        else:
            root, seen = record, set()
            while (
                isinstance(up := root.get("parentUuid"), str)
                and up in side
                and id(root) not in seen
            ):
                seen.add(id(root))
                root = side[up]
            keys.append(f"chain:{root.get('uuid')}")
    return keys


def _links(main: list[Placed], groups: dict[str, list[Placed]]) -> dict[str, str]:
    """tool_use id of a Task/Agent call → the sub-agent it started."""
    links = {key[5:]: key for key in groups if key.startswith("tool:")}
    every = main + [item for group in groups.values() for item in group]
    for _, record, _ in every:
        if record.get("type") == "progress" and f"agent:{record.get('agentId')}" in groups:
            links.setdefault(str(record.get("parentToolUseID")), f"agent:{record['agentId']}")
        result = record.get("toolUseResult")
        agent = result.get("agentId") if isinstance(result, dict) else None
        if isinstance(agent, str) and f"agent:{agent}" in groups:
            for call_id in _blocks_of(record, "tool_result", "tool_use_id"):
                links[call_id] = f"agent:{agent}"
    linked = set(links.values())
    openings = {key: _opening(group) for key, group in groups.items() if key not in linked}
    for _, record, _ in every:
        for block in _blocks(record):
            if kind_of(block) != "tool_use" or str(block.get("name")) not in AGENT_TOOLS:
                continue
            prompt = _prompt(block)
            found = next((k for k, text in openings.items() if text and text == prompt), None)
            if found is not None and str(block.get("id")) not in links:
                links[str(block.get("id"))] = found
                del openings[found]
    return links


def _spliced(
    main: list[Placed], groups: dict[str, list[Placed]], links: dict[str, str]
) -> list[Placed]:
    """The parent's records with each sub-agent's right before its call's result (after
    its agent's records when the result never came); those linked to nothing at the end.
    A background agent's result is its ``<task-notification>``, not the "launched" one."""
    out: list[Placed] = []
    done: set[str] = set()
    pending: list[tuple[list[Placed], int]] = [(main, 0)]
    every = main + [item for group in groups.values() for item in group]
    background = _background(every, links)

    def start(key: str | None) -> None:
        if key is not None and key not in done:
            done.add(key)
            pending.append((groups[key], 0))

    while pending:  # a stack, not recursion: a file may nest sub-agents deeply
        items, at = pending.pop()
        if at >= len(items):
            for _, record, _ in items:  # calls whose result never came
                for call_id in _blocks_of(record, "tool_use", "id"):
                    start(links.get(call_id))
            if not pending:
                for key in groups:
                    start(key)
            continue
        place, record, sub = items[at]
        results = _results_of(record, background, links)
        waiting = [links[c] for c in results if c in links]
        waiting = [key for key in waiting if key not in done]
        if waiting:  # the sub-agents first, then this record again
            pending.append((items, at))
            for key in reversed(waiting):
                start(key)
            continue
        out.append((place, record, sub))
        pending.append((items, at + 1))
    return out


def _background(every: list[Placed], links: dict[str, str]) -> set[str]:
    """The Task/Agent calls that started a background agent: ``run_in_background`` in
    the call, or its result the launch's ``{"isAsync": true, "status":
    "async_launched", "agentId"}`` (as Claude Code writes it in ``toolUseResult``)."""
    found: set[str] = set()
    for _, record, _ in every:
        for block in _blocks(record):
            given = block.get("input") if kind_of(block) == "tool_use" else None
            if isinstance(given, dict) and given.get("run_in_background") is True:
                found.add(str(block.get("id")))
        result = record.get("toolUseResult")
        if isinstance(result, dict) and (
            result.get("isAsync") is True or result.get("status") == "async_launched"
        ):
            found.update(_blocks_of(record, "tool_result", "tool_use_id"))
    return found & set(links)


def _results_of(record: dict[str, Any], background: set[str], links: dict[str, str]) -> list[str]:
    """The calls whose result ``record`` delivers: its ``tool_result`` blocks (but the
    "launched" one of a background agent) or the call its ``<task-notification>`` names
    (its ``<tool-use-id>``, else the background agent its ``<task-id>`` is)."""
    if record.get("type") == "user" and isinstance(record.get("message"), dict):
        notice = _notice(_listed(record["message"].get("content")))
        if notice is not None:
            task = _NOTICE_TASK.search(str(notice["content"]))
            agent = f"agent:{task[1]}" if task else None
            named = [c for c in background if links[c] == agent]
            return [notice["tool_use_id"], *named]
    return [c for c in _blocks_of(record, "tool_result", "tool_use_id") if c not in background]


def _listed(content: Any) -> Any:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _messages(ordered: list[Placed]) -> tuple[list[dict[str, Any]], list[list[str]]]:
    """Anthropic messages of the records in order, and each block's ``FILE:LINE``."""
    prompts = {
        _prompt(b)
        for _, record, _ in ordered
        for b in _blocks(record)
        if kind_of(b) == "tool_use" and str(b.get("name")) in AGENT_TOOLS  # a list: no key
    } - {None}
    messages: list[dict[str, Any]] = []
    places: list[list[str]] = []
    by_id: dict[str, int] = {}
    written: dict[int, set[str]] = {}  # each merged message's blocks, to read each once
    for at, record, sub in ordered:
        record = claude_meta.as_user(record)
        if record.get("type") == "attachment":  # what Claude Code added to the turn
            if (added := claude_meta.attachment(at, record)) is not None:
                messages.append(added)
                places.append([at])
            continue
        if not carries_message(record):
            continue
        blocks = _content(at, record)
        heard: list[Any] = []  # what the user never typed, read as tools' results
        if record["type"] == "user" and record.get("isCompactSummary") is not True:
            blocks, heard = claude_meta.unsaid(at, record, blocks)
        if record["type"] == "assistant":
            mid = record["message"].get("id")
            index = by_id.get(mid) if isinstance(mid, str) else None
            if index is None:
                if isinstance(mid, str):
                    by_id[mid] = len(messages)
                messages.append({"role": "assistant", "content": []})
                places.append([])
                index = len(messages) - 1
            for block in blocks:
                seen = written.setdefault(index, set())
                if (text := json.dumps(block, sort_keys=True)) not in seen:
                    seen.add(text)
                    messages[index]["content"].append(block)
                    places[index].append(at)
            continue
        agents = sub or record.get("isCompactSummary") is True
        texts = [b for b in blocks if agents and kind_of(b) not in ("tool_result", "image")]
        if texts and not (len(texts) == 1 and texts[0].get("text") in prompts):
            messages.append({"role": "assistant", "content": texts})
            places.append([at] * len(texts))
        rest = [b for b in blocks if not agents or kind_of(b) in ("tool_result", "image")]
        if rest:
            messages.append({"role": "user", "content": rest})
            places.append([at] * len(rest))
        messages.extend(heard)
        places.extend([at] for _ in heard)
    return messages, places


def _content(at: str, record: dict[str, Any]) -> list[dict[str, Any]]:
    """A record's content as blocks, each of a kind read (else an error naming ``at``)."""
    message = record["message"]
    if not isinstance(message, dict):
        raise TraceFormatError(f"{at}: field 'message': not an object")
    content = message.get("content")
    if content is None:
        return []
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if record.get("type") == "user" and _notice(content) is not None:
        return [_notice(content)]  # type: ignore[list-item]
    if not isinstance(content, list):
        raise TraceFormatError(f"{at}: field 'message.content': neither a string nor a list")
    for number, block in enumerate(content):
        kind = kind_of(block)
        known = kind in TEXT_PARTS or kind in SILENT_PARTS or kind == "document"
        if not known and not (kind and kind.endswith(("tool_use", "tool_result"))):
            raise TraceFormatError(
                f"{at}: field 'message.content.{number}.type': content block"
                f" {shown(block.get('type') if isinstance(block, dict) else block)} is not read"
            )
        if kind and kind.endswith("tool_use") and record.get("type") != "assistant":
            raise TraceFormatError(f"{at}: field 'message.content.{number}': a {kind} in a user")
    return content


def _prompt(block: dict[str, Any]) -> str | None:
    given = block.get("input")
    prompt = given.get("prompt") if isinstance(given, dict) else None
    return prompt if isinstance(prompt, str) else None


def _notice(content: Any) -> dict[str, Any] | None:
    """A ``<task-notification>`` (a background task's or agent's result, which Claude Code
    writes as a user's text) as the tool result it is: what it holds was no one's word."""
    if not isinstance(content, list) or len(content) != 1 or kind_of(content[0]) != "text":
        return None
    text = str(content[0].get("text", ""))
    if not text.lstrip().startswith(_NOTICE):
        return None
    call = _NOTICE_CALL.search(text)
    return {"type": "tool_result", "tool_use_id": call[1] if call else _NOTICE, "content": text}


def _blocks(record: dict[str, Any]) -> list[Any]:
    message = record.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, list) else []


def _blocks_of(record: dict[str, Any], kind: str, field: str) -> list[str]:
    return [str(b.get(field)) for b in _blocks(record) if kind_of(b) == kind]


def _opening(group: list[Placed]) -> str | None:
    """A sub-agent's first user text: the prompt it was started with."""
    for _, record, _ in group:
        if record.get("type") == "user" and isinstance(record.get("message"), dict):
            content = record["message"].get("content")
            if isinstance(content, str):
                return content
            texts = [b.get("text") for b in content or () if kind_of(b) == "text"]
            return texts[0] if len(texts) == 1 else None
    return None


def _place(field: str, places: list[list[str]]) -> str:
    """``messages.I[.content.J]`` of the Anthropic reading → its record's ``FILE:LINE``."""
    parts = field.split(".")
    index = int(parts[1])
    block = int(parts[3]) if len(parts) > 3 else 0
    return places[index][min(block, len(places[index]) - 1)] if places[index] else field


def _renamed(message: str, places: list[list[str]]) -> str:
    match = _FIELD.search(message)
    if match is None:
        return message
    field = match.group(0)[len("field '") :]
    return f"{_place(field, places)}: {message.split(': ', 1)[-1]}"
