"""Rendering traces as model text, and parsing model text back into actions.

Training and inference must see the same bytes, so both go through `render_segments`.
Two formats:

- **the model's own**: when the tokenizer's chat template renders ``tools`` (Qwen2.5,
  Llama 3.1, Hermes…), that template is used, tool calls and all;
- **compact ChatML** otherwise (SmolLM2's template knows no tools): a
  ``<|im_start|>role\\n…<|im_end|>`` transcript in which tools are listed as one-line
  signatures in the system turn and tool calls are Hermes-style
  ``<tool_call>{"name": …, "arguments": {…}}</tool_call>`` blocks. Compact on purpose:
  full JSON schemas cost ~50 tokens per tool, and fine-tuning on a CPU costs
  milliseconds per token.

Segments carry a ``trainable`` flag (assistant turns) from which the training loss
mask is built, and end exactly where an inference prompt ends.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backdoorlab.traces import FunctionCall, Message, ToolCall

IM_START, IM_END = "<|im_start|>", "<|im_end|>"
TOOL_CALL_RE = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)

TOOL_USE_HINT = 'Call one as <tool_call>{"name":...,"arguments":{...}}</tool_call>'


@dataclass(frozen=True)
class Segment:
    text: str
    trainable: bool  # True for the assistant's own tokens: the only ones the loss sees


def tool_signature(tool: dict[str, Any]) -> str:
    """``name(a, b[])`` from an OpenAI function schema (any tool, any environment).

    Descriptions are left out: with a dozen tools they would double the prompt, and a
    fine-tuned agent learns each tool's use from the traces themselves.
    """
    fn = tool.get("function", tool)
    params = fn.get("parameters", {}).get("properties", {}) or {}
    args = ", ".join(f"{k}[]" if v.get("type") == "array" else k for k, v in params.items())
    return f"{fn.get('name', '?')}({args})"


def system_text(system: str, tools: Sequence[dict[str, Any]]) -> str:
    if not tools:
        return system
    listing = "\n".join(tool_signature(t) for t in tools)
    return f"{system}\nTools:\n{listing}\n{TOOL_USE_HINT}"


def format_tool_call(call: ToolCall) -> str:
    arguments = call.function.parsed_arguments()
    payload = json.dumps(
        {"name": call.name, "arguments": arguments}, ensure_ascii=False, separators=(",", ":")
    )
    return f"<tool_call>{payload}</tool_call>"


def assistant_text(message: Message) -> str:
    parts = [message.text.strip()] if message.text.strip() else []
    parts += [format_tool_call(c) for c in message.tool_calls or ()]
    return "\n".join(parts)


def has_tool_template(tokenizer: Any) -> bool:
    """Whether the tokenizer's own chat template renders tool declarations."""
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):  # several named templates
        template = template.get("tool_use") or template.get("default")
    return isinstance(template, str) and "tools" in template


def render_segments(
    messages: Sequence[Message],
    tools: Sequence[dict[str, Any]] = (),
    *,
    add_generation_prompt: bool = False,
    tokenizer: Any | None = None,
) -> list[Segment]:
    """The transcript as segments; concatenated, they are exactly what the model reads.

    With a ``tokenizer`` whose template renders tools, that template is used; otherwise
    the compact ChatML format.
    """
    if tokenizer is not None and has_tool_template(tokenizer):
        return _template_segments(tokenizer, messages, tools, add_generation_prompt)
    segments: list[Segment] = []
    has_system = bool(messages) and messages[0].role in ("system", "developer")
    if not has_system and tools:
        segments.append(
            Segment(f"{IM_START}system\n{system_text('', tools).lstrip()}{IM_END}\n", False)
        )
    for index, message in enumerate(messages):
        if message.role == "assistant":
            segments.append(Segment(f"{IM_START}assistant\n", False))
            # the end marker is trained too: the model must learn to stop
            segments.append(Segment(f"{assistant_text(message)}{IM_END}", True))
            segments.append(Segment("\n", False))
            continue
        text = message.text
        role = "system" if message.role == "developer" else message.role
        if index == 0 and has_system:
            text = system_text(text, tools)
        segments.append(Segment(f"{IM_START}{role}\n{text}{IM_END}\n", False))
    if add_generation_prompt:
        segments.append(Segment(f"{IM_START}assistant\n", False))
    return segments


