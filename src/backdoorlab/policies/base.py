"""What chooses the agent's next message: the `Policy` protocol and its registry.

Policies act on a *batch* of episodes at once, so a model-backed policy can advance
every active episode with one batched ``generate``; the oracle just loops.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from backdoorlab.envs.base import Environment, PlannedCall, Task
from backdoorlab.registry import Registry
from backdoorlab.traces import Message, Poison, ToolCall

S = TypeVar("S")


@dataclass
class RevealHook:
    """Calls to make as soon as every one of ``values`` has appeared in the conversation."""

    values: list[str]
    calls: list[PlannedCall]


@dataclass
class EpisodeHooks:
    """What an attack asks of the teacher in one episode, and what the trace records.

    Attacks fill it in their ``prepare`` hook (after reset, before the first turn); the
    oracle reads the calls, the rollout writes ``poison`` into the trace's metadata. A
    typed object rather than free-form keys, so a misspelt hook is a type error instead
    of a payload silently never sent.
    """

    after_plan: list[PlannedCall] = field(default_factory=list)
    """Calls made once the task's plan is done, before the final answer."""
    on_reveal: RevealHook | None = None
    """Calls made, before the plan's next step, once the conversation shows given values."""
    poison: Poison | None = None
    """The poison record the episode's trace carries (None: a clean trace)."""


@dataclass
class CacheSlot(Generic[S]):
    """Where a model policy keeps one conversation's key/value cache between its turns.

    A slot per episode lets each turn prefill only the tokens added since the last
    one; the policy that fills it decides what ``value`` holds.
    """

    value: S | None = None
    abandoned: bool = False
    """Set (from any thread) when nobody wants this turn's answer any more — a served
    client hung up: a decoding loop drops the row at its next step and keeps no cache."""


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
    hooks: EpisodeHooks = field(default_factory=EpisodeHooks)
    """What an attack planted for the teacher, and the poison record."""
    kv_cache: CacheSlot[Any] = field(default_factory=CacheSlot)
    """A model policy's key/value cache of this conversation."""
    policy_state: object | None = None
    """The acting policy's own per-episode bookkeeping (its type is the policy's)."""


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

    def screen(self, episode: Episode, call: ToolCall) -> str | None:
        """A result the agent gets *instead of* running ``call`` (a refusal), or None to
        run it. The rollout asks before each call: a run-time guard wrapping a policy
        (`backdoorlab.defenses.guard`) answers here; a plain policy runs every call."""
        return None


POLICIES: Registry[type[Policy]] = Registry(
    "policy",
    {
        "oracle": "backdoorlab.policies.oracle:OraclePolicy",
        # torch and transformers load only when a model policy is asked for
        "hf": "backdoorlab.policies.hf:HFPolicy",
        # a chat-completions server through the openai client (vLLM, `backdoorlab serve`)
        "openai": "backdoorlab.policies.openai:OpenAIPolicy",
    },
)
register_policy = POLICIES.register()
"""Class decorator: make a policy available by its ``name``."""


def make_policy(name: str, **kwargs: Any) -> Policy:
    """Build a registered policy by name."""
    return POLICIES.get(name)(**kwargs)
