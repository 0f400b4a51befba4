"""The detector protocol and registry: detectors by name, each a small class.

A detector sees every trace once, in file order (`observe`), and may add findings
when the file is done (`finish`). Streaming detectors keep nothing per trace; a
detector that needs the whole file's statistics (trigger mining) keeps a compact
summary, never the traces. Detectors run in dependency order, and each sees the
findings that earlier detectors made on the same trace, which is how trigger mining
learns which traces dataflow flagged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from backdoorlab.defenses.audit.findings import Finding
from backdoorlab.defenses.audit.reader import TraceRecord
from backdoorlab.errors import UnknownNameError
from backdoorlab.leaks import Sink


@dataclass
class AuditOptions:
    """What every detector may consult: the user's sink declarations, if any."""

    sinks: list[Sink] | None = None
    source: str = "<traces>"
    extra: dict[str, Any] = field(default_factory=dict)


class Detector(ABC):
    """Base class of every audit detector; see the module docstring."""

    name: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""

    def __init__(self, options: AuditOptions) -> None:
        self.options = options

    @abstractmethod
    def observe(self, record: TraceRecord, earlier: Sequence[Finding]) -> list[Finding]:
        """Findings on one trace; ``earlier`` are this trace's findings from prior detectors."""

    def finish(self) -> list[Finding]:
        """Findings that need the whole file (called once, after the last trace)."""
        return []

    def summary(self) -> dict[str, Any]:
        """Detector-specific results for the report (e.g. mined triggers)."""
        return {}


DETECTORS: dict[str, type[Detector]] = {}


def register_detector(cls: type[Detector]) -> type[Detector]:
    """Class decorator: make a detector available to `audit` by its ``name``."""
    DETECTORS[cls.name] = cls
    return cls


def _load_builtins() -> None:
    import backdoorlab.defenses.audit.dataflow  # noqa: F401  (registers)
    import backdoorlab.defenses.audit.trigger_mining  # noqa: F401


def resolve_detectors(names: Sequence[str]) -> list[str]:
    """``names`` plus what they require, each once, requirements first."""
    _load_builtins()
    order: list[str] = []

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in order:
            return
        if name not in DETECTORS:
            known = ", ".join(sorted(DETECTORS))
            raise UnknownNameError(f"unknown detector '{name}' (known: {known})")
        if name in chain:
            raise UnknownNameError(f"detector '{name}' requires itself")
        for dependency in DETECTORS[name].requires:
            visit(dependency, (*chain, name))
        order.append(name)

    for name in names:
        visit(name.strip(), ())
    return order


def make_detectors(names: Sequence[str], options: AuditOptions) -> list[Detector]:
    return [DETECTORS[name](options) for name in resolve_detectors(names)]


def default_detectors() -> list[str]:
    _load_builtins()
    return list(DETECTORS)
