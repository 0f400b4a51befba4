"""LLM-call records exported from observability tools, read as chat traces.

Platform teams keep their agents' traces where their observability tool put them, one
record per LLM call. A call's record holds the whole history the model was sent and its
reply, so the last record of a conversation is the whole conversation. Each is read
into the messages it holds — in a format the other readers already read (OpenAI chat,
Anthropic blocks, LangChain messages, Responses items) — and handed to them:

- **Langfuse** observations (`the public API's Observation
  <https://github.com/langfuse/langfuse-python/blob/main/langfuse/api/commons/types/observation.py>`_:
  ``type`` — ``GENERATION``, ``SPAN``, ``AGENT``… —, ``traceId``, ``input``, ``output``;
  the blob storage export's rows, snake_case, whose ``input`` and ``output`` are "plain
  text or JSON" strings, see langfuse.com/docs/api-and-data-platform/features/
  blob-storage-export-fields). A generation's ``input`` is what the integration logged:
  for OpenAI (langfuse-python ``langfuse/openai.py``, ``_extract_chat_prompt``) the
  messages, or ``{"messages", "tools"}`` when tools were given; its ``output`` the
  reply (``_extract_chat_response``: ``{"role", "content", "tool_calls"}``; the text
  alone when streamed; a list of them for ``n > 1``); Responses items for the OpenAI
  Agents SDK;
- **LangSmith** runs (``run_type``, ``inputs``, ``outputs``): a chat model's LLM run has
  ``inputs.messages`` — a list of prompts, each a list of LangChain messages in the
  serializer's constructor form — and ``outputs.generations`` (a list per prompt of
  ``{"text", "type": "ChatGeneration", "message"}``, as LangChain's ``LLMResult`` and
  LangSmith's "filter for tool calls" docs show them); a ``wrap_openai`` run has the
  request's ``messages`` and the completion's ``choices``;
- **OpenTelemetry spans** — GenAI semantic conventions and OpenInference (Arize
  Phoenix) — are read by `spans`.

Why: an audit pointed at such an export refused every line ("no 'messages' field") or,
for a Langfuse generation, read its ``input`` as Responses items. A record whose type
says it is one of these is read as one; a Responses line (no top-level ``type``, no
``run_type``, no ``attributes``) reads exactly as before. A record that holds no chat
messages is refused naming the field: an empty trace would pass with no finding.
Findings name the record's own fields (``input.3``, ``output``,
``inputs.messages.0.4``, ``outputs.generations.0.0.message``), not the chat reading's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from backdoorlab.trace_formats import spans
from backdoorlab.trace_formats.parts import fail, kind_of, shown
from backdoorlab.trace_formats.recorded import kept, read_messages
from backdoorlab.trace_formats.responses import from_responses

LANGFUSE_TYPES = frozenset(
    {
        "GENERATION",
        "SPAN",
        "EVENT",
        "AGENT",
        "TOOL",
        "CHAIN",
        "RETRIEVER",
        "EVALUATOR",
        "EMBEDDING",
        "GUARDRAIL",
    }
)
"""Langfuse's observation types (its API's ``ObservationType``; lower case in its SDKs)."""
_RESPONSES_ITEM = re.compile(r"message|reasoning|item_reference|.*_call|.*_call_output")


def kind(data: dict[str, Any]) -> str | None:
    """Which tool's record ``data`` is (``langfuse``, ``langsmith``, ``span``), or None."""
    observation = data.get("type")
    if (
        isinstance(observation, str)
        and observation.upper() in LANGFUSE_TYPES
        and ("input" in data or "output" in data)
    ):
        return "langfuse"
    if "run_type" in data and ("inputs" in data or "outputs" in data):
        return "langsmith"
    if spans.is_span(data):
        return "span"
    return None


def from_record(data: dict[str, Any], where: str, origin: list[str]) -> dict[str, Any]:
    """``data`` (a record `kind` names) as a chat trace; ``origin`` gets each message's
    field in the record."""
    which = kind(data)
    if which == "langfuse":
        return _langfuse(data, where, origin)
    if which == "langsmith":
        return _langsmith(data, where, origin)
    return spans.from_span(data, where, origin)


def decoded(value: Any) -> Any:
    """``value``, or the JSON a string of it holds when that is a list or an object
    (Langfuse's blob export writes ``input`` and ``output`` as text)."""
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            return value
        if isinstance(parsed, list | dict):
            return parsed
    return value


def is_message(value: Any) -> bool:
    """A chat message of a format `from_messages` reads (a ``role``; LangChain's ``type``)."""
    return isinstance(value, dict) and ("role" in value or isinstance(value.get("type"), str))


