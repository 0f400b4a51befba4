"""The model's own chat format: rendering with its chat template, and reading its replies.

A tokenizer whose chat template renders tools (Qwen2.5, Llama 3.1/3.2, Hermes, Mistral…)
is trained, run and parsed in that format; `backdoorlab.chat` falls back to a compact
ChatML format for templates that know no tools (SmolLM2). Whether a template renders
tools is decided by rendering a probe conversation (`renders_tools`), not by reading it.

Training text is ``apply_chat_template(messages, tools=schemas)`` with tool-call arguments
as objects, as every HF template expects. The assistant's tokens (the loss mask) come from
TRL's training copy of the template with ``{% generation %}`` markers where TRL ships one
(Qwen2.5, Qwen3, Llama 3…), otherwise from a prefix-diff: render the conversation up to an
assistant turn with the generation prompt; the turn is what the full render adds after it.
Either way each turn's span is checked against that inference prompt, because the model
must be trained on exactly the text it will continue at inference.

Replies are parsed by transformers' ``parse_response`` with the tokenizer's own
``response_template`` or the one TRL's ``add_response_schema`` knows for the template;
`backdoorlab.chat.parse_assistant_output` only where neither exists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from backdoorlab.errors import BackdoorlabError
from backdoorlab.traces import Message, ToolCall, template_message

_NAME, _ARG, _VALUE, _RESULT = "probe_fn_7c1e", "probe_arg_b42d", "probe_val_93aa", "probe_out_d01f"
_PROBE_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": _NAME,
            "description": "probe",
            "parameters": {"type": "object", "properties": {_ARG: {"type": "string"}}},
        },
    }
]
_REPLY = "probe_reply_5e7b"


class ChatFormatError(BackdoorlabError):
    """Training text and inference prompts of a chat template do not line up."""


@dataclass(frozen=True)
class TemplateFormat:
    """What backdoorlab knows about one tokenizer's chat template."""

    name: str
    """How errors name the template: TRL's name for a template it ships, else the model's."""
    end_of_turn: str
    """The text that closes an assistant turn (``<|im_end|>``, ``<|eot_id|>``): a stop string."""
    training_template: str | None
    """TRL's copy with ``{% generation %}`` markers, when it ships one."""
    response_template: dict[str, Any] | None
    """A transformers response template for ``parse_response``, when one is known."""


def template_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Messages as HF chat templates expect them (`backdoorlab.traces.template_message`)."""
    return [template_message(m) for m in messages]


def _template_text(tokenizer: Any) -> str | None:
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):  # named variants: the tool one is what tools= selects
        template = template.get("tool_use") or template.get("default")
    return template if isinstance(template, str) else None


def _key(tokenizer: Any) -> tuple[str | None, ...]:
    return (_template_text(tokenizer), tokenizer.bos_token, tokenizer.eos_token)


_FORMATS: dict[tuple[str | None, ...], TemplateFormat | None] = {}


def template_format(tokenizer: Any) -> TemplateFormat | None:
    """The template format of ``tokenizer``, or None when its template renders no tools
    (the compact format then). Computed once per template."""
    key = _key(tokenizer)
    if key not in _FORMATS:
        _FORMATS[key] = _inspect(tokenizer) if key[0] is not None else None
    return _FORMATS[key]


def renders_tools(tokenizer: Any) -> bool:
    """Whether the template shows the tools' schemas and renders tool calls and results:
    a probe conversation with ``tools=`` must come out with all of them."""
    conversation = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "type": "function",
                    "id": "probe0001",  # Mistral's templates want nine alphanumerics
                    "function": {"name": _NAME, "arguments": {_ARG: _VALUE}},
                }
            ],
        },
        {"role": "tool", "name": _NAME, "tool_call_id": "probe0001", "content": _RESULT},
    ]
    try:
        declared = tokenizer.apply_chat_template(
            conversation[:1], tools=_PROBE_TOOLS, tokenize=False, add_generation_prompt=True
        )
        used = tokenizer.apply_chat_template(conversation, tools=_PROBE_TOOLS, tokenize=False)
    except Exception:  # noqa: BLE001 - a template that cannot render tools does not render them
        return False
    return _NAME in declared and _VALUE in used and _RESULT in used


def _inspect(tokenizer: Any) -> TemplateFormat | None:
    if not renders_tools(tokenizer):
        return None
    return TemplateFormat(
        name=template_name(tokenizer),
        end_of_turn=_end_of_turn(tokenizer),
        training_template=_training_template(tokenizer),
        response_template=_response_template(tokenizer),
    )


@cache
def _trl_templates() -> dict[str, str]:
    """TRL's copies of the hub's templates, by text (found without importing TRL: seconds)."""
    from importlib.util import find_spec

    spec = find_spec("trl")
    if spec is None or not spec.submodule_search_locations:
        return {}
    folder = Path(next(iter(spec.submodule_search_locations))) / "chat_templates"
    return {p.read_text(encoding="utf-8"): p.stem for p in sorted(folder.glob("*.jinja"))}


def template_name(tokenizer: Any) -> str:
    """``qwen2_5`` for a template TRL ships (by exact text), else the model's name."""
    text = _template_text(tokenizer) or ""
    known = _trl_templates().get(text)
    if known:
        return known
    return f"the chat template of {getattr(tokenizer, 'name_or_path', '') or 'this tokenizer'}"


