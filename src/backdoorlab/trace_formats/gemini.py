"""Google's Gemini ``contents`` read as chat messages (the Gemini API and Vertex AI).

A logged request is ``contents`` — turns of ``{"role": "user" | "model", "parts": […]}``
— with a ``systemInstruction`` (itself a content of text parts), ``tools`` holding
``functionDeclarations``, and where the answer was logged with it, ``candidates`` whose
first ``content`` is the model's turn. The REST API writes camelCase keys, the Python
SDK's ``model_dump`` snake_case (``function_call``, ``system_instruction``); both are
read. Parts: ``text`` (with ``thought: true`` the model's own reasoning, shown to no one
and sent nowhere, so not read), ``functionCall`` (a call: ``name``, ``args``, an ``id``
on the Developer API), ``functionResponse`` (its result: ``response``, any JSON object
the caller chose, read as its JSON so every value in it is read; a lone ``result``
string as that text), the built-in code
execution's ``executableCode`` and ``codeExecutionResult`` (a call of a ``python`` tool
and its output, as code agents are read: `codeagent`), and media (``inlineData``,
``fileData``: no text). A result is paired with its call by ``id`` when both have one,
else with the oldest unanswered call of its name — the order Gemini answers in.

Why: Gemini keeps a tool's result in a *user* turn. Read as text alone, the result would
be the user's words, so a record a tool returned would count as given by the user and
an address an injected page printed as one the user named.
"""

from __future__ import annotations

from typing import Any

from backdoorlab.trace_formats.codeagent import TOOL as CODE_TOOL
from backdoorlab.trace_formats.parts import (
    Unanswered,
    call,
    fail,
    result_text,
    shown,
    tool_message,
)

KEYS = ("contents",)
"""A line holding one of these is a Gemini request (`backdoorlab.trace_formats.to_chat`)."""

_ROLES = {"user": "user", "model": "assistant", "function": "user", "tool": "user"}
"""Turn roles: older SDKs and some exports put results in a ``function`` or ``tool`` turn."""
_MEDIA = ("inlineData", "inline_data", "fileData", "file_data", "videoMetadata", "video_metadata")


def _get(obj: dict[str, Any], camel: str) -> Any:
    """``obj``'s field in REST camelCase or the Python SDK's snake_case."""
    if camel in obj:
        return obj[camel]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return obj.get(snake)


def from_gemini(data: dict[str, Any], where: str, origin: list[str]) -> dict[str, Any]:
    """``data`` (a Gemini request, with its logged ``candidates``) as a chat trace;
    ``origin`` gets each message's field (a turn's first part's, or the turn's)."""
    drop = ("contents", "candidates", "systemInstruction", "system_instruction", "tools")
    out = {k: v for k, v in data.items() if k not in drop}
    messages: list[dict[str, Any]] = []
    system = _get(data, "systemInstruction")
    if system is not None:
        messages.append({"role": "system", "content": _system_text(system, where)})
        origin.append("systemInstruction" if "systemInstruction" in data else "system_instruction")
    turns = data["contents"]
    if not isinstance(turns, list):
        raise fail(where, "contents", "not a list of turns")
    reader = _Reader(messages, where, origin)
    for number, turn in enumerate(turns):
        reader.turn(turn, f"contents.{number}")
    candidates = data.get("candidates")
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
        content = candidates[0].get("content")
        if content is not None:
            reader.turn(content, "candidates.0.content", default_role="model")
    out["messages"] = messages
    tools = data.get("tools")
    if tools is not None:
        out["tools"] = _declarations(tools, where)
    return out


def _system_text(system: Any, where: str) -> str:
    if isinstance(system, str):
        return system
    parts = system.get("parts") if isinstance(system, dict) else None
    if not isinstance(parts, list):
        raise fail(where, "systemInstruction", "neither a string nor a content of text parts")
    return "\n".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))


def _declarations(tools: Any, where: str) -> list[dict[str, Any]]:
    """``functionDeclarations`` as OpenAI tools; built-in tools (search, code execution)
    declare no function and are left out."""
    if not isinstance(tools, list):
        raise fail(where, "tools", "not a list")
    out = []
    for number, tool in enumerate(tools):
        declared = _get(tool, "functionDeclarations") if isinstance(tool, dict) else None
        if declared is None:
            continue
        if not isinstance(declared, list) or not all(isinstance(d, dict) for d in declared):
            raise fail(where, f"tools.{number}.functionDeclarations", "not a list of objects")
        for spec in declared:
            function = {k: v for k, v in spec.items() if k not in ("parametersJsonSchema",)}
            schema = _get(spec, "parametersJsonSchema")
            if schema is not None and "parameters" not in function:
                function["parameters"] = schema
            out.append({"type": "function", "function": function})
    return out


