"""Code-acting agents' logs: the code a model wrote read as calls of a ``python`` tool.

smolagents' ``CodeAgent`` and CodeAct agents make no tool calls: the model writes Python
in its text, a sandbox runs it and its output comes back as a message — in an exported
chat a *user* message (``Observation:\\n…``), or one of smolagents' own roles
(``tool-call``, ``tool-response``). Read as plain chat, the code that sends a record is
prose no detector reads, and the sandbox's output is the user's words: values in it
count as given by the user, and an address an injected page printed counts as one the
user named. So each agent-marked code block of an assistant message becomes a call of a
``python`` tool with ``{"code": block}`` (the prose stays its content) and the
observation that follows becomes the ``tool`` message answering it.

The markers are the agents' own, as their parsers read them: smolagents before 1.20
(``Code:\\n```py … ```<end_code>``; ``<end_code>`` may be cut as a stop sequence, the
``Code:`` label then marks the block), smolagents from 1.20 (``<code> … </code>``
opening a line), CodeAct (``<execute> … </execute>``), smolagents' ``Calling
tools:\\n[{…}]`` (its ``tool-call`` message, or that text merged into the assistant's on
export), whose Python-literal list names the calls, and OpenHands' CodeActAgent in text
(``<execute_ipython>``, ``<execute_bash>``, ``<execute_browse>``, ``<function=NAME>``:
`openhands`). Strict, so that an ordinary chat is left as it stands: a line is a code
agent's only when some marked assistant message is directly followed by an observation —
a ``tool-response`` or ``tool`` message, or a user message opening with ``Observation:``
(or smolagents' ``Call id: …`` line), OpenHands' ``OBSERVATION:`` or ``EXECUTION RESULT
of [NAME]:``. A user who writes "Observation:" or pastes a ```` ```python ```` block
stays the user.
smolagents' own roles are read wherever they are (no chat format has them): a
``tool-call`` message as its logged calls, a ``tool-response`` as a ``tool`` message.
The fast readers ask the same question (`code_agent_like`, `as_is`) before they keep a
line as it stands.

A turn with structured calls too (``tool_calls``, Anthropic's ``tool_use`` blocks beside
its text, Responses ``function_call`` items joined to its message) keeps them as they
are, and its code follows them as calls: a ``CodeAgent`` runs the code in the text
whatever calls came with it, so code written beside a harmless call is screened as any
(`_beside`). A structured ``python_interpreter`` (or ``python``) call whose code is a
block's is that block's call (smolagents' memory logs the code it ran so): one call,
not two. Such a turn counts for the conversation's test too when an observation
follows it; a ``tool`` message answering a call by its id is that call's result, no
observation, so an ordinary tool-calling chat stays one.
"""

from __future__ import annotations

import json
import re
from typing import Any

from backdoorlab import python_source
from backdoorlab.trace_formats import openhands
from backdoorlab.trace_formats.parts import TEXT_PARTS, call, fail, is_plain_part, part_text

TOOL = "python"
NATIVE_ROLES = frozenset({"tool-call", "tool-response"})
"""smolagents' ``MessageRole`` values its memory writes before any export converts them."""

_HINTS = ("<end_code>", "<code>", "<execute>", "Calling tools:", "Code:\n```", *openhands.HINTS)
_BLOCK = re.compile(
    r"```(?:py|python)[ \t]*\n((?:(?!```).)*?)\n?```[ \t]*<end_code>"
    r"|^[ \t]*Code:[ \t]*\n```(?:py|python)[ \t]*\n((?:(?!```).)*?)\n?```"
    r"|^[ \t]*<code>[ \t]*\n?((?:(?!</?code>).)*?)</code>"
    r"|<execute>((?:(?!</?execute>).)*?)</execute>",
    re.DOTALL | re.MULTILINE,
)
_CALLING = "Calling tools:\n"
_OBSERVATION = re.compile(
    rf"\s*(?:Call id: *\S+\n)?Observation:|\s*Call id: *\S+\nError:|\s*(?:{openhands.OBSERVATION})"
)
_CALL_ID = re.compile(r"\s*Call id: *(\S+)\n")


