"""What Claude Code writes as the user's record but the user never typed: read as a tool's.

Only what the user or the system *says* authorises a destination (`defenses.audit.taint`);
a tool result is a tainted source that authorises nothing. Claude Code writes several
texts nobody typed as ``user`` records, and an ``attachment`` record for what it adds to
the user's turn — reading either as the user's words would authorise an address an
attacker wrote into them. Read here as a tool's result instead:

- a record marked ``isMeta`` (a slash command's expanded prompt — the command file's
  text —, the ``<local-command-caveat>``, an @-mentioned file written as "Called the Read
  tool … Result of calling the Read tool", a ``<system-reminder>``): tool ``attachment``;
- in a user's text, what a command printed: ``<bash-stdout>`` / ``<bash-stderr>`` of a
  bash-mode ``!cmd`` (tool ``bash``), ``<local-command-stdout>`` / ``-stderr>`` of a local
  slash command (``user_command``), a hook's ``<user-prompt-submit-hook>`` output
  (``hook``) and a ``<system-reminder>`` (``attachment``). The rest of the text — the
  ``<bash-input>`` command, the ``<command-name>`` / ``<command-args>`` the user typed —
  stays the user's words;
- a ``system`` record of subtype ``local_command`` (2.1: a slash command's name and
  arguments, or its output, where older versions wrote a user's record): read as that
  user's record would be;
- an ``attachment`` record (2.1: an @-mentioned ``file`` or ``directory``, ``nested_memory``
  (a CLAUDE.md), ``edited_text_file``, ``mcp_resource``, a hook's ``hook_success`` /
  ``hook_additional_context`` / ``hook_*_error``…): every string it holds, as tool
  ``attachment`` (``hook`` for a hook's); but ``queued_command``, a prompt the user typed
  while the agent worked, which is the user's text.
"""

from __future__ import annotations

import re
from typing import Any

from backdoorlab.trace_formats.parts import kind_of

_TAGS = {
    "bash-stdout": "bash",
    "bash-stderr": "bash",
    "local-command-stdout": "user_command",
    "local-command-stderr": "user_command",
    "user-prompt-submit-hook": "hook",
    "system-reminder": "attachment",
}
_OUTPUT = re.compile(r"<(" + "|".join(map(re.escape, _TAGS)) + r")>(.*?)(?:</\1>|\Z)", re.DOTALL)
_NAMES = ("type", "hookName", "hookEvent", "toolUseID", "uuid")  # labels, not text shown


def unsaid(at: str, record: dict[str, Any], blocks: list[Any]) -> tuple[list[Any], list[Any]]:
    """A user record's blocks split into what the user said (kept as blocks) and tool
    messages for what they did not type (see the module); ``at`` names the record."""
    if record.get("isMeta") is True:
        text = "\n".join(str(b.get("text", "")) for b in blocks if kind_of(b) == "text")
        rest = [b for b in blocks if kind_of(b) != "text"]
        return rest, [heard(at, "attachment", text)] if text.strip() else []
    said: list[Any] = []
    tools: list[Any] = []
    for block in blocks:
        text = block.get("text") if kind_of(block) == "text" else None
        if not isinstance(text, str) or _OUTPUT.search(text) is None:
            said.append(block)
            continue
        for match in _OUTPUT.finditer(text):
            if match[2].strip():
                tools.append(heard(at, _TAGS[match[1]], match[2]))
        if (left := _OUTPUT.sub("", text)).strip():
            said.append({**block, "text": left})
    return said, tools


def as_user(record: dict[str, Any]) -> dict[str, Any]:
    """A ``system`` ``local_command`` record as the user's record older versions wrote;
    any other record as it is."""
    if record.get("type") != "system" or record.get("subtype") != "local_command":
        return record
    content = record.get("content")
    message = {"role": "user", "content": content if isinstance(content, str) else ""}
    return {**record, "type": "user", "message": message}


def attachment(at: str, record: dict[str, Any]) -> dict[str, Any] | None:
    """An ``attachment`` record as a chat message: the user's for a ``queued_command``,
    else a tool's; None when it holds no text."""
    payload = record.get("attachment")
    if not isinstance(payload, dict):
        return None
    kind = str(payload.get("type", ""))
    if kind == "queued_command" and isinstance(payload.get("prompt"), str | list):
        return {"role": "user", "content": payload["prompt"]}
    text = "\n".join(_strings(payload))
    if not text.strip():
        return None
    return heard(at, "hook" if kind.startswith("hook_") else "attachment", text)


def heard(at: str, tool: str, text: str) -> dict[str, Any]:
    """A tool message of ``tool`` holding ``text``, answering no call (none was made)."""
    return {"role": "tool", "tool_call_id": f"{tool}@{at}", "name": tool, "content": text}


def _strings(value: Any, key: str = "") -> list[str]:
    """Every string in ``value``, but labels (its type, a hook's name…)."""
    if isinstance(value, str):
        return [] if key in _NAMES else [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, str(k))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, key)]
    return []
