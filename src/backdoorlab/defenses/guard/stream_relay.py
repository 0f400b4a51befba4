"""A chat-completions stream relayed as it is generated, holding back only what must be
screened whole (`guard proxy`, ``stream: true``; the reading and screening around it
are `chat_stream`'s).

Each upstream ``chat.completion.chunk`` is taken in as it comes (`ChatStream.take`) and
what may go is passed on at once: the role, the model's reasoning and other delta
fields (returned unscreened by the whole-reply path too), and the text up to
`releasable`'s end. Held back until the choice finishes:

- every tool-call (and legacy ``function_call``) delta: a call's destination and
  payload can arrive in its last tokens, so it is screened whole;
- the text from where something the whole-reply screening may rewrite can begin — an
  image the client's renderer would fetch (a markdown ``![``, an HTML ``<img``:
  `rendered.images_in`), or a call the model wrote in its text (``<tool_call>``,
  ``<functioncall>``: `parts.calls_in_text`) — to the end of the choice. Not to the end
  of the construct: a reference image's ``[ref]: url`` may come after it, and an
  image's decision depends on the calls decided before it (the policy's
  ``stop_after``), which come last;
- whitespace at the end of the text so far (a call read from the text leaves the text
  ``strip()``-ed);
- all the text, when the conversation is a code agent's (its code blocks are calls);
- a ``content`` given as a list of parts (Mistral's streams, some gateways'): the parts
  are joined as the `openai` SDK joins them (by their ``index``, else one after the
  other), screened as the whole-reply path screens a list content (its text parts
  read as one text), and sent in one delta — the list as it came when the guard passed
  it, else the screened text, as the whole-reply path answers. A choice whose deltas
  give text and lists both is refused: no client joins the two (the SDK keeps the first
  and drops the other), so what the client would act on cannot be screened.

When a choice has finished (and every choice before it: the decision log keeps the
whole-reply path's order), the message its deltas make is screened whole
(`completions.screen_completion`, on the proxy's screening thread) and `ChatStream.close`
sends the rest: the screened text after what was sent already (a refused image
redacted, the refusal note), the kept calls, the finish (``finish_reason`` as the
whole-reply path rewrites it). A client that accumulates the chunks ends with the reply
the whole-reply path returns (which keeps the whitespace a text began with when it takes
calls written in it out, as a stream sent it before the call could be seen).

A delta's ``logprobs`` (its tokens, their ``bytes`` and ``top_logprobs``) disclose its
text as the text itself does, so they go with it: live once all the text up to that
delta's end has gone (a delta of the model's reasoning or other unscreened fields, in
its turn), else held with it. Held logprobs — those of held text, of a call's deltas,
of a delta that shows none of the text they are for — are sent when the choice is
screened only if the guard passed it unaltered; a choice it changed loses them (its
whole reply has ``logprobs: null``: `completions`).

A chunk this cannot read, or text after a choice's finish, is a `StreamError`: the
caller ends the stream with an error event, never passing what it could not screen.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

_STARTS = re.compile(r"!\[|(?i:<img)(?=\W)|<tool_call>|<functioncall>")
"""Where the whole-reply screening may rewrite the text: an image (`rendered._IMAGE`
starts at ``![``, `rendered._IMG_TAG` at ``<img\\b``) or a call in the text."""
_OPENINGS = ("img", "tool_call>", "functioncall>")
"""What may follow a ``<`` at the end of the text so far (``img`` case-insensitively)."""
_LONGEST = max(map(len, _OPENINGS)) + 1


class StreamError(ValueError):
    """An upstream stream the relay cannot read on: the client gets an error event."""


def releasable(text: str, start: int) -> tuple[int, bool]:
    """How far ``text`` may be sent now, from ``start`` (what was sent already), and
    whether a construct that must be screened whole begins there (the rest of the choice
    is then held). ``start`` never lies inside a construct's opening: an opening cut
    at the end of the text (``!``, ``<im``) is held until the next text shows what it is.
    """
    found = _STARTS.search(text, start)
    end = found.start() if found is not None else _before_opening(text, start)
    while end > start and text[end - 1].isspace():
        end -= 1
    return end, found is not None


def _before_opening(text: str, start: int) -> int:
    """Where an opening cut off at the end of ``text`` begins (a ``!``, a ``<`` and part
    of what may follow it), else its end."""
    for at in range(max(start, len(text) - _LONGEST), len(text)):
        after = text[at + 1 :]
        if text[at] == "!" and not after:
            return at
        if text[at] == "<" and any(
            o.startswith(after.lower() if o == "img" else after) for o in _OPENINGS
        ):
            return at
    return len(text)


@dataclass
class ChoiceState:
    """One choice of the stream, as its deltas have built it so far."""

    index: int
    role: str | None = None
    parts: list[str] | None = None
    """The text so far, as it came (None until a content delta; joined once, at the
    end: a string grown by ``+=`` on an attribute is copied whole at each delta)."""
    listed: list[Any] | None = None
    """The content's parts, when it came as lists of parts (module docstring)."""
    sent: int = 0
    """How much of the text the client has."""
    pending: str = ""
    """The text after ``sent`` while it is not held (an opening cut at its end, or
    whitespace: a few characters)."""
    held: bool = False
    """A construct to screen whole began at ``sent``: the rest of the text waits."""
    received: int = 0
    """How much text came."""
    logprobs: deque[tuple[float, dict[str, Any]]] = field(default_factory=deque)
    """The deltas' logprobs not sent yet, in order, each with how much of the text must
    have gone before it may (``inf``: not before the screening; module docstring)."""
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    function_call: dict[str, Any] | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    """The delta's other fields (reasoning, refusal), accumulated for the screening."""
    finish: Any = None
    ending: dict[str, Any] = field(default_factory=dict)
    """The finishing choice's own fields (``stop_reason``), for the finish sent."""
    head: dict[str, Any] = field(default_factory=dict)
    finished: bool = False
    closed: bool = False

    @property
    def text(self) -> str | None:
        return None if self.parts is None else "".join(self.parts)

    def message(self) -> dict[str, Any]:
        """The message the deltas make: what the whole-reply path would have screened."""
        content = self.listed if self.listed is not None else self.text
        message: dict[str, Any] = {"role": self.role or "assistant", "content": content}
        message.update(self.fields)
        if self.calls:
            message["tool_calls"] = [self.calls[i] for i in sorted(self.calls)]
        if self.function_call is not None:
            message["function_call"] = self.function_call
        return message


class ChatStream:
    """The relay's state over one stream (module docstring); ``choices``: how many the
    request asked for (``n``), screened in index order; ``hold_all``: send no text
    before its choice is screened (a code agent's conversation)."""

    def __init__(self, choices: int = 1, *, hold_all: bool = False) -> None:
        self.expected = max(choices, 1)
        self.hold_all = hold_all
        self.choices: dict[int, ChoiceState] = {}

    def take(self, chunk: Any) -> list[dict[str, Any]]:
        """The chunks to send now for one upstream chunk. `StreamError` when it is no
        ``chat.completion.chunk`` (an upstream error event is the caller's to tell)."""
        if not isinstance(chunk, dict) or not isinstance(chunk.get("choices"), list):
            raise StreamError("a chunk without a 'choices' list")
        head = {k: v for k, v in chunk.items() if k != "choices"}
        sent = []
        for part in chunk["choices"]:
            out = self._choice(part, head)
            if out is not None:
                sent.append(out)
        if sent or not chunk["choices"]:  # a usage chunk has no choices
            return [{**head, "choices": sent}]
        return []

    def _choice(self, part: Any, head: dict[str, Any]) -> dict[str, Any] | None:
        index = part.get("index") if isinstance(part, dict) else None
        delta = part.get("delta", {}) if isinstance(part, dict) else None
        if type(index) is not int or index < 0 or not isinstance(delta, dict):
            raise StreamError("a choice without an integer 'index' and a 'delta' object")
        state = self.choices.setdefault(index, ChoiceState(index))
        if state.finished:
            raise StreamError(f"choice {index} went on after its finish")
        out: dict[str, Any] = {}
        for key, value in delta.items():
            if key == "content":
                continue
            if key == "tool_calls":
                _calls(state, value)
            elif key == "function_call":
                state.function_call = _merged(state.function_call or {}, value, "function_call")
            elif key == "role":
                state.role = value if isinstance(value, str) else state.role
                out[key] = value
            else:  # reasoning and the like: not screened, by either path
                state.fields[key] = _joined(state.fields.get(key), value)
                out[key] = value
        content = delta.get("content")
        if isinstance(content, list):
            _listed(state, content)
        elif content is not None and not isinstance(content, str):
            raise StreamError(f"choice {index}: 'content' is neither text nor a list of parts")
        elif content and state.listed is not None:
            raise StreamError(f"choice {index}: 'content' as text after a list of parts")
        elif isinstance(content, str) and state.listed is None:
            if state.parts is None:
                state.parts = []
            state.parts.append(content)
            state.received += len(content)
            released = self._release(state, content)
            if released or content == "":
                out["content"] = released
        _wait(state, part.get("logprobs"), delta, out)
        if part.get("finish_reason") is not None:
            state.finished, state.finish, state.head = True, part["finish_reason"], head
            ending = ("index", "delta", "finish_reason", "logprobs")
            state.ending = {k: v for k, v in part.items() if k not in ending}
        logprobs = _due(state)
        if not out and logprobs is None:
            return None
        return {"index": index, "delta": out, "logprobs": logprobs, "finish_reason": None}

    def _release(self, state: ChoiceState, content: str) -> str:
        """What of the text may go, now that ``content`` came (module docstring)."""
        if self.hold_all or state.held:
            return ""
        pending = state.pending + content
        end, state.held = releasable(pending, 0)
        state.sent += end
        state.pending = "" if state.held else pending[end:]
        return pending[:end]

    def due(self) -> list[ChoiceState]:
        """The finished choices whose turn to be screened has come: in index order, each
        after every choice before it (the whole-reply path's order of decisions)."""
        ready = []
        for index in sorted(self.choices):
            state = self.choices[index]
            if state.closed:
                continue
            missing = any(i not in self.choices for i in range(min(index, self.expected)))
            if not state.finished or missing:
                break
            ready.append(state)
        return ready

    def close(self, state: ChoiceState, screened: dict[str, Any]) -> list[dict[str, Any]]:
        """The chunks that end ``state``'s choice once its message was screened to
        ``screened`` (the choice as `screen_completion` returned it)."""
        message = screened.get("message") or {}
        content = message.get("content")
        given = (state.text or "")[: state.sent]
        deltas: list[dict[str, Any]] = []
        if isinstance(content, str):
            if not content.startswith(given):
                raise StreamError("the screened text does not go on from what was sent")
            if content[len(given) :]:
                deltas.append({"content": content[len(given) :]})
        elif given:
            raise StreamError("the screened reply lost the text already sent")
        elif isinstance(content, list) and content:  # the parts passed as they came
            deltas.append({"content": content})
        if message.get("tool_calls"):
            calls = [{"index": i, **call} for i, call in enumerate(message["tool_calls"])]
            deltas.append({"tool_calls": calls})
        if message.get("function_call") is not None:
            deltas.append({"function_call": message["function_call"]})
        state.closed = True
        unaltered = message == state.message() and screened.get("finish_reason") == state.finish
        held = _joined_logprobs(list(lp for _, lp in state.logprobs)) if unaltered else None
        state.logprobs.clear()
        choices = [{"index": state.index, "delta": d, "finish_reason": None} for d in deltas]
        finish = {"index": state.index, "delta": {}}
        finish.update(state.ending, finish_reason=screened.get("finish_reason"))
        choices.append(finish)
        for at, choice in enumerate(choices):  # the held logprobs go with the first
            choice["logprobs"] = held if at == 0 else None
        return [{**state.head, "choices": [choice]} for choice in choices]

    def unfinished(self) -> list[int]:
        """The choices not closed, at the end (an upstream that sent fewer choices than
        ``n`` asked is answered with those, as unstreamed; one that sent none, with 0)."""
        if not self.choices:
            return [0]
        return sorted(i for i, state in self.choices.items() if not state.closed)


def _wait(state: ChoiceState, logprobs: Any, delta: dict[str, Any], out: dict[str, Any]) -> None:
    """Queue a delta's ``logprobs`` behind the text they are for (module docstring): the
    text up to this delta's end when it carries text or fields sent unscreened, else
    the screening (a call's tokens, or tokens whose text the server held back)."""
    if logprobs is None:
        return
    if not isinstance(logprobs, dict):
        raise StreamError(f"choice {state.index}: 'logprobs' is not an object")
    calls = delta.get("tool_calls") is not None or delta.get("function_call") is not None
    text = delta.get("content")
    held = calls or isinstance(text, list)  # calls, and parts, go once screened
    shown = isinstance(text, str) and text or any(k not in ("role", "content") for k in out)
    state.logprobs.append((state.received if shown and not held else math.inf, logprobs))


def _due(state: ChoiceState) -> dict[str, Any] | None:
    """The queued logprobs whose text has all gone, joined; None when there are none."""
    due = []
    while state.logprobs and state.logprobs[0][0] <= state.sent:
        due.append(state.logprobs.popleft()[1])
    return _joined_logprobs(due)


def _joined_logprobs(given: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Several deltas' logprobs as one: their token lists (``content``, ``refusal``) in
    order, as the `openai` SDK joins them."""
    if len(given) <= 1:
        return given[0] if given else None
    joined: dict[str, Any] = {}
    for logprobs in given:
        for key, value in logprobs.items():
            before = joined.get(key)
            if isinstance(before, list) and isinstance(value, list):
                joined[key] = before + value
            elif value is not None or key not in joined:
                joined[key] = value
    return joined


def _listed(state: ChoiceState, parts: list[Any]) -> None:
    """Add a content delta given as a list of parts to ``state``'s, as the `openai` SDK
    joins them: a part with the ``index`` of one before it joined to it (strings
    appended), any other after them (module docstring)."""
    if state.received:
        raise StreamError(f"choice {state.index}: 'content' as a list of parts after text")
    listed = state.listed = state.listed if state.listed is not None else []
    for part in parts:
        at = part.get("index") if isinstance(part, dict) else None
        joined = (p for p in listed if isinstance(p, dict) and p.get("index") == at)
        before = next(joined, None) if type(at) is int else None
        if before is None:
            listed.append(dict(part) if isinstance(part, dict) else part)
        else:
            _merged(before, part, "content")


def _calls(state: ChoiceState, parts: Any) -> None:
    """Add tool-call deltas to ``state``'s calls, joined by ``index`` as the `openai`
    SDK joins them (strings appended, ``type`` set once)."""
    if parts is None:
        return
    if not isinstance(parts, list):
        raise StreamError(f"choice {state.index}: 'tool_calls' is not a list")
    for part in parts:
        at = part.get("index") if isinstance(part, dict) else None
        if type(at) is not int:
            raise StreamError(f"choice {state.index}: a tool-call delta without its 'index'")
        body = {k: v for k, v in part.items() if k != "index"}
        state.calls[at] = _merged(state.calls.get(at, {}), body, "tool_calls")


def _merged(into: dict[str, Any], part: Any, where: str) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise StreamError(f"a '{where}' delta that is not an object")
    for key, value in part.items():
        if key == "type" and key in into:
            continue
        if isinstance(value, dict):
            into[key] = _merged(dict(into.get(key) or {}), value, where)
        else:
            into[key] = _joined(into.get(key), value)
    return into


def _joined(before: Any, value: Any) -> Any:
    """A delta's field after ``value``: text appended to text, else the latest value."""
    if isinstance(before, str) and isinstance(value, str):
        return before + value
    return value if value is not None else before
