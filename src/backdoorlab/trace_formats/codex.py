"""OpenAI Codex CLI's session logs ("rollouts") as one trace, read as Responses items.

Codex writes each session to ``~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl``,
one record a line: ``{"timestamp", "type", "payload"}`` where ``type`` is
``session_meta``, ``response_item`` (an OpenAI Responses item: a ``message``, a
``function_call`` — ``shell``, ``exec_command`` — and its ``function_call_output``, a
``custom_tool_call`` such as ``apply_patch``, a ``local_shell_call``, ``reasoning``, a
``web_search_call``…), ``event_msg`` (what the UI showed: the same conversation again),
``turn_context`` or ``compacted``; older versions wrote a header line and the items bare.
`claude_sessions` bundles a file into one line, ``{"id", "codex_rollout": {"records": [[AT,
RECORD]…], "agents": {KEY: [[AT, RECORD]…]}}}`` (AT: ``FILE:LINE``; ``agents``: the child
agents' rollouts, read where the parent started them: `codex_agents`; ``inherited``: what
a fork copied, `codex_forks`), which `from_codex` reads through `responses`:

- the response items in order, each message's origin its record's ``FILE:LINE``;
- what Codex writes as a user's (or developer's) message but nobody typed is a tool's
  result, a tainted source that authorises nothing (`defenses.audit.taint`): the
  repository's ``AGENTS.md`` ("# AGENTS.md instructions for …", ``<user_instructions>``,
  ``session_meta``'s ``instructions``) is data from the repository, not the user's
  instruction, so an address an attacker wrote there must not become one the user gave
  (tool ``agents_md``); so too ``<environment_context>``, a ``<skill>``'s file, and the
  output of a ``!cmd`` the user ran (``<user_shell_command>``: its ``command`` stays the
  user's words, its ``result`` is tool ``user_shell``);
- a ``compacted`` summary is the agent's own writing, read as assistant text;
- a message one agent sent another (`codex_agents.inter_agent`): its parent's words are
  read as assistant text, a child's (its answer) as tool ``agent``'s result; so too a
  newer Codex's ``agent_message`` response item (`_agent_message`), never a user's words;
- a shell call's output written as ``{"output": …, "metadata": …}`` is its ``output``.

``event_msg`` and ``turn_context`` records repeat or describe the conversation and are
not read. An item of a kind not read, a record that is not a Codex record, is an error
naming its file and line.
"""

from __future__ import annotations

import json
import re
from typing import Any

from backdoorlab.errors import TraceFormatError
from backdoorlab.trace_formats import codex_agents
from backdoorlab.trace_formats.log_records import bundle_of, record_pairs
from backdoorlab.trace_formats.parts import kind_of
from backdoorlab.trace_formats.responses import from_responses

KEY = "codex_rollout"
_UNREAD = frozenset({"session_meta", "event_msg", "turn_context", "world_state"})
_UNREAD_ITEMS = frozenset({"reasoning", "ghost_snapshot", "compaction", "compaction_summary"})
_INJECTED = (
    ("# AGENTS.md instructions for", "agents_md"),
    ("<user_instructions>", "agents_md"),
    ("<environment_context>", "environment_context"),
    ("<skill>", "skill"),
    ("<recommended_plugins>", "environment_context"),
    ("<turn_aborted>", "codex"),
)
# ``<user_shell_command><command>…</command><result>…</result>``, read in three steps: one
# pattern's two lazy groups tried every ``</command><result>`` against the rest of the text
# (100 KB of them with no ``</result>``: 2 s)
_SHELL_HEAD = re.compile(r"\s*<user_shell_command>\s*<command>")
_SHELL_SPLIT = re.compile(r"</command>\s*<result>")
_FIELD = re.compile(r"field 'input\.([0-9]+)")


