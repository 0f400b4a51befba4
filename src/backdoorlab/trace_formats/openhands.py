"""OpenHands' (OpenDevin's) CodeAct agent in its text forms: its actions read as calls.

With function calling off, and in its older exports, OpenHands' ``CodeActAgent`` writes
each action into the assistant's text — ``<execute_ipython>\\ncode\\n</execute_ipython>``,
``<execute_bash>\\ncmd\\n</execute_bash>``, ``<execute_browse>\\nactions\\n
</execute_browse>`` (its ``action_to_str``) — and its observation comes back as a *user*
message opening ``OBSERVATION:\\n``. For a model without native function calling, its
prompt-based converter (``fn_call_converter``) writes a call as ``<function=NAME>\\n
<parameter=P>value</parameter>…\\n</function>`` and the result as a user message
``EXECUTION RESULT of [NAME]:\\n…``. `codeagent` asks the question every code agent's log
gets (a marked turn directly followed by an observation) and reads the turn with `read`:

- ``<execute_ipython>`` → a call of the ``python`` tool ``{"code": …}`` (as `codeagent`
  reads any agent's Python);
- ``<execute_bash>`` → ``execute_bash`` ``{"command": …}``, OpenHands' own shell tool,
  which the audit's shell readers read as they read it with function calling on;
- ``<execute_browse>`` → ``browser`` ``{"code": …}``, OpenHands' browsing tool;
- ``<function=NAME>`` → a call of NAME with its ``<parameter=…>`` values (stripped, as
  OpenHands' ``_extract_and_validate_params`` strips them; no parameter and a JSON object
  for a body: that object). A value that is a JSON object or array, or an integer, is
  that value (`_value`), as OpenHands converts ``array`` and ``integer`` parameters by
  the tool's schema: a custom tool's ``<parameter=request>{"url": …, "json": …}``
  reads as a JSON tool argument does, its destination and values at their keys. The
  schema is in the system prompt, not the turn, so the value's shape decides; a
  parameter that holds text to run or write (`TEXT_PARAMETERS`: ``code``,
  ``command``, ``file_text``…) stays text whatever it looks like.

The markers and patterns are OpenHands' own (``CodeActResponseParser``,
``FN_REGEX_PATTERN``, ``TOOL_RESULT_REGEX_PATTERN``). As OpenHands' parsers do, a closing
tag the stop sequence cut (``</execute_bash>``, ``</function``) may be missing from the
last block of a message: it runs to the end. Every block of a message is read, although
OpenHands runs the first only: a security reading would rather see a call that never ran
than miss one that did. The patterns are tempered (a block ends before the next opening
or closing tag of its kind) and atomic, so nested or unterminated tags cost one pass,
never a backtrack over the text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from backdoorlab.trace_formats.parts import call

HINTS = ("<execute_ipython>", "<execute_bash>", "<execute_browse>", "<function=")
"""Text an OpenHands turn holds (the cheap test before `read`)."""

OBSERVATION = r"OBSERVATION:|EXECUTION RESULT of \[[^\]\n]{1,128}\]:"
"""How an OpenHands observation opens (after any white space)."""

TAGGED = {
    "ipython": ("python", "code"),
    "bash": ("execute_bash", "command"),
    "browse": ("browser", "code"),
}
"""A tag's tool and the argument its text is."""

_TAG = re.compile(
    r"<execute_(ipython|bash|browse)>"
    r"((?>[^<]*+(?:<(?!/?execute_(?:ipython|bash|browse)>)[^<]*+)*+))"
    r"(?:</execute_\1>|\Z)"
)
_FUNCTION = re.compile(
    r"<function=([\w.:-]{1,128})>((?>[^<]*+(?:<(?!/?function[=>]|/function\Z)[^<]*+)*+))"
    r"(?:</function>|</function\Z|\Z)"
)
_PARAMETER = re.compile(
    r"<parameter=([\w.:-]{1,128})>((?>[^<]*+(?:<(?!/?parameter[=>])[^<]*+)*+))</parameter>"
)
TEXT_PARAMETERS = frozenset(
    ("code", "command", "cell", "script", "file_text", "old_str", "new_str", "insert_str")
    + ("content", "contents", "text", "message", "thought", "query", "pattern", "regex")
)
"""Parameters whose value is text (code, a file's text, an edit, a search): never parsed."""
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]{0,30})")
MAX_PARSED = 65536
"""A parameter longer than this stays text (a JSON read is linear, but bounded all the same)."""
_RESULT = re.compile(r"\s*(EXECUTION RESULT of \[[^\]\n]{1,128}\]:)?\s*(OBSERVATION:)?")


def read(text: str, index: int, first: int = 0) -> tuple[str, list[dict[str, Any]]]:
    """``text`` less its OpenHands action blocks, and the calls they make (ids
    ``call_{index}_{n}`` from ``n = first``, as `codeagent` numbers a turn's calls)."""
    if not any(hint in text for hint in HINTS):
        return text, []
    found: list[tuple[int, int, str, Any]] = []
    for match in _TAG.finditer(text):
        tool, argument = TAGGED[match.group(1)]
        found.append((match.start(), match.end(), tool, {argument: match.group(2).strip()}))
    if "<function=" in text:
        for match in _FUNCTION.finditer(text):
            found.append((match.start(), match.end(), match.group(1), _arguments(match.group(2))))
    if not found:
        return text, []
    found.sort(key=lambda item: item[0])
    calls = [
        call(f"call_{index}_{first + n}", name, args) for n, (_, _, name, args) in enumerate(found)
    ]
    kept, at = [], 0
    for start, end, _, _ in found:  # the text around the blocks (they do not overlap)
        kept.append(text[at:start])
        at = end
    return ("".join(kept) + text[at:]).strip(), calls


def _arguments(body: str) -> dict[str, Any]:
    """A ``<function=…>`` body's parameters; none, and a JSON object for a body (Llama's
    ``<function=name>{…}</function>``): that object; else nothing."""
    parameters = {m.group(1): _value(m.group(1), m.group(2)) for m in _PARAMETER.finditer(body)}
    if parameters or not body.strip().startswith("{"):
        return parameters
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _value(name: str, raw: str) -> Any:
    """A parameter's value: stripped text, or the JSON object, array or integer it
    holds (module docstring); text it stays when it does not parse."""
    text = raw.strip()
    if name.lower() in TEXT_PARAMETERS or len(text) > MAX_PARSED:
        return text
    if _INTEGER.fullmatch(text):
        return int(text)
    if not text.startswith(("{", "[")):
        return text
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return value if isinstance(value, dict | list) else text


def result(text: str) -> str:
    """An observation's text less OpenHands' markers (``EXECUTION RESULT of [x]:``,
    ``OBSERVATION:``): what the tool printed, which the notebook reader can then parse
    (`defenses.audit.cell_output`). Any other observation is returned as is."""
    marker = _RESULT.match(text)
    if marker is None or not (marker.group(1) or marker.group(2)):
        return text
    return text[marker.end() :].lstrip("\n")
