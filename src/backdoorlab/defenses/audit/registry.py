"""The detector protocol and registry: detectors by name, each a small class.

A detector sees every trace once, in file order (`observe`), and may add findings
when the file is done (`finish`). Streaming detectors keep nothing per trace; a
detector that needs the whole file's statistics (trigger mining) asks for further
reads of the file (`next_read`, `rescan`) rather than keep anything per trace.
Detectors run in dependency order, and each sees the findings that earlier detectors
made on the same trace, which is how trigger mining learns which traces dataflow
flagged.

Detectors that load a model (``outliers``, ``judge``) set ``default = False``: they run
only when named. A detector's options are a `backdoorlab.config.Config` (its
``config_class``; None: it takes none) and travel in ``AuditOptions.extra[name]`` as a
dict or that config; `parse_option_strings` turns the CLI's
``outliers.expected_rate=0.02`` form into the dicts and `check_options` validates them
all, for every detector named, before any trace is read.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import yaml

from backdoorlab.config import Config, ConfigError
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
    logs: bool = False
    """The input is the audit's own bundle of coding agents' logs (`claude_sessions`): a
    forked rollout's copied history is then reported once (`located.own`)."""


@dataclass(frozen=True)
class Shift:
    """Where a shard starts in the concatenated dataset: its first trace's index and the
    number of lines before it (a shard's records are numbered from 0 and line 1)."""

    index: int
    line: int


class Detector(ABC):
    """Base class of every audit detector; see the module docstring.

    Sharded audits (`backdoorlab.defenses.audit.shards`) run a copy of each detector per
    shard and read: the copy (``shard`` True) sees only its shard's traces, numbered from
    0, and hands back that read's statistics (`shard_part`); the coordinator's detector
    folds them together in shard order (`merge`) and then decides as in one process
    (`next_read`, `finish`). A detector that overrides none of `next_read`, `finish` and
    `summary` keeps nothing across traces, so it shards as it is.
    """

    name: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""
    default: ClassVar[bool] = True  # run when no detectors are named
    config_class: ClassVar[type[Config] | None] = None
    """The detector's options (``AuditOptions.extra[name]``); None: it takes none."""

    def __init__(self, options: AuditOptions) -> None:
        self.options = options
        self.shard = False  # a copy auditing one shard: bounds that depend on others wait

    @classmethod
    def shardable(cls) -> bool:
        """Whether `merge` gives exactly the one-process result (see the class docstring)."""
        if cls.merge is not Detector.merge:
            return True
        return all(
            getattr(cls, method) is getattr(Detector, method)
            for method in ("next_read", "finish", "summary")
        )

    def shard_part(self) -> Any:
        """In a shard's copy, after its read: the statistics `merge` needs (plain data)."""
        return None

    def merge(self, parts: Sequence[Any], shifts: Sequence[Shift]) -> None:
        """Fold the shards' `shard_part` results of the read just done into this detector, in
        shard order; ``shifts[i]`` places shard i's local trace indices and lines."""
        if not self.shardable():
            raise NotImplementedError(f"{self.name} cannot audit shards")

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
    """The detectors ``names`` need, in order, once every option is checked."""
    order = resolve_detectors(names)
    check_options(options.extra, order)
    return [DETECTORS.get(name)(options) for name in order]


_MODEL_LOADING = frozenset({"judge", "outliers"})
"""The built-ins with ``default = False``, known without importing them (their modules
pull in numpy and the model loaders, start-up a plain ``audit`` should not pay);
test_audit_command checks this against the classes."""


def default_detectors() -> list[str]:
    """The detectors run when none are named: those with ``default = True``."""
    return [
        name
        for name in DETECTORS.names()
        if name not in _MODEL_LOADING and DETECTORS.get(name).default
    ]


C = TypeVar("C", bound=Config)


def detector_config(value: Any, cls: type[C], detector: str) -> C:
    """A detector's config from an instance, a mapping (unknown keys are errors, all
    named) or None (the defaults)."""
    if value is None:
        return cls()
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(f"{detector}: options must be a {cls.__name__} or a mapping")
    known = set(cls.model_fields) | set(cls.aliases)
    unknown = sorted(str(key) for key in value if key not in known)
    if unknown:
        listed = ", ".join(f"'{key}'" for key in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise ConfigError(
            f"{detector}: unknown option{plural} {listed} (known: {', '.join(sorted(known))})"
        )
    return cls.load(value, where=f"{detector} options")


def check_options(extra: Mapping[str, Any], run: Sequence[str] | None = None) -> None:
    """Every detector's options validated, before any work: an unknown detector, an
    option of a detector that takes none or that does not ``run`` (the detectors that
    will run, when known), an unknown option or a bad value raises one line naming it."""
    for name, value in extra.items():
        cls = DETECTORS.get(name)
        given = ", ".join(f"'{key}'" for key in value) if isinstance(value, Mapping) else ""
        if cls.config_class is None:
            if value:
                raise ConfigError(f"{name}: takes no options (given: {given})")
            continue
        detector_config(value, cls.config_class, name)
        if run is not None and name not in run and value:
            raise ConfigError(
                f"{name}: options given ({given}) but the detector does not run "
                f"(name it in --detectors)"
            )


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
