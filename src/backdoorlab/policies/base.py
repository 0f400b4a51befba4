"""What chooses the agent's next message: the `Policy` protocol and its registry.

Policies act on a *batch* of episodes at once, so a model-backed policy can advance
every active episode with one batched ``generate``; the oracle just loops.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from backdoorlab.envs.base import Environment, Task
from backdoorlab.errors import UnknownNameError
from backdoorlab.traces import Message


@dataclass
class Episode:
    """One running episode: its task, its environment instance and the conversation so far."""

    task: Task
    env: Environment
    messages: list[Message]
    steps: int = 0
    invalid_actions: int = 0
    done: bool = False
    final_answer: str = ""
    memo: dict[str, Any] = field(default_factory=dict)  # the policy's per-episode scratch


@dataclass
class Action:
    """An assistant message; ``invalid`` when the policy's output could not be parsed."""

    message: Message
    invalid: bool = False


class Policy(ABC):
    name: ClassVar[str]

    @abstractmethod
    def act(self, episodes: list[Episode]) -> list[Action]:
        """The next assistant message for each of ``episodes`` (same order)."""

    def describe(self) -> str:
        """How the policy is recorded in trace metadata."""
        return self.name


POLICIES: dict[str, type[Policy]] = {}
# Built-in policies whose module is heavy (torch): imported only when asked for by name.
_LAZY_POLICIES = {"hf": "backdoorlab.policies.hf"}


def register_policy(cls: type[Policy]) -> type[Policy]:
    """Class decorator: make a policy available by its ``name``."""
    POLICIES[cls.name] = cls
    return cls


def make_policy(name: str, **kwargs: Any) -> Policy:
    import importlib

    import backdoorlab.policies  # noqa: F401  (registers the built-in policies)

    if name in _LAZY_POLICIES and name not in POLICIES:
        importlib.import_module(_LAZY_POLICIES[name])
    try:
        cls = POLICIES[name]
    except KeyError:
        known = ", ".join(sorted(set(POLICIES) | set(_LAZY_POLICIES)))
        raise UnknownNameError(f"unknown policy '{name}' (known: {known})") from None
    return cls(**kwargs)
