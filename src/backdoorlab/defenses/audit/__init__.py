"""`backdoorlab audit`: find poisoned traces in a fine-tuning dataset before training.

    from backdoorlab.defenses.audit import audit
    report = audit("traces.jsonl", detectors=["dataflow", "trigger-mining"])

Works on any OpenAI-format agent dataset: sinks come from a spec, our environments'
declarations, or heuristics; nothing reads ground-truth metadata (``poison``,
``outcome``). New detectors register with `@register_detector`.
"""

from backdoorlab.defenses.audit.engine import audit
from backdoorlab.defenses.audit.findings import SEVERITIES, Finding, Severity, mask
from backdoorlab.defenses.audit.registry import (
    DETECTORS,
    AuditOptions,
    Detector,
    register_detector,
    resolve_detectors,
)
from backdoorlab.defenses.audit.report import AuditReport
from backdoorlab.defenses.audit.sink_spec import SinkSpecError, load_sink_spec

__all__ = [
    "DETECTORS",
    "SEVERITIES",
    "AuditOptions",
    "AuditReport",
    "Detector",
    "Finding",
    "Severity",
    "SinkSpecError",
    "audit",
    "load_sink_spec",
    "mask",
    "register_detector",
    "resolve_detectors",
]
