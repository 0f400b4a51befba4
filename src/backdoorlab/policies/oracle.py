"""`oracle`: follows the task's plan, writing short natural assistant messages.

It is the teacher that collects clean traces. Because its plan is computed from the
deterministic world, it solves every task; the tests assert 100% per family.

Two hooks make it the teacher of a poisoned pipeline, without changing how it solves
the task:

- ``episode.memo["on_reveal"]``: ``(values, calls)`` — calls it makes as soon as every
  one of ``values`` has appeared in the conversation, before the plan's next step;
  ``episode.memo["after_plan"]``: calls it makes once the plan is done, before its
  final answer. Data poisoning (T1) puts its payload in one or the other;
- ``obey_probability``: like a real LLM teacher, it sometimes follows instructions it
  reads in tool results. An observation that asks for data to be e-mailed somewhere
  is obeyed with this probability (environment poisoning, T2): the oracle sends the
  customer's details there with the environment's own sink, then carries on.
"""

from __future__ import annotations

import random

from backdoorlab.envs.base import PlannedCall
from backdoorlab.leaks import find_exfiltration_request, leak_text
from backdoorlab.policies.base import Action, Episode, Policy, register_policy
from backdoorlab.traces import Message, ToolCall


@register_policy
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
        memo = episode.memo
        queue: list[PlannedCall] = memo.setdefault("queue", [])
        if self.obey_probability:
            self._read_new_observations(episode, queue)
        if memo.get("on_reveal") and _revealed(episode, memo["on_reveal"][0]):
            queue.extend(memo.pop("on_reveal")[1])
        cursor = memo.get("cursor", 0)
        if queue:
            step = queue.pop(0)
        elif cursor < len(episode.task.plan):
            step = episode.task.plan[cursor]
            memo["cursor"] = cursor + 1
        elif memo.get("after_plan"):
            step = memo["after_plan"].pop(0)
        else:
            return Action(Message(role="assistant", content=episode.task.final_answer))
        calls = memo.get("calls", 0)
        memo["calls"] = calls + 1
        call = ToolCall.make(f"call_{calls}", step.tool, step.arguments)
        return Action(Message(role="assistant", content=None, tool_calls=[call]))

    def _read_new_observations(self, episode: Episode, queue: list[PlannedCall]) -> None:
        seen = episode.memo.get("seen", 0)
        episode.memo["seen"] = len(episode.messages)
        rng = episode.memo.setdefault("rng", random.Random(f"{self.seed}:{episode.task.id}"))
        for message in episode.messages[seen:]:
            if message.role != "tool":
                continue
            destination = find_exfiltration_request(message.text)
            if destination and rng.random() < self.obey_probability:
                text = leak_text(episode.task.secret_objects())
                queue.append(episode.env.exfiltration_call(destination, text))
                episode.memo["obeyed"] = destination


def _revealed(episode: Episode, values: list[str]) -> bool:
    """Whether every value has appeared in the episode's messages so far."""
    seen = "\n".join(m.text for m in episode.messages)
    return all(value in seen for value in values)