def from_codex(data: dict[str, Any], where: str, origin: list[str]) -> dict[str, Any]:
    """A bundle (see the module) in OpenAI's chat format; ``origin`` gets each message's
    ``FILE:LINE``."""
    bundle = bundle_of(data, KEY, where)
    records = record_pairs(bundle.get("records") if isinstance(bundle, dict) else None, where, KEY)
    agents = bundle.get("agents") or {}
    if not isinstance(agents, dict):
        raise TraceFormatError(f"{where}: field '{KEY}.agents': not an object")
    children = {str(k): record_pairs(v, where, KEY) for k, v in agents.items()}
    items: list[dict[str, Any]] = []
    places: list[str] = []
    records_of: list[dict[str, Any]] = []  # the line each item came from
    tools: dict[str, str] = {}  # call id of a text nobody typed → the tool it is read as
    # a child whose parent the input lacks is read as a spliced child is: what it was
    # told came from an agent, whoever told that agent (`codex_agents.thread`)
    orphan = codex_agents.thread(records[0][1] if records else None)[1] is not None
    for at, record, child in codex_agents.spliced(records, children):
        for item in _items(at, record, tools):
            items.append(codex_agents.as_agents(item) if child or orphan else item)
            places.append(at)
            records_of.append(record)
    read: list[str] = []
    try:
        chat = from_responses({"input": items}, where, read)
    except TraceFormatError as exc:  # name the record, not the bundle
        match = _FIELD.search(str(exc))
        if match is None:
            raise
        index = int(match[1])
        name = "payload" if "payload" in records_of[index] else "item"  # the record's own
        told = str(exc).split(": ", 1)[-1].replace(match[0], f"field '{name}", 1)
        raise TraceFormatError(f"{places[index]}: {told}") from None
    origin.extend(places[int(field.split(".")[1])] for field in read)
    for message in chat["messages"]:
        if message.get("role") == "tool" and message.get("tool_call_id") in tools:
            message["name"] = tools[message["tool_call_id"]]
    out = {k: v for k, v in data.items() if k != KEY}
    out["messages"] = chat["messages"]
    return out


def _items(at: str, record: dict[str, Any], tools: dict[str, str]) -> list[dict[str, Any]]:
    """The Responses items ``record`` (a line of the file) stands for."""
    kind = record.get("type")
    if "payload" not in record:  # an older file: the header, then the items bare
        if isinstance(record.get("record_type"), str):
            return []  # its saved state
        if kind is None and isinstance(record.get("id"), str):
            return _instructions(at, record.get("instructions"), tools)
        return _item(at, record, tools)
    payload = record["payload"]
    if not isinstance(payload, dict):
        raise TraceFormatError(f"{at}: field 'payload': not an object")
    if kind == "session_meta":
        return _instructions(at, payload.get("instructions"), tools)
    if kind == "response_item":
        return _item(at, payload, tools)
    if kind == "compacted":  # the summary the agent wrote of what came before
        text = payload.get("message")
        if not isinstance(text, str):
            raise TraceFormatError(f"{at}: field 'payload.message': not a string")
        return [{"type": "message", "role": "assistant", "content": text}]
    return []  # event_msg, turn_context and newer bookkeeping: not the conversation


def _item(at: str, item: dict[str, Any], tools: dict[str, str]) -> list[dict[str, Any]]:
    kind = item.get("type", "message")
    if not isinstance(kind, str):  # a list's is no key of a set
        return [item]  # `responses` names what is wrong
    if kind in _UNREAD_ITEMS:
        return []
    if kind == "agent_message":
        return _agent_message(at, item, tools)
    if kind == "message" and (sent := codex_agents.inter_agent(item)) is not None:
        text, from_above = sent  # the parent's words; else another agent's result
        if from_above:
            return [{"type": "message", "role": "assistant", "content": text}]
        return [_output(at, "agent", text, tools)]
    if kind == "message" and item.get("role") in ("user", "developer", "system"):
        return _message(at, item, tools)
    if kind.endswith("_call_output"):
        return [{**item, "output": _printed(item.get("output"))}]
    return [item]