def hinted(role: Any, content: Any) -> bool:
    """Whether a message may be a code agent's turn (a cheap test: `from_code_agent`
    decides)."""
    if role != "assistant":
        return False
    text = _text(content)
    if text is None:  # Anthropic's text beside its tool_use blocks
        text = _beside_uses(content, 0)[0]
    return text is not None and any(hint in text for hint in _HINTS)


def observes(role: Any, content: Any, tool_call_id: Any = None) -> bool:
    """Whether a message may be the observation after a code agent's turn."""
    if role == "user":
        text = _text(content)
        return text is not None and _OBSERVATION.match(text) is not None
    return role == "tool-response" or (role == "tool" and not tool_call_id)


def code_agent_like(messages: list[Any]) -> bool:
    """Whether ``messages`` (dicts) may be a code agent's: one of smolagents' own roles,
    or a turn with a code marker directly followed by an observation — what `as_is`
    tests on a decoded trace. Most lines fail it on roles alone."""
    previous: Any = None
    for message in messages:
        if not isinstance(message, dict):
            previous = None
            continue
        role = message.get("role")
        if type(role) is str and role in NATIVE_ROLES:  # a role may be any JSON
            return True
        if (
            previous is not None
            and observes(role, message.get("content"), message.get("tool_call_id"))
            and hinted(previous.get("role"), previous.get("content"))
        ):
            return True
        previous = message
    return False


def from_code_agent(messages: list[Any], where: str = "") -> dict[int, dict[str, Any] | None]:
    """Replacements for a code agent's messages by index (None: a ``tool-call`` message
    whose calls joined the assistant's), or nothing when ``messages`` are not one's; a
    ``tool-call`` message whose ``Calling tools:`` list does not read is an error naming
    ``where`` and the message (its calls would be no calls: the silent miss)."""
    turns: dict[int, tuple[str, list[dict[str, Any]]]] = {}
    merged: set[int] = set()
    for index in range(len(messages)):
        turn = _turn(messages, index)
        if turn is not None:
            turns[index] = turn
            if _role(messages, index + 1) == "tool-call" and not _structured(messages[index]):
                merged.add(index + 1)  # else read as its own calls (`_native`)
    observed = {i: _next(messages, i, merged) for i in turns}
    observed = {i: o for i, o in observed.items() if o is not None}
    if not observed:
        turns, merged = {}, set()
    out: dict[int, dict[str, Any] | None] = dict.fromkeys(merged)
    for index, (prose, calls) in turns.items():
        rest = {k: v for k, v in messages[index].items() if k not in ("content", "tool_calls")}
        at = observed.get(index)
        if at is not None:
            text = _text(messages[at].get("content")) or ""
            logged = _CALL_ID.match(text)
            answered = calls[-1] if calls else None
            if _structured(messages[index]):  # its ids stay; a call it gave may be any JSON
                named = [c for c in calls if logged and _named_id(c) == logged.group(1)]
                answered = named[0] if named else answered
                answered = answered if _named_id(answered) is not None else None
            elif logged and calls:
                calls[-1]["id"] = logged.group(1)
            out[at] = {
                "role": "tool",
                "content": openhands.result(text),
                **({"tool_call_id": answered["id"]} if answered else {}),
                "name": answered["function"]["name"] if answered else TOOL,
            }
        out[index] = {**rest, "role": "assistant", "content": prose} | (
            {"tool_calls": calls} if calls else {}
        )
    _native(messages, out, where)
    return out


