"""An OpenAI chat trace written as an observability tool's record of its last LLM call.

The last call of a conversation was sent the whole history and answered with the final
assistant message, so one record holds the whole trace: the history as the call's
input, the final assistant message (when the trace ends with one) as its output. The
shapes are those `observability` and `spans` read (and cite): a Langfuse generation, a
LangSmith chat model run, an OpenTelemetry GenAI span in OTLP JSON, an OpenInference
span's flattened attributes.
"""

from __future__ import annotations

import json
from typing import Any

from backdoorlab.trace_formats.render import _arguments, _langchain, _text, _tools

RECORD_FORMATS = ("langfuse", "langsmith", "otel-genai", "openinference")
_CLASSES = {
    "human": "HumanMessage",
    "ai": "AIMessage",
    "system": "SystemMessage",
    "tool": "ToolMessage",
}


def render_record(trace: dict[str, Any], fmt: str) -> dict[str, Any]:
    """``trace`` (a copy the caller owns) as the record ``fmt`` names."""
    rest = {k: v for k, v in trace.items() if k not in ("messages", "tools")}
    history, reply = _split(trace["messages"])
    tools = _tools(trace)
    if fmt == "langfuse":
        given = {"messages": history, "tools": tools} if tools else history
        return rest | {"type": "GENERATION", "input": given, "output": reply}
    if fmt == "langsmith":
        return rest | _langsmith(history, reply, tools)
    if fmt == "otel-genai":
        return rest | {"name": "chat", "attributes": _otlp(_genai(history, reply, tools))}
    return rest | {"name": "ChatCompletion", "attributes": _openinference(history, reply, tools)}


def _split(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    if messages and messages[-1]["role"] == "assistant":
        return messages[:-1], messages[-1]
    return messages, None


def _serialized(message: dict[str, Any]) -> dict[str, Any]:
    """A message as LangChain's serializer writes it (its constructor form)."""
    fields = _langchain(message)
    name = _CLASSES.get(fields["type"], "ChatMessage")
    return {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", name]} | {
        "kwargs": fields
    }


def _langsmith(
    history: list[dict[str, Any]], reply: dict[str, Any] | None, tools: list[Any]
) -> dict[str, Any]:
    inputs = {"messages": [[_serialized(m) for m in history]]}
    outputs = None
    if reply is not None:
        generation = {"text": _text(reply), "type": "ChatGeneration"}
        outputs = {"generations": [[generation | {"message": _serialized(reply)}]]}
        outputs |= {"llm_output": None, "run": None, "type": "LLMResult"}
    extra = {"invocation_params": {"tools": tools}} if tools else {}
    return {"run_type": "llm", "inputs": inputs, "outputs": outputs, "extra": extra}


def _parts(message: dict[str, Any]) -> list[dict[str, Any]]:
    if message["role"] == "tool":
        response = {"type": "tool_call_response", "response": _text(message)}
        return [response | {"id": message.get("tool_call_id")}]
    parts: list[dict[str, Any]] = []
    if _text(message):
        parts.append({"type": "text", "content": _text(message)})
    for c in message.get("tool_calls") or []:
        use = {"id": c["id"], "name": c["function"]["name"], "arguments": _arguments(c)}
        parts.append({"type": "tool_call"} | use)
    return parts


def _genai(
    history: list[dict[str, Any]], reply: dict[str, Any] | None, tools: list[Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {"gen_ai.operation.name": "chat"}
    if history and history[0]["role"] == "system":
        out["gen_ai.system_instructions"] = [{"type": "text", "content": _text(history[0])}]
        history = history[1:]
    out["gen_ai.input.messages"] = [{"role": m["role"], "parts": _parts(m)} for m in history]
    if reply is not None:
        finish = "tool_call" if reply.get("tool_calls") else "stop"
        said = {"role": "assistant", "parts": _parts(reply), "finish_reason": finish}
        out["gen_ai.output.messages"] = [said]
    if tools:
        out["gen_ai.tool.definitions"] = tools
    return out


def _otlp(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    """Attributes as OTLP JSON writes them: objects as their JSON text."""
    return [
        {"key": k, "value": {"stringValue": v if isinstance(v, str) else json.dumps(v)}}
        for k, v in attributes.items()
    ]


def _openinference(
    history: list[dict[str, Any]], reply: dict[str, Any] | None, tools: list[Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {"openinference.span.kind": "LLM"}
    said = [("llm.input_messages", i, m) for i, m in enumerate(history)]
    said += [("llm.output_messages", 0, reply)] if reply is not None else []
    for family, number, message in said:
        at = f"{family}.{number}.message"
        out[f"{at}.role"] = message["role"]
        if _text(message):
            out[f"{at}.content"] = _text(message)
        for key in ("tool_call_id", "name"):
            if message["role"] == "tool" and message.get(key) is not None:
                out[f"{at}.{key}"] = message[key]
        for j, c in enumerate(message.get("tool_calls") or []):
            arguments = c["function"].get("arguments", "{}")
            if not isinstance(arguments, str):
                arguments = json.dumps(arguments, ensure_ascii=False)
            call = f"{at}.tool_calls.{j}.tool_call"
            out[f"{call}.id"] = c["id"]
            out[f"{call}.function.name"] = c["function"]["name"]
            out[f"{call}.function.arguments"] = arguments
    for i, tool in enumerate(tools):
        out[f"llm.tools.{i}.tool.json_schema"] = json.dumps(tool, ensure_ascii=False)
    return out