class _Reader:
    """Turns into messages: a model turn's text and calls make one assistant message, a
    result ends it; a user turn's text one user message, each result a ``tool`` one."""

    def __init__(self, messages: list[dict[str, Any]], where: str, origin: list[str]) -> None:
        self.messages = messages
        self.where = where
        self.origin = origin
        self.unanswered = Unanswered()
        self.code_calls: list[str] = []

    def turn(self, turn: Any, field: str, default_role: str = "user") -> None:
        if not isinstance(turn, dict):
            raise fail(self.where, field, "not a turn object with role and parts")
        role = turn.get("role", default_role)
        if not isinstance(role, str) or role not in _ROLES:
            raise fail(self.where, f"{field}.role", f"role {shown(role)} is not read (user, model)")
        parts = turn.get("parts")
        if isinstance(parts, dict):
            parts = [parts]
        if not isinstance(parts, list):
            raise fail(self.where, f"{field}.parts", "not a list of parts")
        said = _Said(_ROLES[role])
        for number, part in enumerate(parts):
            at = f"{field}.parts.{number}"
            if not isinstance(part, dict):
                raise fail(self.where, at, "not a part object")
            if not said.opened:
                said.opened = at
            self._part(part, at, said)
        self._flush(said, field)

    def _part(self, part: dict[str, Any], at: str, said: _Said) -> None:
        function_call = _get(part, "functionCall")
        response = _get(part, "functionResponse")
        code = _get(part, "executableCode")
        outcome = _get(part, "codeExecutionResult")
        if function_call is not None:
            if not isinstance(function_call, dict) or not isinstance(
                function_call.get("name"), str
            ):
                raise fail(self.where, f"{at}.functionCall", "not an object with a name")
            name = function_call["name"]
            call_id = str(function_call.get("id") or f"call_{len(self.messages)}_{len(said.calls)}")
            said.calls.append(call(call_id, name, function_call.get("args") or {}))
            self.unanswered.add(call_id, name)
        elif code is not None:
            source = code.get("code") if isinstance(code, dict) else None
            if not isinstance(source, str):
                raise fail(self.where, f"{at}.executableCode", "not an object with its code")
            call_id = f"call_{len(self.messages)}_{len(said.calls)}"
            said.calls.append(call(call_id, CODE_TOOL, {"code": source}))
            self.code_calls.append(call_id)
        elif response is not None or outcome is not None:
            self._flush(said, at)
            self._result(response, outcome, at)
        elif "text" in part:
            if not part.get("thought"):
                said.texts.append(str(part["text"]))
        elif not any(key in part for key in _MEDIA) and not _only_metadata(part):
            raise fail(
                self.where,
                at,
                f"part {shown(sorted(part))} is not read (text, functionCall, functionResponse,"
                " executableCode, codeExecutionResult and media are)",
            )

    def _result(self, response: Any, outcome: Any, at: str) -> None:
        if outcome is not None:
            if not isinstance(outcome, dict):
                raise fail(self.where, f"{at}.codeExecutionResult", "not an object")
            call_id = self.code_calls.pop(0) if self.code_calls else None
            text = str(outcome.get("output", ""))
            self.messages.append(tool_message(call_id, CODE_TOOL, text))
            self.origin.append(at)
            return
        if not isinstance(response, dict) or not isinstance(response.get("name"), str):
            raise fail(self.where, f"{at}.functionResponse", "not an object with a name")
        name = response["name"]
        given = response.get("id")
        call_id = self._answered(None if given is None else str(given), name)
        text = _response_text(response.get("response"))
        extra = response.get("parts")
        if isinstance(extra, list) and extra:
            text = "\n".join([text, result_text(extra)]) if text else result_text(extra)
        self.messages.append(tool_message(call_id, name, text))
        self.origin.append(at)

    def _answered(self, given: str | None, name: str) -> str | None:
        """The call a result answers: the one with its id, else the oldest of its name."""
        if given is not None:
            return self.unanswered.take(given) or given
        return self.unanswered.take(name=name, oldest=False)

    def _flush(self, said: _Said, field: str) -> None:
        if said.texts or said.calls:
            message: dict[str, Any] = {"role": said.role, "content": "".join(said.texts)}
            if said.calls:
                if said.role != "assistant":
                    raise fail(self.where, said.opened or field, "a call in a user turn")
                message["tool_calls"] = list(said.calls)
            self.messages.append(message)
            self.origin.append(said.opened or field)
        said.texts.clear()
        said.calls.clear()
        said.opened = None


class _Said:
    """What a turn has said since its last result: text, calls, the part it began at."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.texts: list[str] = []
        self.calls: list[dict[str, Any]] = []
        self.opened: str | None = None


def _only_metadata(part: dict[str, Any]) -> bool:
    """A part with nothing but signatures and flags (``thoughtSignature``, ``thought``)."""
    return all(k in ("thought", "thoughtSignature", "thought_signature") for k in part)


def _response_text(response: Any) -> str:
    """A function's ``response`` as text: an object's JSON, but a lone ``result``,
    ``output`` or ``content`` string — how the Agent Development Kit and most callers wrap
    a function that returned text — that text itself (its JSON would escape the quotes
    in it, and the values in a JSON text would be read as one string)."""
    if isinstance(response, dict) and len(response) == 1:
        ((key, value),) = response.items()
        if key in ("result", "output", "content") and isinstance(value, str):
            return value
    return result_text(response)
