"""`oracle`: follows the task's plan, writing short natural assistant messages.

It is the teacher that collects clean traces. Because its plan is computed from the
deterministic world, it solves every task; the tests assert 100% per family.
"""

from __future__ import annotations

from backdoorlab.policies.base import Action, Episode, Policy, register_policy
from backdoorlab.traces import Message, ToolCall


@register_policy
class OraclePolicy(Policy):
    name = "oracle"

    def act(self, episodes: list[Episode]) -> list[Action]:
        return [self._next(episode) for episode in episodes]

    def _next(self, episode: Episode) -> Action:
        cursor = episode.memo.get("cursor", 0)
        plan = episode.task.plan
        if cursor >= len(plan):
            return Action(Message(role="assistant", content=episode.task.final_answer))
        step = plan[cursor]
        episode.memo["cursor"] = cursor + 1
        call = ToolCall.make(f"call_{cursor}", step.tool, step.arguments)
        return Action(Message(role="assistant", content=None, tool_calls=[call]))