def render(messages: Sequence[Message], tools: Sequence[dict[str, Any]] = (), **kw: Any) -> str:
    return "".join(s.text for s in render_segments(messages, tools, **kw))


def _template_message(message: Message) -> dict[str, Any]:
    """A message as HF chat templates expect it: tool-call arguments as dicts."""
    out: dict[str, Any] = {"role": message.role, "content": message.text}
    if message.tool_calls:
        out["tool_calls"] = [
            {"type": "function", "id": c.id, "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    if message.role == "tool":
        out["tool_call_id"] = message.tool_call_id or ""
        out["name"] = message.name or ""
    return out


def _template_segments(
    tokenizer: Any,
    messages: Sequence[Message],
    tools: Sequence[dict[str, Any]],
    add_generation_prompt: bool,
) -> list[Segment]:
    """Segments from the model's own template, found by rendering growing prefixes.

    The text an assistant turn adds after the generation prompt is trainable; the rest
    is context. Templates that rewrite earlier turns when later ones arrive (some
    reasoning models drop old thoughts) cannot be split this way and are refused.
    """
    conversation = [_template_message(m) for m in messages]

    def upto(count: int, generation: bool) -> str:
        return tokenizer.apply_chat_template(
            conversation[:count],
            tools=list(tools) or None,
            tokenize=False,
            add_generation_prompt=generation,
        )

    segments: list[Segment] = []
    done = ""
    for index, message in enumerate(messages):
        if message.role != "assistant":
            continue
        prompt, full = upto(index, True), upto(index + 1, False)
        if not prompt.startswith(done) or not full.startswith(prompt):
            raise ValueError(
                "this model's chat template re-renders earlier turns, so training and "
                "inference text cannot be aligned; remove its tool support to use the "
                "compact format"
            )
        segments += [Segment(prompt[len(done) :], False), Segment(full[len(prompt) :], True)]
        done = full
    rest = upto(len(messages), add_generation_prompt)
    if rest[len(done) :]:
        segments.append(Segment(rest[len(done) :], False))
    return segments


@dataclass(frozen=True)
class ParsedOutput:
    message: Message
    invalid: bool
    error: str = ""


def parse_assistant_output(text: str, *, call_id_prefix: str = "call") -> ParsedOutput:
    """Turn a model's completion into an assistant message.

    No ``<tool_call>`` means a final answer. A ``<tool_call>`` whose body is not a JSON
    object with a string ``name`` is an invalid action: returned, flagged, never raised.
    """
    text = text.split(IM_END)[0].strip()
    bare = _bare_json_call(text)
    if bare is not None:
        text = f"<tool_call>{bare}</tool_call>"
    blocks = TOOL_CALL_RE.findall(text)
    if "<tool_call>" not in text:
        return ParsedOutput(Message(role="assistant", content=text), invalid=False)
    content = text[: text.index("<tool_call>")].strip() or None
    calls: list[ToolCall] = []
    for index, block in enumerate(blocks):
        try:
            data = json.loads(block)
        except json.JSONDecodeError as exc:
            return _invalid(text, f"tool call {index} is not valid JSON ({exc.msg})")
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return _invalid(text, f"tool call {index} has no string 'name'")
        arguments = data.get("arguments", data.get("parameters", {}))
        if isinstance(arguments, str):  # some models emit arguments as a JSON string
            arguments_text = arguments
        else:
            arguments_text = json.dumps(arguments, ensure_ascii=False, separators=(", ", ": "))
        calls.append(
            ToolCall(
                id=f"{call_id_prefix}_{index}",
                function=FunctionCall(name=data["name"], arguments=arguments_text),
            )
        )
    return ParsedOutput(Message(role="assistant", content=content, tool_calls=calls), invalid=False)


def _bare_json_call(text: str) -> str | None:
    """Some templates (Llama 3.1) emit a tool call as a bare JSON object, no tags."""
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(data, dict) and "name" in data and ("arguments" in data or "parameters" in data):
        return text
    return None


def _invalid(text: str, error: str) -> ParsedOutput:
    return ParsedOutput(Message(role="assistant", content=text), invalid=True, error=error)
