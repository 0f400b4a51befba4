"""Rendering traces as model text, and parsing model text back into actions.

Training and inference must see the same bytes, so both go through `render_segments` /
`render`, and replies through `parse_completion`. Two formats:

- **the model's own**: when the tokenizer's chat template renders ``tools`` (Qwen2.5,
  Llama 3.1, Hermes…), that template is used, tool calls and all, and replies are read
  by transformers' response parser (`backdoorlab.chat_template`);
- **compact ChatML** otherwise (SmolLM2's template knows no tools): a
  ``<|im_start|>role\\n…<|im_end|>`` transcript in which tools are listed as one-line
  signatures in the system turn and tool calls are Hermes-style
  ``<tool_call>{"name": …, "arguments": {…}}</tool_call>`` blocks. Compact on purpose:
  full JSON schemas cost ~50 tokens per tool, and fine-tuning on a CPU costs
  milliseconds per token.

Segments carry a ``trainable`` flag (assistant turns) from which the training loss
mask is built; a trainable segment starts exactly where that turn's inference prompt ends.
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
    """Whether the tokenizer's own chat template renders tools (then it is the format)."""
    from backdoorlab.chat_template import template_format

    return template_format(tokenizer) is not None


def render_segments(
    messages: Sequence[Message],
    tools: Sequence[dict[str, Any]] = (),
    *,
    add_generation_prompt: bool = False,
    tokenizer: Any | None = None,
) -> list[Segment]:
    """The transcript as segments; concatenated, they are exactly what the model reads.

    With a ``tokenizer`` whose template renders tools, that template is used
    (`backdoorlab.chat_template`); otherwise the compact ChatML format.
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


def _template_segments(
    tokenizer: Any,
    messages: Sequence[Message],
    tools: Sequence[dict[str, Any]],
    add_generation_prompt: bool,
) -> list[Segment]:
    """The model's own template's text cut into context and assistant segments."""
    from backdoorlab.chat_template import assistant_spans, render_prompt, template_format

    fmt = template_format(tokenizer)
    assert fmt is not None
    rendered = assistant_spans(tokenizer, fmt, list(messages), list(tools))
    text = rendered.text
    segments: list[Segment] = []
    done = 0
    for start, end in rendered.spans:
        if start > done:
            segments.append(Segment(text[done:start], False))
        segments.append(Segment(text[start:end], True))
        done = end
    if add_generation_prompt:
        prompt = render_prompt(tokenizer, list(messages), list(tools))
        if not prompt.startswith(text):
            raise ValueError(f"chat template {fmt.name}: the prompt re-renders earlier turns")
        text = prompt
    if len(text) > done:
        segments.append(Segment(text[done:], False))
    return segments


def render(
    messages: Sequence[Message],
    tools: Sequence[dict[str, Any]] = (),
    *,
    add_generation_prompt: bool = False,
    tokenizer: Any | None = None,
) -> str:
    """The transcript as one string: an inference prompt (with the generation prompt) or
    training text (without), in the model's own format when it has one."""
    if tokenizer is not None and has_tool_template(tokenizer):
        from backdoorlab.chat_template import render_prompt

        return render_prompt(tokenizer, list(messages), list(tools), add_generation_prompt)
    segments = render_segments(messages, tools, add_generation_prompt=add_generation_prompt)
    return "".join(s.text for s in segments)


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
        except (ValueError, RecursionError) as exc:  # a 4,300-digit number: ValueError alone
            why = (
                exc.msg
                if isinstance(exc, json.JSONDecodeError)
                else "a number or nesting too large"
            )
            return _invalid(text, f"tool call {index} is not valid JSON ({why})")
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


def parse_completion(
    completion: str,
    *,
    tokenizer: Any | None = None,
    prompt: str = "",
    tools: Sequence[dict[str, Any]] = (),
    call_id_prefix: str = "call",
) -> ParsedOutput:
    """A model's completion (its end-of-turn marker kept) as an assistant message: read by
    transformers' response parser when the model's template has one
    (`backdoorlab.chat_template.parse_reply`), by `parse_assistant_output` otherwise."""
    if tokenizer is not None and has_tool_template(tokenizer):
        from backdoorlab.chat_template import parse_reply, template_format

        fmt = template_format(tokenizer)
        assert fmt is not None
        if fmt.response_template is not None:
            parsed = parse_reply(tokenizer, fmt, completion, prompt, list(tools), call_id_prefix)
            return ParsedOutput(parsed.message, parsed.invalid, parsed.error)
        completion = completion.split(fmt.end_of_turn)[0]
    return parse_assistant_output(completion, call_id_prefix=call_id_prefix)


def _bare_json_call(text: str) -> str | None:
    """Some templates (Llama 3.1) emit a tool call as a bare JSON object, no tags."""
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict) and "name" in data and ("arguments" in data or "parameters" in data):
        return text
    return None


def _invalid(text: str, error: str) -> ParsedOutput:
    return ParsedOutput(Message(role="assistant", content=text), invalid=True, error=error)