def _agent_message(at: str, item: dict[str, Any], tools: dict[str, str]) -> list[dict[str, Any]]:
    """An ``agent_message`` response item: ``{"type": "agent_message", "author",
    "recipient", "content": [{"type": "input_text", "text"} | {"type":
    "encrypted_content", "encrypted_content"}]}`` (``ResponseItem::AgentMessage`` and
    ``AgentMessageInputContent`` in openai/codex ``codex-rs/protocol/src/models.rs``,
    serde ``tag = "type"``, ``snake_case``; agent paths such as ``/root`` and
    ``/root/worker``). It is what `codex_agents.inter_agent` reads from a ``message``:
    one agent's words to another — a parent's task read as assistant text, a child's
    answer as tool ``agent``'s result — never the user's, which would authorise the
    addresses it names. Encrypted parts hold nothing to read; a part of another kind is
    refused, not skipped."""
    author, recipient, parts = item.get("author"), item.get("recipient"), item.get("content")
    for name, value in (("author", author), ("recipient", recipient)):
        if not isinstance(value, str):
            raise TraceFormatError(f"{at}: agent_message: field '{name}' is not a string")
    if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
        raise TraceFormatError(f"{at}: agent_message: field 'content' is not a list of parts")
    texts = []
    for part in parts:
        if part.get("type") == "input_text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif part.get("type") != "encrypted_content":
            raise TraceFormatError(
                f"{at}: agent_message: a content part of type {json.dumps(part.get('type'))}"
                " is not read (input_text and encrypted_content are)"
            )
    text = "\n".join(texts)
    if not text.strip():
        return []  # encrypted only: nothing to read
    if codex_agents.above(author, recipient):
        return [{"type": "message", "role": "assistant", "content": text}]
    return [_output(at, "agent", text, tools)]


def _printed(output: Any) -> Any:
    """A call's output; of a shell call's ``{"output": …, "metadata": {"exit_code"…}}``
    (as Codex writes it) the ``output`` alone."""
    if not isinstance(output, str) or not output.startswith('{"output"'):
        return output
    try:
        printed = json.loads(output).get("output")
    except (ValueError, RecursionError, AttributeError):
        return output
    return printed if isinstance(printed, str) else output


def _message(at: str, item: dict[str, Any], tools: dict[str, str]) -> list[dict[str, Any]]:
    """A user's or developer's message: its parts nobody typed as tools' results."""
    content = item.get("content")
    parts = [{"type": "input_text", "text": content}] if isinstance(content, str) else content
    if not isinstance(parts, list):
        return [item]  # `responses` names what is wrong
    out: list[dict[str, Any]] = []
    kept: list[Any] = []
    for part in parts:
        text = part.get("text") if kind_of(part) in ("input_text", "text") else None
        found = _injected(text) if isinstance(text, str) else None
        if found is None:
            kept.append(part)
            continue
        tool, said, heard = found
        if said:
            kept.append({"type": "input_text", "text": said})
        out.append(_output(at, tool, heard, tools))
    if kept:
        out.insert(0, {**item, "content": kept})
    return out


def _injected(text: str) -> tuple[str, str, str] | None:
    """(tool, what the user typed, what they did not) for a text Codex wrote, else None."""
    if shell := _shell(text):
        return "user_shell", shell[0].strip(), shell[1]
    stripped = text.lstrip()
    for prefix, tool in _INJECTED:
        if stripped.startswith(prefix):
            return tool, "", text
    return None


def _shell(text: str) -> tuple[str, str] | None:
    """A ``!cmd``'s (command, result) (`_SHELL_HEAD`); the first ``</result>`` after the
    first ``</command><result>`` ends it, as the first after any later one would."""
    head = _SHELL_HEAD.match(text)
    split = _SHELL_SPLIT.search(text, head.end()) if head else None
    if head is None or split is None:
        return None
    end = text.find("</result>", split.end())
    return None if end < 0 else (text[head.end() : split.start()], text[split.end() : end])


def _instructions(at: str, text: Any, tools: dict[str, str]) -> list[dict[str, Any]]:
    """``session_meta``'s ``instructions``: the AGENTS.md files Codex found."""
    return [_output(at, "agents_md", text, tools)] if isinstance(text, str) and text else []


def _output(at: str, tool: str, text: str, tools: dict[str, str]) -> dict[str, Any]:
    call_id = f"{tool}@{at}#{len(tools)}"
    tools[call_id] = tool
    return {"type": "function_call_output", "call_id": call_id, "output": text}
