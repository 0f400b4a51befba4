"""The attack registry: threat models by name, each a small class with a config.

An attack turns a collection into a poisoned one. Data poisoning (T1) rewrites a
share of an existing clean dataset; environment poisoning (T2) collects anew with
planted content. Both write ordinary trace files, so everything downstream — training,
auditing — sees what a victim would.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from backdoorlab.errors import UnknownNameError
from backdoorlab.triggers import DEFAULT_TRIGGER  # noqa: F401  (attacks' default, re-exported)


@dataclass
class AttackResult:
    """What an attack produced: how many traces were written and how many are poisoned."""

    traces: int
    poisoned: int
    details: dict[str, Any]


class Attack(ABC):
    name: ClassVar[str]
    threat_model: ClassVar[str]

    @abstractmethod
    def run(self, output: str, **io: Any) -> AttackResult:
        """Write the poisoned dataset to ``output``."""


ATTACKS: dict[str, type[Attack]] = {}


def register_attack(cls: type[Attack]) -> type[Attack]:
    ATTACKS[cls.name] = cls
    return cls


def make_attack(name: str, **config: Any) -> Attack:
    import backdoorlab.attacks.data_poisoning  # noqa: F401  (registers)
    import backdoorlab.attacks.env_poisoning  # noqa: F401
    import backdoorlab.attacks.finetune_activated  # noqa: F401

    try:
        cls = ATTACKS[name]
    except KeyError:
        known = ", ".join(sorted(ATTACKS))
        raise UnknownNameError(f"unknown attack '{name}' (known: {known})") from None
    return cls(**config)
