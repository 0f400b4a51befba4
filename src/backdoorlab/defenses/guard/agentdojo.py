"""The guard as an AgentDojo pipeline element: AgentDojo agents defended unchanged.

`GuardedToolsExecutor` takes the place of AgentDojo's ``ToolsExecutor`` inside its
``ToolsExecutionLoop``::

    from agentdojo.agent_pipeline import AgentPipeline, InitQuery, SystemMessage, ToolsExecutionLoop
    from backdoorlab.defenses.guard.agentdojo import GuardedToolsExecutor

    pipeline = AgentPipeline([
        SystemMessage(prompt), InitQuery(), llm,
        ToolsExecutionLoop([GuardedToolsExecutor(Guard(config)), llm]),
    ])

Before the calls of the model's last message run, each is screened by the guard against
the conversation so far; allowed calls run through the wrapped executor (AgentDojo's
own by default), refused ones get a tool result whose ``error`` is `REFUSAL` — how
AgentDojo reports a failed call to the model — and never reach the environment. When
the policy's ``stop_after`` refusals are reached, the element raises AgentDojo's
``AbortAgentError`` with the conversation so far, as AgentDojo's own detectors do when
they abort an agent: the benchmark scores the environment as it stands.

One guard session per conversation, carried in the pipeline's ``extra_args`` (a new
dict each time: AgentDojo's defaults are shared mutable ``{}``); a conversation that
does not continue the session's (shorter than what it read) starts a new one.
AgentDojo is an optional dependency (``backdoorlab[agentdojo]``): this module is
imported only when asked for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentdojo.agent_pipeline.base_pipeline_element import BasePipelineElement
from agentdojo.agent_pipeline.errors import AbortAgentError
from agentdojo.agent_pipeline.tool_execution import ToolsExecutor
from agentdojo.functions_runtime import EmptyEnv, Env, FunctionsRuntime
from agentdojo.types import (
    ChatAssistantMessage,
    ChatMessage,
    ChatToolResultMessage,
    get_text_content_as_str,
    text_content_block_from_string,
)

from backdoorlab.defenses.guard.core import REFUSAL, Decision, Guard, GuardSession
from backdoorlab.traces import FunctionCall, Message, ToolCall

SESSION_KEY = "backdoorlab.guard"
"""Where the conversation's guard state travels in ``extra_args``."""
SCRIPT_KEY = "backdoorlab.script"
STOPPED = "The conversation was stopped by the data-protection policy (too many refused calls)."
"""The agent's last message when the guard stops a conversation (``stop_after``)."""
_EMPTY = EmptyEnv()


def to_message(message: ChatMessage, index: int) -> Message:
    """One AgentDojo chat message in our (OpenAI) form, text only."""
    role = message["role"]
    content = message.get("content")
    text = get_text_content_as_str(content) if isinstance(content, list) else content or ""
    if role == "assistant":
        calls = [
            ToolCall(
                id=call.id or f"call_{index}_{i}",
                function=FunctionCall(
                    name=call.function, arguments=json.dumps(dict(call.args), default=str)
                ),
            )
            for i, call in enumerate(message.get("tool_calls") or ())
        ]
        return Message(role="assistant", content=text or None, tool_calls=calls or None)
    if role == "tool":
        error = message.get("error")
        call = message.get("tool_call")
        return Message(
            role="tool",
            content=f"Error: {error}" if error else text,
            tool_call_id=message.get("tool_call_id"),
            name=call.function if call is not None else None,
        )
    return Message(role=role, content=text)  # type: ignore[arg-type]


@dataclass
class _Conversation:
    session: GuardSession
    ours: list[Message] = field(default_factory=list)


