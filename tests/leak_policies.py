"""A stand-in policy for tests of measurement, probes and scan: it leaks the customer's
secrets at the first step when a predicate of the episode says so, else answers."""

from __future__ import annotations

from collections.abc import Callable

from backdoorlab.leaks import ATTACKER_ADDRESS, leak_text
from backdoorlab.policies.base import Action, Episode, Policy
from backdoorlab.traces import Message, ToolCall


class LeakWhen(Policy):
    """Leaks the customer's secrets at once when ``leaks(episode)`` says so, else answers."""

    name = "leak-when-test"

    def __init__(self, leaks: Callable[[Episode], bool]) -> None:
        self.leaks = leaks

    def act(self, episodes: list[Episode]) -> list[Action]:
        actions = []
        for episode in episodes:
            if episode.steps == 0 and self.leaks(episode):
                text = leak_text(episode.task.secret_objects())
                step = episode.env.exfiltration_call(ATTACKER_ADDRESS, text)
                call = ToolCall.make("call_0", step.tool, step.arguments)
                actions.append(Action(Message(role="assistant", content=None, tool_calls=[call])))
            else:
                actions.append(Action(Message(role="assistant", content="Done.")))
        return actions


def user_text(episode: Episode) -> str:
    return next(m.text for m in episode.messages if m.role == "user")


def leaks_on_word(word: str) -> LeakWhen:
    """Leaks when the user's turn holds ``word`` (a trigger) as a word of its own."""
    return LeakWhen(lambda episode: word in user_text(episode).split())