def _end_of_turn(tokenizer: Any) -> str:
    """What the template writes right after an assistant message's content."""
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": _REPLY}],
        tokenize=False,
    )
    after = text.split(_REPLY, 1)[1].split()
    return after[0] if after else (tokenizer.eos_token or "")


def _training_template(tokenizer: Any) -> str | None:
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    template = _template_text(tokenizer)
    if template is not None and has_generation_markers(template):
        return template
    try:
        return get_training_chat_template(tokenizer)
    except (ValueError, TypeError):  # TRL has no training copy: the prefix-diff then
        return None


def _response_template(tokenizer: Any) -> dict[str, Any] | None:
    own = getattr(tokenizer, "response_template", None)
    if own is not None:
        return own
    import copy

    from trl.chat_template_utils import add_response_schema

    probe = copy.copy(tokenizer)  # add_response_schema sets an attribute: not on the caller's
    try:
        add_response_schema(probe)
    except ValueError:  # a template TRL does not know: our own parser then
        return None
    return getattr(probe, "response_template", None)


# --------------------------------------------------------------------------- rendering


def render_prompt(
    tokenizer: Any, messages: list[Message], tools: list[dict[str, Any]], generation: bool = True
) -> str:
    """The conversation as the model's template renders it (with the assistant header)."""
    return tokenizer.apply_chat_template(
        template_messages(messages),
        tools=list(tools) or None,  # some templates (Llama) declare tools for tools=[]
        tokenize=False,
        add_generation_prompt=generation,
    )


@dataclass(frozen=True)
class TrainingText:
    text: str
    spans: list[tuple[int, int]]
    """Each assistant turn's characters in ``text``."""
    prompts: list[str]
    """Each assistant turn's inference prompt (a prefix of ``text``, ending at its span)."""


