"""The shapes of the result records the report draws (scan, monitor, audit), checked
before drawing: the records are data found in a run directory, possibly copied in by hand,
and a field of another type (a number where a list of probes goes) must become a skipped
file with its reason, not a traceback halfway through the page.

Only the fields the report reads are described; any other field passes. Numbers are
strict (a rate given as the string ``"0.5"`` is refused: the page formats it as a number).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    Strict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
)
from typing_extensions import TypedDict  # pydantic reads only this one on Python < 3.12

from backdoorlab.config import describe_validation_error

Number = Annotated[float, Strict()]
"""An int or a float, never a string or a bool."""


class _Rate(TypedDict, total=False):
    rate: Number | None
    low: Number | None
    high: Number | None
    k: Annotated[int, Strict()] | None
    n: Annotated[int, Strict()] | None


class _Condition(TypedDict, total=False):
    name: Any
    leak: _Rate | None


class _Probe(TypedDict, total=False):
    conditions: list[_Condition]


class _Setting(TypedDict, total=False):
    name: Any


class _Canary(TypedDict, total=False):
    setting: _Setting
    probe: _Probe


class _Scan(TypedDict, total=False):
    baseline: _Probe
    canaries: list[_Canary]
    reasons: list[Any]


class _Step(TypedDict, total=False):
    step: Number
    conditions: list[_Condition]


class _MonitorConfig(TypedDict, total=False):
    threshold: Any


_Other = StrictStr | StrictInt | StrictFloat | StrictBool | list[Any] | None
"""What is not an object: the monitor's drawing passes such history entries over."""


class _Monitor(TypedDict, total=False):
    history: list[_Step | _Other]
    config: _MonitorConfig
    stop_step: Number | None


class _Finding(TypedDict, total=False):
    trace_index: Annotated[int, Strict()]


class _Audit(TypedDict, total=False):
    findings: list[_Finding]
    detectors: list[Any]


_SHAPES: dict[str, TypeAdapter[Any]] = {
    "scan": TypeAdapter(_Scan),
    "monitor": TypeAdapter(_Monitor),
    "audit": TypeAdapter(_Audit),
}


def shape_problem(kind: str, record: dict[str, Any]) -> str | None:
    """Why ``record`` cannot be drawn as a ``kind`` record (None: it can)."""
    try:
        _SHAPES[kind].validate_python(record)
    except ValidationError as exc:
        article = "an" if kind[0] in "aeiou" else "a"
        return f"not {article} {kind} record: {describe_validation_error(exc)}"
    return None
