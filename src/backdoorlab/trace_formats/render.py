"""An OpenAI chat trace written in another agent log format (`FORMATS`).

For tests and benchmarks that check each format reads back to the trace it came from
(`to_chat` of ``render(trace, fmt)`` has the same messages, but for content parts joined
into text), and for a team that wants to see what this reader expects of its logs.
"""

from __future__ import annotations

import copy
import json
from typing import Any

FORMATS = (
    "openai",
    "anthropic",
    "responses",
    "sharegpt",
    "raw-tool-call",
    "gemini",
    "converse",
    "langchain",
    "vercel-model",
    "vercel-ui",
    "chat-template",
    "langfuse",
    "langsmith",
    "otel-genai",
    "openinference",
)
"""``openai`` as is; ``anthropic`` Messages with blocks; ``responses`` items; ``sharegpt``
Hermes-style turns; ``raw-tool-call`` OpenAI chat with each call left in the model's
text as ``<tool_call>`` (a server without a tool parser); ``gemini`` ``contents`` of
parts; ``converse`` Bedrock's untyped blocks; ``langchain`` LangChain's own messages;
``vercel-model`` the AI SDK's ModelMessages, ``vercel-ui`` its UIMessages (a turn's calls
and results as tool parts); ``chat-template`` transformers' tool-use format (no call ids,
results naming their tool); ``langfuse``, ``langsmith``, ``otel-genai`` (OTLP JSON) and
``openinference``: an observability tool's record of the last LLM call, which holds
the whole conversation (`render_records`)."""


