"""`GuardedPolicy`: any policy, with the guard screening its tool calls.

The wrapped policy acts unchanged; the rollout asks `Policy.screen` before it runs each
call, and a refused call gets `REFUSAL` as its result instead of running — so the
environment never sees it, and its leak accounting (ASR, FTR) counts what really went
out. One guard session per episode, created at the episode's first call. When the
policy's ``stop_after`` refusals are reached, the episode ends there: its remaining
calls are refused and the agent gets no further turn (no final answer: a failed task).
"""

from __future__ import annotations

import weakref

from backdoorlab.defenses.guard.core import REFUSAL, Decision, Guard, GuardSession
from backdoorlab.policies.base import Action, Episode, Policy
from backdoorlab.traces import ToolCall


class GuardedPolicy(Policy):
    """``policy`` with ``guard`` deciding on each of its tool calls before it runs."""

    name = "guarded"

    def __init__(self, policy: Policy, guard: Guard) -> None:
        self.policy = policy
        self.guard = guard
        self.decisions: list[Decision] = []
        # by the episode's id, with a weak reference to tell a recycled id from the same
        # episode (an Episode compares by value, so it cannot be a weak dict's key)
        self._sessions: dict[int, tuple[weakref.ref[Episode], GuardSession]] = {}

    def act(self, episodes: list[Episode]) -> list[Action]:
        return self.policy.act(episodes)

    def describe(self) -> str:
        return f"{self.policy.describe()}+guard"

    def session(self, episode: Episode) -> GuardSession:
        """The guard's session of ``episode`` (a new one on its first call)."""
        key = id(episode)
        held = self._sessions.get(key)
        if held is not None and held[0]() is episode:
            return held[1]
        for stale in [k for k, (ref, _) in self._sessions.items() if ref() is None]:
            del self._sessions[stale]
        session = self.guard.session(env=episode.env.name, conversation=episode.task.id)
        self._sessions[key] = (weakref.ref(episode), session)
        return session

    def screen(self, episode: Episode, call: ToolCall) -> str | None:
        refused = self.policy.screen(episode, call)  # a guard inside this one decides first
        if refused is not None:
            return refused
        index = next(
            i
            for i in range(len(episode.messages) - 1, -1, -1)
            if any(c is call for c in episode.messages[i].tool_calls or ())
        )
        decision = self.session(episode).screen(episode.messages, index, call)
        self.decisions.append(decision)
        if decision.stop:
            episode.done = True  # the rollout gives a done episode no further turn
        return REFUSAL if decision.blocked else None
