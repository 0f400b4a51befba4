"""`oracle`: follows the task's plan, writing short natural assistant messages.

It is the teacher that collects clean traces. Because its plan is computed from the
deterministic world, it solves every task; the tests assert 100% per family.

Two hooks make it the teacher of a poisoned pipeline, without changing how it solves
the task:

- ``episode.hooks.on_reveal``: calls it makes as soon as every one of the hook's values
  has appeared in the conversation, before the plan's next step;
  ``episode.hooks.after_plan``: calls it makes once the plan is done, before its
  final answer. Data poisoning (T1) puts its payload in one or the other;
- ``obey_probability``: like a real LLM teacher, it sometimes follows instructions it
  reads in tool results. An observation that asks for data to be e-mailed somewhere
  is obeyed with this probability (environment poisoning, T2): the oracle sends the
  customer's details there with the environment's own sink, then carries on — or, when
  the request asks for it once the task is done, or when the conversation has not yet
  shown every value it would send (an AgentDojo task can read the injection before the
  user's data), after the plan, before its final answer: it sends only what it has read.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from backdoorlab.envs.base import PlannedCall
from backdoorlab.leaks import asks_after_task, find_exfiltration_request, leak_text
from backdoorlab.policies.base import Action, Episode, Policy
from backdoorlab.traces import Message, ToolCall


@dataclass
class _OracleState:
    """Where the oracle is in one episode: kept on the episode, so one policy object can
    run many episodes side by side."""

    queue: list[PlannedCall] = field(default_factory=list)  # calls before the plan's next
    cursor: int = 0  # the plan's next step
    after: int = 0  # the next of the hooks' after-plan calls
    deferred: list[PlannedCall] = field(default_factory=list)  # obeyed "once done" requests
    revealed: bool = False  # the on-reveal calls were queued
    calls: int = 0  # tool calls made (their ids)
    seen: int = 0  # messages already read for injected instructions
    rng: random.Random | None = None  # whether to obey each injected instruction


class OraclePolicy(Policy):
    name = "oracle"

    def __init__(self, obey_probability: float = 0.0, seed: int = 0) -> None:
        if not 0.0 <= obey_probability <= 1.0:
            raise ValueError(f"obey_probability must be in [0, 1], not {obey_probability}")
        self.obey_probability = obey_probability
        self.seed = seed

    def describe(self) -> str:
        return (
            self.name if not self.obey_probability else f"{self.name}(obey={self.obey_probability})"
        )

    def act(self, episodes: list[Episode]) -> list[Action]:
        return [self._next(episode) for episode in episodes]

    def _next(self, episode: Episode) -> Action:
        state = episode.policy_state
        if not isinstance(state, _OracleState):
            state = episode.policy_state = _OracleState()
        hooks = episode.hooks
        if self.obey_probability:
            self._read_new_observations(episode, state)
        reveal = hooks.on_reveal
        if reveal and not state.revealed and _revealed(episode, reveal.values):
            state.queue.extend(reveal.calls)
            state.revealed = True
        if state.queue:
            step = state.queue.pop(0)
        elif state.cursor < len(episode.task.plan):
            step = episode.task.plan[state.cursor]
            state.cursor += 1
        elif state.after < len(hooks.after_plan):
            step = hooks.after_plan[state.after]
            state.after += 1
        elif state.deferred:
            step = state.deferred.pop(0)
        else:
            return Action(Message(role="assistant", content=episode.task.final_answer))
        call = ToolCall.make(f"call_{state.calls}", step.tool, step.arguments)
        state.calls += 1
        return Action(Message(role="assistant", content=None, tool_calls=[call]))

    def _read_new_observations(self, episode: Episode, state: _OracleState) -> None:
        seen, state.seen = state.seen, len(episode.messages)
        if state.rng is None:
            state.rng = random.Random(f"{self.seed}:{episode.task.id}")
        for message in episode.messages[seen:]:
            if message.role != "tool":
                continue
            destination = find_exfiltration_request(message.text)
            if destination and state.rng.random() < self.obey_probability:
                secrets = episode.task.secret_objects()
                call = episode.env.exfiltration_call(destination, leak_text(secrets))
                later = asks_after_task(message.text)
                later = later or not _revealed(episode, [s.value for s in secrets])
                (state.deferred if later else state.queue).append(call)


def _revealed(episode: Episode, values: list[str]) -> bool:
    """Whether every value has appeared in the episode's messages so far."""
    seen = "\n".join(m.text for m in episode.messages)
    return all(value in seen for value in values)