def render(trace: dict[str, Any], fmt: str) -> dict[str, Any]:
    """``trace`` (OpenAI chat format, a `Trace`'s JSON object) written as ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    trace = copy.deepcopy(trace)  # what is written shares nothing with the caller's
    if fmt == "openai":
        return trace
    if fmt in ("langfuse", "langsmith", "otel-genai", "openinference"):
        from backdoorlab.trace_formats.render_records import render_record  # it uses ours

        return render_record(trace, fmt)
    rest = {k: v for k, v in trace.items() if k not in ("messages", "tools")}
    messages = trace["messages"]
    if fmt == "anthropic":
        return rest | _anthropic(messages) | {"tools": _flat_tools(trace, "input_schema")}
    if fmt == "responses":
        return rest | _responses(messages) | {"tools": _flat_tools(trace, "parameters")}
    if fmt == "sharegpt":
        return rest | {"conversations": _sharegpt(messages), "tools": json.dumps(_tools(trace))}
    if fmt == "gemini":
        return rest | _gemini(messages) | {"tools": [{"functionDeclarations": _specs(trace)}]}
    if fmt == "converse":
        specs = [{"toolSpec": _converse_spec(spec)} for spec in _specs(trace)]
        return rest | _converse(_anthropic(messages)) | {"toolConfig": {"tools": specs}}
    if fmt == "langchain":
        return rest | {"messages": [_langchain(m) for m in messages], "tools": _tools(trace)}
    if fmt == "vercel-model":
        return rest | {"messages": [_vercel_model(m) for m in messages], "tools": _tools(trace)}
    if fmt == "vercel-ui":
        return rest | {"messages": _vercel_ui(messages), "tools": _tools(trace)}
    if fmt == "chat-template":
        return rest | {"messages": [_without_ids(m) for m in messages], "tools": _tools(trace)}
    raw = [_raw_calls(m) for m in messages]
    return rest | {"messages": raw, "tools": _tools(trace)}


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content or ""


def _arguments(tool_call: dict[str, Any]) -> Any:
    arguments = tool_call["function"].get("arguments", "{}")
    if isinstance(arguments, str):
        try:
            parsed = json.loads(arguments)
        except (ValueError, RecursionError):  # too long a number, too deep
            return arguments
        return parsed if isinstance(parsed, dict) else arguments
    return arguments


def _tools(trace: dict[str, Any]) -> list[Any]:
    return list(trace.get("tools") or [])


def _flat_tools(trace: dict[str, Any], schema_key: str) -> list[Any]:
    out = []
    for tool in _tools(trace):
        spec = dict(tool.get("function", {})) if isinstance(tool, dict) else {}
        if "parameters" in spec:
            spec[schema_key] = spec.pop("parameters")
        out.append({"type": "function", **spec} if schema_key == "parameters" else spec)
    return out


def _anthropic(messages: list[dict[str, Any]]) -> dict[str, Any]:
    system = "\n".join(_text(m) for m in messages if m["role"] == "system")
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message["role"]
        if role == "system":
            continue
        if role == "tool":
            block = {"type": "tool_result", "content": _text(message)}
            if message.get("tool_call_id") is not None:
                block["tool_use_id"] = message["tool_call_id"]
            if (
                out
                and out[-1]["role"] == "user"
                and out[-1]["content"][-1]["type"] == "tool_result"
            ):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
            continue
        blocks: list[dict[str, Any]] = []
        if _text(message):
            blocks.append({"type": "text", "text": _text(message)})
        for tool_call in message.get("tool_calls") or []:
            name = tool_call["function"]["name"]
            use = {"id": tool_call["id"], "name": name, "input": _arguments(tool_call)}
            blocks.append({"type": "tool_use", **use})
        out.append({"role": "user" if role == "developer" else role, "content": blocks})
    return ({"system": system} if system else {}) | {"messages": out}


def _responses(messages: list[dict[str, Any]]) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    instructions = None
    for number, message in enumerate(messages):
        role = message["role"]
        if role == "system" and number == 0:
            instructions = _text(message)
        elif role == "tool":
            call_id = message.get("tool_call_id")
            items.append(
                {"type": "function_call_output", "call_id": call_id, "output": _text(message)}
            )
        else:
            if _text(message) or not message.get("tool_calls"):
                part = "output_text" if role == "assistant" else "input_text"
                content = [{"type": part, "text": _text(message)}]
                items.append({"type": "message", "role": role, "content": content})
            for tool_call in message.get("tool_calls") or []:
                arguments = tool_call["function"].get("arguments", "{}")
                if not isinstance(arguments, str):
                    arguments = json.dumps(arguments, ensure_ascii=False)
                items.append(
                    {
                        "type": "function_call",
                        "call_id": tool_call["id"],
                        "name": tool_call["function"]["name"],
                        "arguments": arguments,
                    }
                )
    return ({"instructions": instructions} if instructions is not None else {}) | {"input": items}


def _tagged_calls(message: dict[str, Any]) -> str:
    tags = []
    for tool_call in message.get("tool_calls") or []:
        body = {"name": tool_call["function"]["name"], "arguments": _arguments(tool_call)}
        tags.append("<tool_call>\n" + json.dumps(body, ensure_ascii=False) + "\n</tool_call>")
    return "\n".join(tags)


def _sharegpt(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    speakers = {"system": "system", "developer": "system", "user": "human", "assistant": "gpt"}
    turns: list[dict[str, str]] = []
    for message in messages:
        role = message["role"]
        if role == "tool":
            body = json.dumps({"name": message.get("name"), "content": _text(message)})
            block = f"<tool_response>\n{body}\n</tool_response>"
            if turns and turns[-1]["from"] == "tool":
                turns[-1]["value"] += "\n" + block
            else:
                turns.append({"from": "tool", "value": block})
            continue
        value = _text(message)
        calls = _tagged_calls(message)
        value = f"{value}\n{calls}" if value and calls else value or calls
        turns.append({"from": speakers[role], "value": value})
    return turns


def _raw_calls(message: dict[str, Any]) -> dict[str, Any]:
    if message["role"] != "assistant" or not message.get("tool_calls"):
        return message
    rest = {k: v for k, v in message.items() if k != "tool_calls"}
    text = _text(message)
    calls = _tagged_calls(message)
    return rest | {"content": f"{text}\n{calls}" if text else calls}


def _specs(trace: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(t.get("function", {})) for t in _tools(trace) if isinstance(t, dict)]


def _gemini(messages: list[dict[str, Any]]) -> dict[str, Any]:
    system = "\n".join(_text(m) for m in messages if m["role"] == "system")
    turns: list[dict[str, Any]] = []
    names = {c["id"]: c["function"]["name"] for m in messages for c in m.get("tool_calls") or []}
    for message in messages:
        role = message["role"]
        if role == "system":
            continue
        if role == "tool":
            name = message.get("name") or names.get(message.get("tool_call_id"), "tool")
            answer = {"name": name, "response": _response(_text(message))}
            part = {"functionResponse": answer}
            if (
                turns
                and turns[-1]["role"] == "user"
                and "functionResponse" in turns[-1]["parts"][-1]
            ):
                turns[-1]["parts"].append(part)
            else:
                turns.append({"role": "user", "parts": [part]})
            continue
        parts: list[dict[str, Any]] = [{"text": _text(message)}] if _text(message) else []
        for tool_call in message.get("tool_calls") or []:
            use = {"name": tool_call["function"]["name"], "args": _arguments(tool_call)}
            parts.append({"functionCall": use})
        turns.append({"role": "model" if role == "assistant" else "user", "parts": parts})
    head = {"systemInstruction": {"parts": [{"text": system}]}} if system else {}
    return head | {"contents": turns}


def _response(text: str) -> dict[str, Any]:
    """A tool's text as a Gemini function's ``response``: its object when it is one."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # too long a number, too deep
        value = None
    return value if isinstance(value, dict) else {"result": text}