def _native(messages: list[Any], out: dict[int, dict[str, Any] | None], where: str) -> None:
    """smolagents' own roles where no code turn took them: a ``tool-call`` message as an
    assistant's calls, a ``tool-response`` as the ``tool`` message answering the last."""
    last: dict[str, Any] | None = None
    for index, message in enumerate(messages):
        role = _role(messages, index)
        if index in out or type(role) is not str or role not in NATIVE_ROLES:
            continue
        text = _text(message.get("content")) or ""
        if role == "tool-call":
            listed = _after_label(message.get("content"))
            logged = _calling(listed)
            if listed.strip() and not logged:
                raise fail(
                    where,
                    f"messages.{index}.content",
                    "a 'Calling tools:' list that does not read as smolagents' calls",
                )
            calls = [
                call(i or f"call_{index}_{n}", *_named(name, args))
                for n, (name, args, i) in enumerate(logged)
            ]
            out[index] = {"role": "assistant", "content": "" if calls else text}
            if calls:
                out[index]["tool_calls"] = calls  # type: ignore[index]
            last = calls[-1] if calls else None
            continue
        answer = {"tool_call_id": last["id"], "name": last["function"]["name"]} if last else {}
        out[index] = {"role": "tool", "content": text, **answer}


def _structured(message: dict[str, Any]) -> bool:
    """Whether an assistant message holds structured calls (``tool_calls``, or
    Anthropic's ``tool_use`` blocks, whose content then is no text alone)."""
    return bool(message.get("tool_calls")) or _text(message.get("content")) is None


def _role(messages: list[Any], index: int) -> Any:
    message = messages[index] if index < len(messages) else None
    return message.get("role") if isinstance(message, dict) else None


def _text(content: Any) -> str | None:
    """A message's text when it is text (a string, or plain parts), else None."""
    if type(content) is str:
        return content
    if type(content) is list and all(is_plain_part(p) for p in content):
        return "".join(part_text(p) for p in content if p.get("type", "text") in TEXT_PARTS)
    return None


def _turn(messages: list[Any], index: int) -> tuple[str, list[dict[str, Any]]] | None:
    """An assistant message's prose and the calls its marked code (or smolagents'
    ``Calling tools:`` text, in it or in the ``tool-call`` message after it) makes. A
    message with structured calls too (``tool_calls``, Anthropic's ``tool_use`` blocks)
    keeps them, ids and order, and its code follows them as calls (`_beside`)."""
    message = messages[index]
    if not isinstance(message, dict) or message.get("role") != "assistant":
        return None
    content = message.get("content")
    if _role(messages, index + 1) != "tool-call" and not hinted("assistant", content):
        return None  # the cheap test first: most assistants write no code
    text = _text(content)
    given = message.get("tool_calls")
    structured = list(given) if isinstance(given, list) else []
    if text is None:
        text, structured = _beside_uses(content, index)
    if text is None:
        return None
    logged: list[tuple[str, Any, str | None]] = []
    start = text.rfind(_CALLING)  # the last one: a string ops scan, no regex to backtrack
    if start >= 0 and (start == 0 or text[start - 1] == "\n"):
        logged = _calling(text[start + len(_CALLING) :])
        text = text[:start] if logged else text
    if _role(messages, index + 1) == "tool-call" and not structured:
        logged = logged or _calling(_after_label(messages[index + 1].get("content")))
    blocks = [next(g for g in m.groups() if g is not None) for m in _BLOCK.finditer(text)]
    calls = [call(f"call_{index}_{i}", TOOL, {"code": b.strip()}) for i, b in enumerate(blocks)]
    text, acted = openhands.read(text, index, len(calls))  # OpenHands' tags and <function=…>
    calls += acted
    prose = _BLOCK.sub("", text).replace("<end_code>", "").strip()
    if structured:
        return (prose, _beside(structured, calls)) if calls else None
    if not calls and logged:  # no code in the text (structured outputs): the logged calls
        calls = [
            call(i or f"call_{index}_{n}", *_named(name, args))
            for n, (name, args, i) in enumerate(logged)
        ]
    elif calls and logged and logged[-1][2]:
        calls[-1]["id"] = str(logged[-1][2])
    if not calls:
        return None
    return prose, calls


