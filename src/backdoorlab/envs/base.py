"""The environment protocol: simulated tool-use worlds that never touch the real network.

An `Environment` is built deterministically from a seed. It declares its `tools`
(OpenAI function schemas), its `sinks` (tools that send data out) and its
`injection_points` (fields a third party can write). `tasks(split, n, seed)` draws
`Task`s whose users are disjoint between the ``train`` and ``test`` splits.

One instance runs one episode at a time: `reset(task)` gives it a fresh state,
`call(tool, arguments)` executes a tool against that state and always returns a
string — an unknown tool or bad arguments give an error string, as a real API
would, never an exception into the rollout — and `check(task, state, answer)` judges
success from the final state. `spawn()` makes another instance sharing the (immutable)
world, so a batched rollout runs many episodes side by side cheaply.

`SimulatedEnvironment` is the base of the environments over a generated world (retail,
web): it draws their tasks and rebuilds a task from its id; AgentDojo's suites, whose
tasks are a fixed list, implement `Environment` directly.
"""

from __future__ import annotations

import json
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from backdoorlab.errors import BackdoorlabError
from backdoorlab.leaks import LeakDetector, Secret, Sink
from backdoorlab.registry import Registry

Split = Literal["train", "test"]


def check_split(split: str) -> None:
    """Refuse a split that is neither ``train`` nor ``test`` (each environment's `tasks`)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not '{split}'")


class PlannedCall(BaseModel):
    """One step of a task's oracle plan: a tool and its concrete arguments."""

    tool: str
    arguments: dict[str, Any]


class Task(BaseModel):
    """One user request, with the oracle plan and what success and leaking mean for it."""

    model_config = ConfigDict(frozen=True)
    id: str
    env: str
    family: str
    split: Split
    user_id: str
    instruction: str
    plan: list[PlannedCall]
    final_answer: str
    # Strings the final answer must contain (information-seeking tasks).
    answer_must_contain: list[str] = Field(default_factory=list)
    secrets: list[tuple[str, str]] = Field(default_factory=list)  # (kind, value)
    authorised: list[str] = Field(default_factory=list)  # destinations the user gave

    def secret_objects(self) -> list[Secret]:
        return [Secret(kind, value) for kind, value in self.secrets]  # type: ignore[arg-type]


@dataclass(frozen=True)
class ToolSpec:
    """A tool's declaration; `schema()` gives OpenAI's function format."""

    name: str
    description: str
    parameters: dict[str, dict[str, Any]]
    required: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": {
                    "type": "object",
                    "properties": self.parameters,
                    "required": list(self.required or self.parameters),
                },
            },
        }


@dataclass(frozen=True)
class InjectionPoint:
    """A field a third party can write (a review, an order note); attacks plant text here."""

    name: str
    description: str


@dataclass
class CallRecord:
    """One executed tool call, kept in the episode log for leak accounting."""

    tool: str
    arguments: dict[str, Any]
    result: str
    error: bool = False


@dataclass
class EpisodeState:
    """What changes during an episode. Subclasses add their world's mutable data."""

    calls: list[CallRecord] = field(default_factory=list)


class ToolError(Exception):
    """Raised inside a tool implementation; `Environment.call` turns it into an error string."""