def _converse(anthropic: dict[str, Any]) -> dict[str, Any]:
    """Anthropic's typed blocks as Converse's one-key blocks (the same kinds)."""
    out = []
    for message in anthropic["messages"]:
        blocks = []
        for block in message["content"]:
            if block["type"] == "text":
                blocks.append({"text": block["text"]})
            elif block["type"] == "tool_use":
                use = {"toolUseId": block["id"], "name": block["name"], "input": block["input"]}
                blocks.append({"toolUse": use})
            else:
                result = {"content": [{"text": block["content"]}]}
                if "tool_use_id" in block:
                    result["toolUseId"] = block["tool_use_id"]
                blocks.append({"toolResult": result})
        out.append({"role": message["role"], "content": blocks})
    system = anthropic.get("system")
    return ({"system": [{"text": system}]} if system else {}) | {"messages": out}


def _converse_spec(spec: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in spec.items() if k != "parameters"}
    return out | {"inputSchema": {"json": spec.get("parameters", {})}}


def _langchain(message: dict[str, Any]) -> dict[str, Any]:
    kinds = {"system": "system", "developer": "system", "user": "human", "assistant": "ai"}
    role = message["role"]
    out: dict[str, Any] = {"type": kinds.get(role, role), "content": _text(message)}
    calls = message.get("tool_calls") or []
    if calls:
        out["tool_calls"] = [
            {
                "name": c["function"]["name"],
                "args": _arguments(c),
                "id": c["id"],
                "type": "tool_call",
            }
            for c in calls
        ]
    for key in ("tool_call_id", "name"):
        if role == "tool" and message.get(key) is not None:
            out[key] = message[key]
    return out


def _vercel_model(message: dict[str, Any]) -> dict[str, Any]:
    role = message["role"]
    if role == "tool":
        result = {"type": "tool-result", "toolCallId": message.get("tool_call_id")}
        result |= {
            "toolName": message.get("name"),
            "output": {"type": "text", "value": _text(message)},
        }
        return {"role": "tool", "content": [result]}
    if role != "assistant" or not message.get("tool_calls"):
        return {"role": role, "content": _text(message)}
    parts: list[dict[str, Any]] = (
        [{"type": "text", "text": _text(message)}] if _text(message) else []
    )
    for c in message["tool_calls"]:
        use = {"toolCallId": c["id"], "toolName": c["function"]["name"], "input": _arguments(c)}
        parts.append({"type": "tool-call", **use})
    return {"role": "assistant", "content": parts}


def _vercel_ui(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A turn's assistant messages and tool results as one UIMessage of parts."""
    out: list[dict[str, Any]] = []
    pending: dict[str, dict[str, Any]] = {}  # a call's part, waiting for its output
    for message in messages:
        role = message["role"]
        if role == "tool":
            part = pending.pop(message.get("tool_call_id"), None)
            if part is not None:
                part["state"] = "output-available"
                part["output"] = _text(message)
            continue
        if role != "assistant" or not out or out[-1]["role"] != "assistant":
            out.append({"id": f"m{len(out)}", "role": role, "parts": []})
        parts = out[-1]["parts"]
        if role == "assistant":
            parts.append({"type": "step-start"})
        if _text(message):
            parts.append({"type": "text", "text": _text(message)})
        for c in message.get("tool_calls") or []:
            part = {"type": f"tool-{c['function']['name']}", "toolCallId": c["id"]}
            part |= {"state": "input-available", "input": _arguments(c)}
            parts.append(part)
            pending[c["id"]] = part
    return out


def _without_ids(message: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in message.items() if k not in ("tool_calls", "tool_call_id")}
    if message.get("tool_calls"):
        out["tool_calls"] = [
            {
                "type": "function",
                "function": {"name": c["function"]["name"], "arguments": _arguments(c)},
            }
            for c in message["tool_calls"]
        ]
    return out