def _langfuse(data: dict[str, Any], where: str, origin: list[str]) -> dict[str, Any]:
    given, said = decoded(data.get("input")), decoded(data.get("output"))
    if _responses_items(given) or _responses_items(said):
        items = {"input": given} | ({"output": said} if isinstance(said, list) else {})
        chat = from_responses(items, where, origin)  # its fields are the record's
        return kept(data, ("input", "output")) | {"messages": chat["messages"]}
    messages: list[Any] = []
    fields: list[str] = []
    inner: dict[str, Any] = {"messages": messages}
    if isinstance(given, str):
        messages.append({"role": "user", "content": given})
        fields.append("input")
    elif isinstance(given, list):
        messages += given
        fields += [f"input.{i}" for i in range(len(given))]
    elif isinstance(given, dict) and isinstance(given.get("messages"), list):
        messages += given["messages"]
        fields += [f"input.messages.{i}" for i in range(len(given["messages"]))]
        inner |= {k: given[k] for k in ("tools", "system") if given.get(k) is not None}
    elif is_message(given):
        messages.append(given)
        fields.append("input")
    elif given is not None:
        raise fail(
            where,
            "input",
            f"{shown(given)} holds no chat messages (export the LLM calls: GENERATION"
            " observations)",
        )
    _reply(said, "output", messages, fields, where)
    return read_messages(data, ("input", "output"), inner, fields, where, origin, "input.system")


def _reply(said: Any, field: str, messages: list[Any], fields: list[str], where: str) -> None:
    """A logged reply: the text, a message, a list of them or a completion's ``choices``."""
    if said is None:
        return
    if isinstance(said, str):
        messages.append({"role": "assistant", "content": said})
        fields.append(field)
    elif isinstance(said, dict) and isinstance(said.get("choices"), list):
        for number, choice in enumerate(said["choices"]):
            message = choice.get("message") if isinstance(choice, dict) else None
            if not is_message(message):
                raise fail(where, f"{field}.choices.{number}", "a choice without its message")
            messages.append(message)
            fields.append(f"{field}.choices.{number}.message")
    elif is_message(said):
        messages.append(said)
        fields.append(field)
    elif isinstance(said, list) and said and all(is_message(m) for m in said):
        messages += said
        fields += [f"{field}.{i}" for i in range(len(said))]
    elif isinstance(said, list) and all(kind_of(b) is not None for b in said):
        messages.append({"role": "assistant", "content": said})  # a reply's content blocks
        fields.append(field)
    else:
        raise fail(where, field, f"{shown(said)} is no reply (a text, a message or choices)")


def _responses_items(value: Any) -> bool:
    """Whether ``value`` is a list of OpenAI Responses items (the Agents SDK's)."""
    if not isinstance(value, list):
        return False
    kinds = [kind_of(item) for item in value]
    return any(k is not None and _RESPONSES_ITEM.fullmatch(k) for k in kinds) and not any(
        isinstance(item, dict) and kind_of(item) in ("human", "ai", "tool", "system")
        for item in value
    )


def _langsmith(data: dict[str, Any], where: str, origin: list[str]) -> dict[str, Any]:
    inputs, outputs = data.get("inputs"), data.get("outputs")
    if not isinstance(inputs, dict) or not isinstance(inputs.get("messages"), list):
        raise fail(
            where, "inputs", "holds no 'messages' (a chat model's LLM run does: export those runs)"
        )
    prompt, field = _one_prompt(inputs["messages"], "inputs.messages", where)
    messages = [_serialized(m) for m in prompt]
    fields = [f"{field}.{i}" for i in range(len(prompt))]
    inner: dict[str, Any] = {"messages": messages}
    tools = inputs.get("tools")
    extra = data.get("extra")
    params = extra.get("invocation_params") if isinstance(extra, dict) else None
    if tools is None and isinstance(params, dict):
        tools = params.get("tools")
    if tools is not None:
        inner["tools"] = tools
    if isinstance(outputs, dict) and isinstance(outputs.get("generations"), list):
        generations, at = _one_prompt(outputs["generations"], "outputs.generations", where)
        for number, generation in enumerate(generations):
            place = f"{at}.{number}"
            if isinstance(generation, dict) and is_message(generation.get("message")):
                messages.append(_serialized(generation["message"]))
                fields.append(f"{place}.message")
            elif isinstance(generation, dict) and isinstance(generation.get("text"), str):
                messages.append({"role": "assistant", "content": generation["text"]})
                fields.append(f"{place}.text")
            else:
                raise fail(where, place, "a generation with neither a message nor a text")
    elif outputs is not None:
        _reply(outputs, "outputs", messages, fields, where)
    return read_messages(data, ("inputs", "outputs"), inner, fields, where, origin)


def _one_prompt(values: list[Any], field: str, where: str) -> tuple[list[Any], str]:
    """The messages of a run's one prompt: LangChain batches them, a list per prompt."""
    if values and all(isinstance(v, list) for v in values):
        if len(values) != 1:
            raise fail(where, field, f"{len(values)} prompts in one run (one is read a line)")
        return values[0], f"{field}.0"
    return values, field


def _serialized(message: Any) -> Any:
    """A LangChain message in the serializer's form whose class is not named (LangSmith's
    docs show ``"id": []``): its fields, which name their ``type``."""
    if isinstance(message, dict) and message.get("type") == "constructor":
        kwargs = message.get("kwargs")
        named = isinstance(message.get("id"), list) and message["id"]
        if not named and isinstance(kwargs, dict) and isinstance(kwargs.get("type"), str):
            return kwargs
    return message
