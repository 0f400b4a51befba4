"""The attack registry: threat models by name, each a class with a pydantic config.

An attack declares what it consumes and what it produces, so a pipeline (the
experiment runner, the CLI) can place any attack without knowing it by name:

- `DatasetAttack` (traces → traces): rewrites a share of an existing clean dataset
  (T1 data poisoning);
- `CollectorAttack` (environment → traces): collects anew from an environment whose
  third-party content it controls (T2 environment poisoning);
- `ModelAttack` (model → model): trains and publishes a model that a victim will
  fine-tune (T4 fine-tuning-activated; T3 is T1 whose model is published).

Every output is an ordinary trace file or model directory, so everything downstream
— training, auditing, scanning — sees what a victim would.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

from backdoorlab.config import Config
from backdoorlab.registry import Registry
from backdoorlab.triggers import DEFAULT_TRIGGER  # noqa: F401  (attacks' default, re-exported)

Artifact = Literal["traces", "environment", "model"]
C = TypeVar("C", bound=Config)


@dataclass
class AttackResult:
    """What an attack produced: how many traces were written and how many are poisoned."""

    traces: int
    poisoned: int
    details: dict[str, Any]


class Attack(ABC, Generic[C]):
    """A threat model: its config class, and what it consumes and produces."""

    name: ClassVar[str]
    threat_model: ClassVar[str]
    config_class: ClassVar[type[Config]]
    consumes: ClassVar[Artifact]
    produces: ClassVar[Artifact]
    inherits: ClassVar[Mapping[str, str]] = {}
    """Config fields a pipeline fills from its own settings (field → the experiment's
    dotted path, e.g. ``{"n": "collect.n"}``): the attack works on the victim's
    environment and collection rather than on copies of them the user could let drift."""

    def __init__(self, config: C | None = None, **settings: Any) -> None:
        if config is not None and settings:
            raise TypeError("pass a config or settings, not both")
        self.config: C = config if config is not None else self.config_class(**settings)  # type: ignore[assignment]

    @classmethod
    def load_config(
        cls, settings: Mapping[str, Any] | None, where: str = "", prefix: str = ""
    ) -> C:
        """Validate ``settings`` (a YAML section, say) into this attack's config; errors
        name ``where`` and the field's path under ``prefix``."""
        return cls.config_class.load(settings, where, prefix)  # type: ignore[return-value]

    def trigger(self) -> tuple[str | None, str]:
        """The trigger phrase to test the backdoor with, and where to place it."""
        return getattr(self.config, "trigger", None), getattr(self.config, "placement", "user")

    @abstractmethod
    def run(self, output: str, **io: Any) -> AttackResult:
        """Write what the attack produces to ``output`` (the kind's typed method, untyped)."""


class DatasetAttack(Attack[C]):
    """Consumes a clean trace file, produces the poisoned one."""

    consumes = "traces"
    produces = "traces"

    @abstractmethod
    def transform(self, source: str | Path, output: str | Path) -> AttackResult:
        """Write the poisoned version of ``source`` to ``output``."""

    def is_noop(self) -> bool:
        """Whether the output would equal the input (the clean baseline of a sweep)."""
        return False

    def run(self, output: str, **io: Any) -> AttackResult:
        return self.transform(io["input"], output)


class CollectorAttack(Attack[C]):
    """Consumes an environment (its injection points), produces the traces collected."""

    consumes = "environment"
    produces = "traces"

    @abstractmethod
    def collect(self, output: str | Path) -> AttackResult:
        """Collect from the poisoned environment into ``output``."""

    def run(self, output: str, **io: Any) -> AttackResult:
        return self.collect(output)


class ModelAttack(Attack[C]):
    """Consumes a model, produces the model the attacker publishes."""

    consumes = "model"
    produces = "model"

    @abstractmethod
    def publish(
        self, output: str | Path, run_dir: str | Path | None = None, callbacks: Any = None
    ) -> AttackResult:
        """Write the published model to ``output``; ``run_dir`` keeps what the attacker
        knows (its data, checkpoints, provenance)."""

    def run(self, output: str, **io: Any) -> AttackResult:
        return self.publish(output, io.get("run_dir"), io.get("callbacks"))


ATTACKS: Registry[type[Attack[Any]]] = Registry(
    "attack",
    {
        "data-poisoning": "backdoorlab.attacks.data_poisoning:DataPoisoning",
        "env-poisoning": "backdoorlab.attacks.env_poisoning:EnvPoisoning",
        "finetune-activated": "backdoorlab.attacks.finetune_activated:FinetuneActivated",
    },
)
register_attack = ATTACKS.register()
"""Class decorator: make an attack available by its ``name``."""


def make_attack(name: str, **settings: Any) -> Attack[Any]:
    """Build a registered attack by name from its settings."""
    return ATTACKS.get(name)(**settings)