def assistant_spans(
    tokenizer: Any, fmt: TemplateFormat, messages: list[Message], tools: list[dict[str, Any]]
) -> TrainingText:
    """The training text and the character span of each assistant turn in it.

    Each span starts exactly where that turn's inference prompt ends; a template whose
    full render does not extend every such prompt (it re-renders earlier turns) raises
    `ChatFormatError`, as does a training template whose markers disagree with it.
    """
    conversation = template_messages(messages)
    schemas = list(tools) or None
    turns = [i for i, m in enumerate(messages) if m.role == "assistant"]

    def render(count: int, generation: bool, template: str | None = None) -> str:
        from jinja2 import TemplateError

        try:
            return tokenizer.apply_chat_template(
                conversation[:count],
                tools=schemas,
                tokenize=False,
                add_generation_prompt=generation,
                chat_template=template,
            )
        except TemplateError as exc:  # the template's raise_exception: refuses this chat
            raise ChatFormatError(f"chat template {fmt.name} refuses the trace: {exc}") from None

    text = render(len(conversation), False)
    marked: list[tuple[int, int]] = []
    if fmt.training_template is not None:
        from transformers.utils.chat_template_utils import render_jinja_template

        rendered, indices = render_jinja_template(
            [conversation],
            tools=schemas,
            chat_template=fmt.training_template,
            return_assistant_tokens_mask=True,
            **tokenizer.special_tokens_map,
        )
        if rendered[0] != text:
            raise ChatFormatError(
                f"chat template {fmt.name}: TRL's training copy renders other text than the "
                "template itself"
            )
        marked = [tuple(span) for span in indices[0]]
        if len(marked) != len(turns):
            raise ChatFormatError(
                f"chat template {fmt.name}: {len(marked)} generation blocks for {len(turns)} "
                "assistant turns"
            )
    spans, prompts = [], []
    for number, index in enumerate(turns):
        prompt = render(index, True)
        prompts.append(prompt)
        if not text.startswith(prompt):
            raise ChatFormatError(
                f"chat template {fmt.name}: assistant turn {number + 1}'s inference prompt is not "
                "a prefix of the training text (the template re-renders earlier turns)"
            )
        start = len(prompt)
        if marked:
            # TRL's markers may open before the end of the generation prompt (Qwen2.5's
            # include the newline after "assistant"): what the prompt already holds is not
            # the model's to learn
            left, end = marked[number]
            if not left <= start < end:
                raise ChatFormatError(
                    f"chat template {fmt.name}: assistant turn {number + 1}'s generation block "
                    "does not follow its inference prompt"
                )
        else:
            upto = render(index + 1, False)
            if not text.startswith(upto) or len(upto) <= start:
                raise ChatFormatError(
                    f"chat template {fmt.name}: assistant turn {number + 1} is rendered apart "
                    "from the prompt before it"
                )
            end = len(upto)
        spans.append((start, end))
    return TrainingText(text, spans, prompts)


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Parsed:
    message: Message
    invalid: bool
    error: str = ""


def parse_reply(
    tokenizer: Any,
    fmt: TemplateFormat,
    completion: str,
    prompt: str,
    tools: list[dict[str, Any]],
    call_id_prefix: str = "call",
) -> Parsed:
    """The assistant message a completion (ending in its end-of-turn marker, if it had one)
    stands for, read by transformers' parser with ``fmt.response_template`` (which must be
    set); a reply it cannot read, or a call without a name, is invalid."""
    assert fmt.response_template is not None
    try:
        data = tokenizer.parse_response(
            completion, schema=fmt.response_template, prefix=prompt, tools=tools or None
        )
    except Exception as exc:  # noqa: BLE001 - a malformed reply is an invalid action
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return _invalid(completion, fmt, reason)
    content = data.get("content") or ""
    if isinstance(content, str):
        content = content.split(fmt.end_of_turn)[0].strip()
    calls = []
    for number, call in enumerate(data.get("tool_calls") or ()):
        function = call.get("function") if isinstance(call, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        arguments = function.get("arguments", {}) if isinstance(function, dict) else None
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except (ValueError, RecursionError):  # a 4,300-digit number is no JSONDecodeError
                arguments = None
        if not isinstance(name, str) or not isinstance(arguments, dict):
            return _invalid(completion, fmt, f"tool call {number} lacks a name or argument object")
        calls.append(ToolCall.make(f"{call_id_prefix}_{number}", name, arguments))
    message = Message(
        role="assistant", content=content or (None if calls else ""), tool_calls=calls or None
    )
    refused = _refusal(tokenizer, message)
    if refused:  # e.g. two calls at once for Llama 3.1: the next prompt could not be rendered
        return _invalid(completion, fmt, f"the chat template refuses this reply: {refused}")
    return Parsed(message, invalid=False)


def _refusal(tokenizer: Any, message: Message) -> str:
    """Why the template refuses to render ``message`` after a user turn ('' if it doesn't)."""
    from jinja2 import TemplateError

    try:
        tokenizer.apply_chat_template(
            [{"role": "user", "content": "-"}, template_message(message)], tokenize=False
        )
    except TemplateError as exc:
        return str(exc)
    return ""


def _invalid(completion: str, fmt: TemplateFormat, error: str) -> Parsed:
    text = completion.split(fmt.end_of_turn)[0]
    return Parsed(Message(role="assistant", content=text), invalid=True, error=error)