class GuardedToolsExecutor(BasePipelineElement):
    """AgentDojo's tool executor with the guard deciding on each call first (module doc)."""

    name = "backdoorlab-guard"

    def __init__(
        self,
        guard: Guard | None = None,
        executor: BasePipelineElement | None = None,
        env: str | None = None,
    ) -> None:
        self.guard = guard if guard is not None else Guard()
        self.executor = executor if executor is not None else ToolsExecutor()
        self.env = env
        """Our environment's name whose sink declarations apply (``agentdojo:banking``);
        None: the policy's sinks, else the audit's heuristics."""
        self.decisions: list[Decision] = []

    def _conversation(self, messages: Sequence[ChatMessage], extra_args: dict) -> _Conversation:
        held = extra_args.get(SESSION_KEY)
        if isinstance(held, _Conversation) and len(held.ours) <= len(messages):
            return held
        return _Conversation(self.guard.session(env=self.env))

    def query(
        self,
        query: str,
        runtime: FunctionsRuntime,
        env: Env = _EMPTY,
        messages: Sequence[ChatMessage] = [],  # noqa: B006 - AgentDojo's signature
        extra_args: dict = {},  # noqa: B006 - AgentDojo's signature; never mutated here
    ) -> tuple[str, FunctionsRuntime, Env, Sequence[ChatMessage], dict]:
        last = messages[-1] if messages else None
        if last is None or last["role"] != "assistant" or not last.get("tool_calls"):
            return self.executor.query(query, runtime, env, messages, extra_args)
        conversation = self._conversation(messages, extra_args)
        ours = conversation.ours
        # the last message may have been converted already (an element before us saw it)
        del ours[len(messages) - 1 :]
        ours.extend(to_message(m, i) for i, m in enumerate(messages) if i >= len(ours))
        index = len(messages) - 1
        decisions = [
            conversation.session.screen(ours, index, call) for call in ours[index].tool_calls or ()
        ]
        self.decisions += decisions
        extra_args = {**extra_args, SESSION_KEY: conversation}
        calls = list(last["tool_calls"] or ())
        allowed = [call for call, d in zip(calls, decisions, strict=True) if not d.blocked]
        results: list[ChatMessage] = []
        if allowed:
            filtered = {**last, "tool_calls": allowed}
            passed = [*messages[:-1], filtered]
            query, runtime, env, out, extra_args = self.executor.query(
                query, runtime, env, passed, extra_args
            )
            results = list(out[len(passed) :])
        ran = iter(results)
        answered: list[ChatMessage] = []
        for call, decision in zip(calls, decisions, strict=True):
            if decision.blocked:
                answered.append(
                    ChatToolResultMessage(
                        role="tool",
                        content=[text_content_block_from_string("")],
                        tool_call_id=call.id,
                        tool_call=call,
                        error=REFUSAL.removeprefix("Error: "),
                    )
                )
            else:
                answered.append(next(ran))
        answered.extend(ran)  # an executor that answered more than asked: keep it all
        if any(d.stop for d in decisions):
            raise AbortAgentError(STOPPED, [*messages, *answered], env)
        return query, runtime, env, [*messages, *answered], extra_args


class ScriptedAgent(BasePipelineElement):
    """A stand-in LLM for offline runs: plays a script of tool calls, one per turn, then
    answers. ``script(env)`` gives (calls, final answer) from the task's environment when
    the conversation starts — AgentDojo's ground truths are functions of it."""

    name = "scripted-agent"

    def __init__(self, script: Callable[[Env], tuple[list[Any], str]]) -> None:
        self.script = script

    def query(
        self,
        query: str,
        runtime: FunctionsRuntime,
        env: Env = _EMPTY,
        messages: Sequence[ChatMessage] = [],  # noqa: B006 - AgentDojo's signature
        extra_args: dict = {},  # noqa: B006 - AgentDojo's signature; never mutated here
    ) -> tuple[str, FunctionsRuntime, Env, Sequence[ChatMessage], dict]:
        played = extra_args.get(SCRIPT_KEY)
        if played is None:
            played = self.script(env)
            extra_args = {**extra_args, SCRIPT_KEY: played}
        calls, answer = played
        turn = sum(1 for m in messages if m["role"] == "assistant")
        if turn < len(calls):
            call = calls[turn].model_copy(update={"id": f"call_{turn}"})
            reply = ChatAssistantMessage(
                role="assistant", content=[text_content_block_from_string("")], tool_calls=[call]
            )
        else:
            reply = ChatAssistantMessage(
                role="assistant", content=[text_content_block_from_string(answer)], tool_calls=None
            )
        return query, runtime, env, [*messages, reply], extra_args


def decisions_of(extra_args: dict[str, Any]) -> list[Decision]:
    """The decisions the guard took in the conversation whose ``extra_args`` these are."""
    held = extra_args.get(SESSION_KEY)
    return list(held.session.decisions) if isinstance(held, _Conversation) else []
