"""`audit()`: stream a trace file through a list of detectors.

Memory stays constant in the file's size: one trace is parsed, shown to every detector
in dependency order (each sees the findings the earlier ones made on it), and dropped.
Only the detectors' own compact state remains, and the findings, which go to a
`FindingLog` (past a few thousand, into a temporary file). A detector that needs
whole-file statistics before it can judge a trace asks for another read of the file
(`Detector.next_read`); the bytes must hash the same on every read.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from backdoorlab.defenses.audit.finding_log import FindingLog
from backdoorlab.defenses.audit.findings import Finding
from backdoorlab.defenses.audit.located import TracePlaces, located, own
from backdoorlab.defenses.audit.reader import ProgressFn, TraceStream
from backdoorlab.defenses.audit.registry import (
    AuditOptions,
    Detector,
    default_detectors,
    make_detectors,
)
from backdoorlab.defenses.audit.report import AuditReport
from backdoorlab.defenses.audit.sink_spec import load_sink_spec
from backdoorlab.errors import TraceFormatError
from backdoorlab.leaks import Sink

SinksArg = str | os.PathLike[str] | Sequence[Sink] | None


def _sinks(sinks: SinksArg) -> tuple[list[Sink] | None, str]:
    if sinks is None:
        return None, "environment declarations, else heuristics"
    if isinstance(sinks, str | os.PathLike):
        return load_sink_spec(sinks), f"spec {Path(sinks)}"
    return list(sinks), "given sinks"


def audit(
    path: str | os.PathLike[str],
    detectors: Sequence[str] | None = None,
    sinks: SinksArg = None,
    *,
    progress: ProgressFn | None = None,
    options: AuditOptions | None = None,
) -> AuditReport:
    """Audit a trace file (JSONL or .jsonl.gz) and return the findings.

    ``detectors``: names (default: those with ``default = True``, which leaves out the
    model-loading outliers and judge); requirements are added (trigger mining needs
    dataflow's flags). ``sinks``: a sink-spec YAML path, or `Sink`s, or
    None to use environment declarations where ``metadata.env`` names a known
    environment and heuristics elsewhere. ``progress(bytes_read, traces, read)`` is called
    as the file streams (``read`` counts from 1; trigger mining reads it up to 3
    times). A malformed line raises `TraceFormatError` naming file and line.
    """
    started = time.perf_counter()
    spec, sinks_label = _sinks(sinks)
    opts = replace(options or AuditOptions(), sinks=spec, source=str(path))
    chosen = make_detectors(list(detectors) if detectors is not None else default_detectors(), opts)
    stream = TraceStream(path, progress)
    findings = FindingLog()
    try:
        _read(path, chosen, stream, findings, opts.logs)
    except BaseException:  # the temporary file goes now, not with the traceback
        findings.close()
        raise
    return AuditReport(
        path=str(path),
        sha256=stream.sha256,
        traces=stream.traces,
        detectors=[d.name for d in chosen],
        sinks=sinks_label,
        findings=findings,
        summaries={d.name: d.summary() for d in chosen if d.summary()},
        seconds=time.perf_counter() - started,
        skipped=dict(stream.skipped.most_common()) or None,
    )


def _read(
    path: str | os.PathLike[str],
    chosen: list[Detector],
    stream: TraceStream,
    findings: FindingLog,
    logs: bool = False,
) -> None:
    """Every read of the file the detectors ask for; their findings into ``findings``,
    whole-file ones located as a trace's are (`TracePlaces`)."""
    places = TracePlaces()
    for record in stream:
        this_trace: list[Finding] = []
        for detector in chosen:
            this_trace.extend(own(detector.observe(record, this_trace), record, logs))
        if this_trace:
            findings.add_trace(located(this_trace, record))
        places.keep(record)
    digest = stream.sha256
    while again := [d for d in chosen if d.next_read()]:
        for record in stream:
            for detector in again:
                detector.rescan(record)
        if stream.sha256 != digest:
            raise TraceFormatError(
                f"{path}: the file changed while it was audited; audit a copy nobody writes to"
            )
    for detector in chosen:
        findings.add_late(places.locate(detector.finish(), logs))
