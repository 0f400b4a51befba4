"""The detector protocol and registry: detectors by name, each a small class.

A detector sees every trace once, in file order (`observe`), and may add findings
when the file is done (`finish`). Streaming detectors keep nothing per trace; a
detector that needs the whole file's statistics (trigger mining) asks for further
reads of the file (`next_read`, `rescan`) rather than keep anything per trace.
Detectors run in dependency order, and each sees the findings that earlier detectors
made on the same trace, which is how trigger mining learns which traces dataflow
flagged.

Detectors that load a model (``outliers``, ``judge``) set ``default = False``: they run
only when named. Their options travel in ``AuditOptions.extra[name]`` as a dict or the
detector's config dataclass; `parse_option_strings` turns the CLI's
``outliers.expected_rate=0.02`` form into that.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

import yaml

from backdoorlab.defenses.audit.findings import Finding
from backdoorlab.defenses.audit.reader import TraceRecord
from backdoorlab.errors import BackdoorlabError, UnknownNameError
from backdoorlab.leaks import Sink
from backdoorlab.registry import Registry


@dataclass
class AuditOptions:
    """What every detector may consult: the user's sink declarations, if any, and
    per-detector options in ``extra`` (``{"outliers": {"expected_rate": 0.02}}``)."""

    sinks: list[Sink] | None = None
    source: str = "<traces>"
    extra: dict[str, Any] = field(default_factory=dict)


class Detector(ABC):
    """Base class of every audit detector; see the module docstring."""

    name: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    default: ClassVar[bool] = True  # run when no detectors are named

    def __init__(self, options: AuditOptions) -> None:
        self.options = options

    @abstractmethod
    def observe(self, record: TraceRecord, earlier: Sequence[Finding]) -> list[Finding]:
        """Findings on one trace; ``earlier`` are this trace's findings from prior detectors."""

    def next_read(self) -> bool:
        """Called after each read of the file; True asks to see every trace again.

        A detector whose statistics need the whole file (trigger mining) reads it again
        instead of keeping every trace's features: memory then follows what it is
        looking for, not the file's size. The engine re-reads the same bytes (it checks
        their hash) and gives each trace to `rescan`.
        """
        return False

    def rescan(self, record: TraceRecord) -> None:
        """One trace of a further read that `next_read` asked for."""
        raise NotImplementedError(f"{self.name} asked for another read but cannot rescan")

    def finish(self) -> list[Finding]:
        """Findings that need the whole file (called once, after the last read)."""
        return []

    def summary(self) -> dict[str, Any]:
        """Detector-specific results for the report (e.g. mined triggers)."""
        return {}


DETECTORS: Registry[type[Detector]] = Registry(
    "detector",
    {
        "dataflow": "backdoorlab.defenses.audit.dataflow:DataflowDetector",
        "judge": "backdoorlab.defenses.audit.judge:JudgeDetector",
        "outliers": "backdoorlab.defenses.audit.outliers:OutliersDetector",
        "trigger-mining": "backdoorlab.defenses.audit.trigger_mining:TriggerMiningDetector",
    },
)
register_detector = DETECTORS.register()
"""Class decorator: make a detector available to `audit` by its ``name``."""


def resolve_detectors(names: Sequence[str]) -> list[str]:
    """``names`` plus what they require, each once, requirements first."""
    order: list[str] = []

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in order:
            return
        detector = DETECTORS.get(name)
        if name in chain:
            raise UnknownNameError(f"detector '{name}' requires itself")
        for dependency in detector.requires:
            visit(dependency, (*chain, name))
        order.append(name)

    for name in names:
        visit(name.strip(), ())
    return order


def make_detectors(names: Sequence[str], options: AuditOptions) -> list[Detector]:
    return [DETECTORS.get(name)(options) for name in resolve_detectors(names)]


def default_detectors() -> list[str]:
    """The detectors run when none are named: those with ``default = True``."""
    return [name for name, cls in DETECTORS.items() if cls.default]


C = TypeVar("C")


def detector_config(value: Any, cls: type[C], detector: str) -> C:
    """A detector's config dataclass from an instance, a dict (unknown keys are errors)
    or None (the defaults)."""
    if value is None:
        return cls()
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise BackdoorlabError(f"{detector}: options must be a {cls.__name__} or a dict")
    known = sorted(f.name for f in fields(cls))  # type: ignore[arg-type]
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise BackdoorlabError(
            f"{detector}: unknown option '{unknown[0]}' (known: {', '.join(known)})"
        )
    return cls(**value)


def parse_option_strings(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``["outliers.expected_rate=0.02", "judge.model=tiny"]`` → options per detector.

    Values are read as YAML scalars (``0.02`` a float, ``true`` a bool, ``lm`` a string);
    each detector checks its own names and types when it starts.
    """
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        detector, dot, option = key.strip().partition(".")
        if not sep or not dot or not detector or not option:
            raise BackdoorlabError(
                f"--option '{item}': expected DETECTOR.NAME=VALUE, e.g. outliers.expected_rate=0.02"
            )
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        out.setdefault(detector, {})[option.strip()] = value
    return out