def _beside(structured: list[Any], written: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A turn's structured calls as they are, then the calls its text's code makes that
    they do not log already. Why both: a client that runs the code in the text (a
    smolagents ``CodeAgent``) runs it whatever calls came with it, so code written
    beside a harmless call is screened too; an exported smolagents memory logs the
    text's code as a ``python_interpreter`` call, which is then the one call. A written
    call's id is made unlike every structured one's (a refusal names calls by id)."""
    code = {_logged_code(c) for c in structured} - {None}
    taken = {c["id"] for c in structured if isinstance(c, dict) and isinstance(c.get("id"), str)}
    out = list(structured)
    for made in written:
        block = made["function"]["arguments"].get("code")
        if made["function"]["name"] == TOOL and isinstance(block, str) and block in code:
            continue
        while made["id"] in taken:
            made["id"] += "_text"
        taken.add(made["id"])
        out.append(made)
    return out


def _named_id(given: Any) -> str | None:
    """A structured call's id when it is one a tool message can answer (a string, with
    a named function), else None."""
    function = given.get("function") if isinstance(given, dict) else None
    if not isinstance(function, dict) or not isinstance(given.get("id"), str):
        return None
    return given["id"] if isinstance(function.get("name"), str) else None


def _logged_code(logged: Any) -> str | None:
    """The code a structured ``python_interpreter`` or ``python`` call runs, stripped:
    its arguments as a string (smolagents logs the code itself, or its JSON string) or
    their ``code``; None for any other call."""
    function = logged.get("function") if isinstance(logged, dict) else None
    if not isinstance(function, dict) or function.get("name") not in ("python_interpreter", TOOL):
        return None
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except (ValueError, RecursionError):
            return arguments.strip()
        if not isinstance(arguments, dict | str):
            return function["arguments"].strip()
    if isinstance(arguments, dict):
        arguments = arguments.get("code")
    return arguments.strip() if isinstance(arguments, str) else None


def _beside_uses(content: Any, index: int) -> tuple[str | None, list[dict[str, Any]]]:
    """An Anthropic assistant's text and its ``*tool_use`` blocks as chat calls, when its
    content is text parts and such blocks only (any other block: None, read as it
    stands). Read here, not after `chat` converts the blocks, so the turn stays one
    message with the calls in order, as a chat turn with ``tool_calls`` is read."""
    if type(content) is not list:
        return None, []
    texts, uses = [], []
    for number, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if is_plain_part(part):
            texts.append(part_text(part) if kind in (None, *TEXT_PARTS) else "")
        elif isinstance(kind, str) and kind.endswith("tool_use"):
            call_id = str(part.get("id", f"call_{index}_u{number}"))
            uses.append(call(call_id, part.get("name", kind), part.get("input", {})))
        else:
            return None, []
    return ("".join(texts), uses) if uses else (None, [])


def _named(name: str, args: Any) -> tuple[str, Any]:
    """smolagents' ``python_interpreter`` call (its arguments the code) as the python tool's."""
    if name == "python_interpreter" and isinstance(args, str):
        return TOOL, {"code": args}
    return name, args


def _after_label(content: Any) -> str:
    text = _text(content) or ""
    return text.split(_CALLING, 1)[1] if _CALLING in text else ""


def _calling(literal: str) -> list[tuple[str, Any, str | None]]:
    """smolagents' ``str([tc.dict() …])``: (name, arguments, id) of each call, or nothing
    when the text is no such list (read with `ast.literal_eval`: it runs nothing)."""
    literal = literal.strip()
    if not (literal.startswith("[") and literal.endswith("]")):
        return []
    try:
        value = python_source.literal(literal)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return []
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        function = item.get("function") if isinstance(item, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            return []
        call_id = item.get("id")
        out.append((function["name"], function.get("arguments", {}), _str(call_id)))
    return out


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _next(messages: list[Any], index: int, merged: set[int]) -> int | None:
    """The observation answering the turn at ``index``: the next message (past a merged
    ``tool-call`` one) when it is an observation, else None."""
    at = index + 1 + (index + 1 in merged)
    message = messages[at] if at < len(messages) else None
    if not isinstance(message, dict):
        return None
    found = observes(message.get("role"), message.get("content"), message.get("tool_call_id"))
    return at if found else None
