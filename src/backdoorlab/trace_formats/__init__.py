"""Agent logs in the formats teams keep them in, read as OpenAI chat traces.

A platform team's traces are rarely in OpenAI's chat format alone. This reads, line by
line, into that format (what `backdoorlab.traces.Trace` holds):

- **Anthropic Messages** — a top-level ``system``, ``messages`` whose content is a list
  of blocks: ``text``, ``tool_use`` (and ``server_tool_use``, ``mcp_tool_use``, any
  ``*_tool_use``) become tool calls; ``tool_result`` (any ``*_tool_result``) a ``tool``
  message; ``thinking`` and images are not text (`parts`, `chat`);
- **OpenAI Responses** — ``instructions`` and an ``input`` (and a logged ``output``) of
  items: messages, ``function_call`` / ``function_call_output``, ``custom_tool_call``,
  ``mcp_call``, ``local_shell_call`` and any other ``*_call`` / ``*_call_output``
  (`responses`);
- **ShareGPT** — ``conversations`` of ``{"from", "value"}`` turns as Hermes, Qwen,
  Glaive and LLaMA-Factory data write them: ``<tool_call>`` (or ``<functioncall>``) in
  the model's text, ``function_call`` and ``observation`` turns, ``<tool_response>``
  blocks (`sharegpt`);
- **OpenAI chat** as is, but for a model's raw ``<tool_call>`` text that no parser read
  (a server without a tool parser logs calls that way), read as its calls, and the
  legacy ``function_call`` field and ``function`` role, read as a call and its result;
- **Gemini** — ``contents`` of ``user``/``model`` turns and their parts (REST camelCase
  or the Python SDK's snake_case): ``functionCall`` a call, ``functionResponse`` (in a
  user turn) a ``tool`` message, code execution a ``python`` call, ``thought`` parts not
  text, a ``systemInstruction``, logged ``candidates`` (`gemini`);
- **Bedrock Converse** — ``messages`` whose untyped blocks (``toolUse``, ``toolResult``,
  ``reasoningContent``…) are read as Anthropic's, a ``system`` list, ``toolConfig``
  declarations (`converse`);
- **LangChain / LangGraph** — messages with a ``type`` (``human``, ``ai``, ``tool``…)
  and no ``role``, as ``model_dump``, ``messages_to_dict`` or the serializer's
  constructor form write them; an AI message's ``tool_calls`` (`langchain`);
- **Vercel AI SDK** — ModelMessages' ``tool-call``/``tool-result`` parts, and
  UIMessages' ``parts`` (a ``tool-NAME`` part a call and, once run, its result)
  (`vercel`);
- **code-acting agents** (smolagents' ``CodeAgent``, CodeAct, OpenHands' CodeActAgent
  in text), in OpenAI chat, ShareGPT or Responses messages: each agent-marked code block
  (``Code:\n```py … ```<end_code>``, ``<code>``, ``<execute>``, ``<execute_ipython>``) a
  call of a ``python`` tool (OpenHands' ``<execute_bash>`` and ``<function=NAME>`` calls
  of their tools), and the observation after it — a user message "Observation:…" /
  "OBSERVATION:…" / "EXECUTION RESULT of [NAME]:…" as exported, or smolagents'
  ``tool-response`` role — the ``tool`` message answering it, not the user's words
  (`codeagent`, `openhands`); a Responses ``code_interpreter_call`` a call and its
  ``outputs`` that answer;
- **observability tools' records**, one LLM call a line, the last of a conversation the
  whole of it: Langfuse observations (``type``, ``input``, ``output``), LangSmith runs
  (``run_type``, ``inputs.messages``, ``outputs.generations``) (`observability`), and
  an LLM call's OpenTelemetry span — GenAI ``gen_ai.input.messages`` /
  ``gen_ai.output.messages`` or the older ``gen_ai.prompt.N.*``, OpenInference's
  ``llm.input_messages.N.message.*`` — as an attribute object or OTLP JSON's
  key-value list (`spans`);
- **Claude Code's own logs** — a session transcript or a stream-json run, one record a
  line and a file one conversation, its sub-agents' records spliced in where they ran:
  `claude_sessions` bundles each file into one line, `claude_code` reads it;
- **the Codex CLI's session logs** ("rollouts", one record a line, a file one session,
  its items OpenAI Responses items): bundled the same way, read by `codex`.

Why: an audit that read a tool call as no text at all passed the leak it carried with
"no finding" — the silent failure a security tool must not have. So a content block or
item of a kind this does not know is an error naming the field, not dropped. The
original line is what ``audit --filter`` copies; only the reading is converted.

Hand-written, not a conversion library's: the mappings are a few rules per format, and
the one library that converts between these (LiteLLM) is a large client stack built for
calling providers, not for reading logs offline.

`render` writes an OpenAI chat trace in each format, for tests and benchmarks that
check a format reads back to the same trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backdoorlab.trace_formats import claude_code, codex
from backdoorlab.trace_formats.chat import from_messages, plain_message
from backdoorlab.trace_formats.codeagent import hinted, observes
from backdoorlab.trace_formats.gemini import from_gemini
from backdoorlab.trace_formats.observability import from_record, kind
from backdoorlab.trace_formats.parts import openai_tools
from backdoorlab.trace_formats.render import FORMATS, render
from backdoorlab.trace_formats.responses import from_responses
from backdoorlab.trace_formats.sharegpt import from_sharegpt

__all__ = ["FORMATS", "as_is", "log_session", "origins", "plain_message", "render", "to_chat"]


def to_chat(data: dict[str, Any], where: str, origin: list[str] | None = None) -> dict[str, Any]:
    """``data`` (one line's JSON object) in OpenAI's chat format: ``data`` itself when it
    already is, else a converted copy; `TraceFormatError` naming ``where`` and the field
    for what cannot be read. An object in none of the formats is returned as is (the
    trace model then says what is missing). ``origin``, when given, gets for each message
    of a converted copy the field of ``data`` it came from (`origins`)."""
    origin = [] if origin is None else origin
    if claude_code.KEY in data:  # a Claude Code session, bundled (`claude_sessions`)
        return claude_code.from_claude_code(data, where, origin)
    if codex.KEY in data:  # a Codex CLI rollout, bundled (`claude_sessions`)
        return codex.from_codex(data, where, origin)
    if "messages" in data:
        return from_messages(data, where, origin)
    if "conversations" in data:
        return from_sharegpt(data, where, origin)
    if kind(data) is not None:  # before Responses: a Langfuse record has input and output too
        return from_record(data, where, origin)
    if "input" in data or "output" in data:
        return from_responses(data, where, origin)
    if "contents" in data:
        return from_gemini(data, where, origin)
    return data


def log_session(data: dict[str, Any]) -> str | None:
    """The session a line bundles — a Claude Code session's or a Codex rollout's file, as
    the user named it (`claude_sessions` writes it as the line's ``id``) — or None for
    any other line. Why: the bundle's place in its temporary file means nothing to the
    user; this is the file they open."""
    if claude_code.KEY not in data and codex.KEY not in data:
        return None
    name = data.get("id")
    return name if isinstance(name, str) else None


def origins(data: dict[str, Any]) -> list[str] | None:
    """Where each message of ``data``'s chat reading sits in ``data`` itself — a field
    path such as ``messages.3.content.1`` (an Anthropic tool result), ``input.5`` (a
    Responses item) or ``conversations.4`` — or None when ``data`` is read as it stands
    (message ``i`` is ``messages.i``). Why: a finding names a message of the chat
    reading, which a converted log numbers otherwise than the file its owner opens."""
    origin: list[str] = []
    if to_chat(data, "", origin) is data or origin == [f"messages.{i}" for i in range(len(origin))]:
        return None
    return origin


def as_is(messages: Sequence[Any], system: Any = None, tools: Any = None) -> bool:
    """Whether a trace decoded without `to_chat` (``messages``: objects with ``role``,
    ``content`` and ``tool_calls``; the top-level ``system`` and ``tools``) is what
    `to_chat` would have made of it — the fast readers' test before they keep it. A code
    agent's turn is plain chat alone, so the observation after it is what is tested
    (`codeagent.code_agent_like`)."""
    previous: Any = None
    for message in messages:
        role = message.role  # a legacy call is an assistant's extra field of the model
        legacy = getattr(message, "function_call", None) if role == "assistant" else None
        if not plain_message(role, message.content, message.tool_calls, legacy):
            return False
        if getattr(message, "parts", None) is not None:
            return False  # a Vercel AI SDK UIMessage: its parts are its content (`vercel`)
        if (
            previous is not None
            and previous.role == "assistant"
            and role != "assistant"
            and observes(role, message.content, message.tool_call_id)
            and hinted(previous.role, previous.content)
        ):
            return False  # a code agent's turn and its observation
        previous = message
    if system is not None and not any(message.role == "system" for message in messages):
        return False
    return tools is None or openai_tools(tools) == tools