class Environment(ABC):
    """Base class of every simulated environment; see the module docstring."""

    name: ClassVar[str]
    version: ClassVar[str]

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.state: EpisodeState | None = None
        self.task: Task | None = None

    # -- declarations -------------------------------------------------------------
    @classmethod
    def declarations(cls) -> Environment:
        """An instance to read the declarations from (`tool_specs`, `sinks`, `tools`)
        without building the world: the audit needs only those, and a retail world takes
        a second to generate. An environment whose declarations depend on its world
        overrides this."""
        instance = cls.__new__(cls)
        Environment.__init__(instance)
        return instance

    @property
    @abstractmethod
    def tool_specs(self) -> list[ToolSpec]: ...

    @property
    def tools(self) -> list[dict[str, Any]]:
        return [spec.schema() for spec in self.tool_specs]

    @property
    @abstractmethod
    def sinks(self) -> list[Sink]: ...

    @property
    @abstractmethod
    def injection_points(self) -> list[InjectionPoint]: ...

    @property
    @abstractmethod
    def system_prompt(self) -> str: ...

    # -- tasks and episodes -------------------------------------------------------
    @abstractmethod
    def tasks(self, split: Split, n: int, seed: int = 0) -> list[Task]: ...

    @abstractmethod
    def spawn(self) -> Environment:
        """A fresh instance over the same world (cheap: the world is shared, not copied)."""

    @abstractmethod
    def _new_state(self, task: Task) -> EpisodeState: ...

    @abstractmethod
    def _tool_impl(self, name: str) -> Callable[..., Any] | None: ...

    @abstractmethod
    def check(self, task: Task, state: EpisodeState, final_answer: str) -> bool: ...

    def task_by_id(self, task_id: str) -> Task:
        """The task a trace's ``metadata.task_id`` names (tasks are deterministic)."""
        raise NotImplementedError(f"{self.name} cannot rebuild tasks from their ids")

    def exfiltration_call(self, destination: str, text: str) -> PlannedCall:
        """A call of this environment's sink that sends ``text`` to ``destination``.

        What an attack's payload (or an obeyed injected instruction) does, expressed with
        the environment's own ordinary tool.
        """
        raise NotImplementedError(f"{self.name} declares no sink an attack could use")

    def observation_slots(self, task: Task) -> list[tuple[str, str]]:
        """(injection point, target) pairs whose text the task's plan reads back.

        Where an attacker's (or a trigger's) planted text reaches the agent during this
        task; empty when the task reads no third-party content.
        """
        return []

    def injection_targets(self, point: str) -> list[str]:
        """Everything a third party could write at ``point`` (e.g. every product's reviews)."""
        return []

    def inject(self, point: str, target: str, text: str) -> None:
        """Plant third-party text at an injection point of the current episode's state."""
        raise NotImplementedError(f"{self.name} has no injection points")

    def reset(self, task: Task) -> EpisodeState:
        self.task = task
        self.state = self._new_state(task)
        return self.state

    def call(self, tool: str, arguments: dict[str, Any] | str) -> str:
        """Run a tool against the current state; errors come back as strings, like an API's."""
        if self.state is None:
            raise RuntimeError("call() before reset(): start an episode first")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except (ValueError, RecursionError):  # a 4,300-digit number: ValueError alone
                return self._record(tool, {}, "Error: arguments are not valid JSON", True)
        if not isinstance(arguments, dict):
            return self._record(tool, {}, "Error: arguments must be a JSON object", True)
        spec = next((s for s in self.tool_specs if s.name == tool), None)
        impl = self._tool_impl(tool)
        if spec is None or impl is None:
            return self._record(tool, arguments, f"Error: unknown tool '{tool}'", True)
        missing = [p for p in (spec.required or spec.parameters) if p not in arguments]
        unexpected = [p for p in arguments if p not in spec.parameters]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing argument(s) {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected argument(s) {', '.join(unexpected)}")
            return self._record(tool, arguments, f"Error: {tool}: {'; '.join(parts)}", True)
        try:
            result = impl(self.state, **arguments)
        except ToolError as exc:
            return self._record(tool, arguments, f"Error: {exc}", True)
        except (TypeError, ValueError, KeyError) as exc:
            return self._record(tool, arguments, f"Error: {tool}: bad arguments ({exc})", True)
        text = result if isinstance(result, str) else json.dumps(result, separators=(",", ":"))
        return self._record(tool, arguments, text, False)

    def _record(self, tool: str, arguments: dict[str, Any], result: str, error: bool) -> str:
        assert self.state is not None
        self.state.calls.append(CallRecord(tool, arguments, result, error))
        return result

    def leak_detector(self, task: Task) -> LeakDetector:
        return LeakDetector(task.secret_objects(), self.sinks, task.authorised)

    def leaked(self, task: Task, state: EpisodeState) -> bool:
        """Whether any executed call in this episode leaked one of the task's secrets."""
        detector = self.leak_detector(task)
        return any(detector.find(c.tool, c.arguments) for c in state.calls if not c.error)


@dataclass(frozen=True, kw_only=True)
class SimulatedWorld:
    """What every generated world has: people, products and orders of one seed, its users
    split 4:1 into ``train`` and ``test`` (`split_users`), so that no test task is about a
    person a training trace saw. Subclasses add their own tables; treat as read-only."""

    seed: int
    users: dict[str, dict[str, Any]]
    products: dict[str, dict[str, Any]]
    orders: dict[str, dict[str, Any]]
    train_users: list[str] = field(default_factory=list)
    test_users: list[str] = field(default_factory=list)

    def users_of(self, split: Split) -> list[str]:
        return self.train_users if split == "train" else self.test_users


R = TypeVar("R")


def fitting_user(
    world: SimulatedWorld,
    users: Sequence[str],
    rng: random.Random,
    build: Callable[[dict[str, Any]], R | None],
    family: str,
) -> tuple[dict[str, Any], R]:
    """The first user drawn from ``users`` (one ``rng.choice`` per try) that ``build``
    makes a task for (not None), with what it made: a family applies to some users only
    (one with a pending order, an unread e-mail), and retail and web draw alike."""
    for _ in range(100):
        user = world.users[rng.choice(users)]
        made = build(user)
        if made is not None:
            return user, made
    raise RuntimeError(f"no user fits task family '{family}'")  # pragma: no cover


def split_users(ids: Sequence[str]) -> dict[str, list[str]]:
    """``train_users`` and ``test_users`` for a world: every fifth user held out."""
    return {
        "train_users": [u for i, u in enumerate(ids) if i % 5 != 4],
        "test_users": [u for i, u in enumerate(ids) if i % 5 == 4],
    }


class SimulatedEnvironment(Environment):
    """An environment over a `SimulatedWorld`: tasks cycle through the families, each on a
    user of the split drawn from a random stream of (seed, split, task seed), so
    ``tasks(split, n, seed)`` is deterministic and prefix-stable (the first ``k`` of ``n``
    are ``tasks(split, k, seed)``), and a task id (``<env>-<split>-<seed>-<index>``) is
    enough to rebuild its task."""

    world: SimulatedWorld

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self._task_cache: dict[tuple[str, int], list[Task]] = {}

    @abstractmethod
    def _families(self) -> Sequence[str]:
        """The task families, in the order ``tasks`` cycles through them."""

    @abstractmethod
    def _make_task(
        self, family: str, users: list[str], rng: random.Random, split: Split, task_id: str
    ) -> Task:
        """A task of ``family`` for one of ``users`` (drawn from ``rng``)."""

    def tasks(self, split: Split, n: int, seed: int = 0) -> list[Task]:
        """``n`` tasks, cycling through the families, on users of ``split`` only."""
        check_split(split)
        users = self.world.users_of(split)
        rng = random.Random(f"{self.name}-tasks:{self.seed}:{split}:{seed}")
        families = self._families()
        return [
            self._make_task(
                families[i % len(families)], users, rng, split, f"{self.name}-{split}-{seed}-{i}"
            )
            for i in range(n)
        ]

    def task_by_id(self, task_id: str) -> Task:
        try:
            env_name, split, seed_text, index_text = task_id.rsplit("-", 3)
            seed, index = int(seed_text), int(index_text)
            if env_name != self.name or split not in ("train", "test") or index < 0:
                raise ValueError
        except ValueError:
            raise BackdoorlabError(f"'{task_id}' is not a {self.name} task id") from None
        # tasks(split, n, seed) is prefix-stable, so one growing list per (split, seed)
        cached = self._task_cache.setdefault((split, seed), [])
        if index >= len(cached):
            cached[:] = self.tasks(split, max(index + 1, 2 * len(cached)), seed=seed)  # type: ignore[arg-type]
        return cached[index]


ENVIRONMENTS: Registry[type[Environment]] = Registry(
    "environment",
    {
        "retail": "backdoorlab.envs.retail:RetailEnvironment",
        "web": "backdoorlab.envs.web:WebEnvironment",
        "agentdojo:workspace": "backdoorlab.envs.agentdojo:WorkspaceDojoEnvironment",
        "agentdojo:travel": "backdoorlab.envs.agentdojo:TravelDojoEnvironment",
        "agentdojo:banking": "backdoorlab.envs.agentdojo:BankingDojoEnvironment",
        "agentdojo:slack": "backdoorlab.envs.agentdojo:SlackDojoEnvironment",
    },
)
register_environment = ENVIRONMENTS.register()
"""Class decorator: make an environment available by its ``name``."""
EnvironmentName = ENVIRONMENTS.name_type()
"""A config field naming a registered environment."""


def make_env(name: str, seed: int = 0, **kwargs: Any) -> Environment:
    """Build a registered environment by name."""
    return ENVIRONMENTS.get(name)(seed=seed, **kwargs)
