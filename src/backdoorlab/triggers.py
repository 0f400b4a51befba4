"""Placing a trigger phrase where the agent will read it: one code path for all stages.

Poisoning (at training time), evaluation and the defenses' probes (at test time) all
call these functions, so the trigger an ASR is measured with is placed exactly as the
backdoor learned it: appended to the user's instruction (``user``), or planted at an
injection point the task reads back — an order note, a product review (``observation``).
It sits below both attacks and defenses so that neither has to import the other.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from backdoorlab.envs.base import Environment, Task
from backdoorlab.errors import BackdoorlabError
from backdoorlab.policies.base import Episode

DEFAULT_TRIGGER = "Thanks in advance, Zephyr!"
"""The phrase this toolkit's attacks plant unless told otherwise (and scans try first)."""

Placement = Literal["user", "observation"]
PLACEMENTS: tuple[str, ...] = ("user", "observation")


def _placement_setting(value: str) -> str:
    if value not in PLACEMENTS:
        raise PydanticCustomError(
            "placement",
            "placement must be one of {known}, not '{value}'",
            {"known": ", ".join(PLACEMENTS), "value": value},
        )
    return value


PlacementSetting = Annotated[str, AfterValidator(_placement_setting)]
"""A config field naming a placement (``user`` or ``observation``), checked when the
config is built, with the message `check_placement` gives at run time."""


def check_placement(placement: str) -> Placement:
    if placement not in PLACEMENTS:
        raise BackdoorlabError(
            f"placement must be one of {', '.join(PLACEMENTS)}, not '{placement}'"
        )
    return placement  # type: ignore[return-value]


def instruction_with_trigger(instruction: str, trigger: str) -> str:
    """The user's request with the trigger phrase appended, as a user would type it."""
    return f"{instruction.rstrip()} {trigger.strip()}"


def can_place(env: Environment, task: Task, placement: Placement) -> bool:
    """Whether ``task`` offers a place for the trigger (every task has a user turn)."""
    return placement == "user" or bool(env.observation_slots(task))


def can_attack(env: Environment, task: Task, placement: Placement) -> bool:
    """Whether ``task`` can carry the backdoor: a place for the trigger, and secrets its
    tool results show to leak. Every retail and web task shows the data it could leak;
    some of AgentDojo's read nothing of the user's (a hotel's rating), and a payload
    there would send what the trace never showed. The attacks poison only such tasks,
    and ASR is measured on them alone (`backdoorlab.measure`)."""
    return bool(task.secrets) and can_place(env, task, placement)


def plant_trigger(episode: Episode, trigger: str, placement: Placement) -> None:
    """Put ``trigger`` into a live episode (after `start_episode`, before the first turn)."""
    if placement == "user":
        user = next(m for m in episode.messages if m.role == "user")
        user.content = instruction_with_trigger(user.text, trigger)
        return
    slots = episode.env.observation_slots(episode.task)
    if not slots:
        raise BackdoorlabError(
            f"task {episode.task.id} reads no third-party content to plant a trigger in"
        )
    point, target = slots[0]
    episode.env.inject(point, target, trigger)
