"""`--filter`: the dataset without its flagged traces, plus a manifest of what went.

Kept lines are copied byte for byte (never re-serialised: a foreign dataset's field
order, spacing and unknown fields survive), streaming, to a temporary file renamed into
place. The input is re-hashed while copied and must match the audited bytes — a file
that changed in between would make the removed indices meaningless.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from backdoorlab.defenses.audit.findings import severity_rank
from backdoorlab.defenses.audit.reader import HashingReader, is_blank, iter_raw_lines
from backdoorlab.defenses.audit.report import AuditReport
from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import file_sha256
from backdoorlab.traces import atomic_writer


def manifest_path(output: str | os.PathLike[str]) -> Path:
    """``clean.jsonl`` → ``clean.jsonl.manifest.json``."""
    output = Path(output)
    return output.with_name(output.name + ".manifest.json")


def write_filtered(
    report: AuditReport, output: str | os.PathLike[str], min_severity: str = "medium"
) -> dict[str, Any]:
    """Copy the audited file without traces that have a finding at ``min_severity`` or
    above; write the manifest beside it and return it."""
    source, output = Path(report.path), Path(output)
    if source.resolve() == output.resolve():
        raise BackdoorlabError(f"{output}: --filter must not overwrite the audited file")
    flagged = report.flagged(min_severity)
    kept = 0
    with open(source, "rb") as handle, atomic_writer(output) as text_out:
        reader = HashingReader(handle)
        out = text_out.buffer  # type: ignore[attr-defined]  (bytes: lines are copied verbatim)
        index = 0
        for _, raw in iter_raw_lines(source, reader):
            if is_blank(raw):
                continue
            if index not in flagged:
                out.write(raw if raw.endswith(b"\n") else raw + b"\n")
                kept += 1
            index += 1
        while reader.read(1 << 20):
            pass
        if reader.sha256.hexdigest() != report.sha256:
            raise BackdoorlabError(f"{source}: the file changed since it was audited")
    removed = []
    for trace_index, findings in sorted(flagged.items()):
        worst = max(findings, key=lambda f: severity_rank(f.severity))
        removed.append(
            {
                "index": trace_index,
                "line": worst.line,
                "trace_id": worst.trace_id,
                "severity": worst.severity,
                "detectors": sorted({f.detector for f in findings}),
                "why": sorted({f.summary for f in findings})[:5],
            }
        )
    manifest = {
        "input": str(source),
        "input_sha256": report.sha256,
        "output": str(output),
        "output_sha256": file_sha256(output),
        "traces_in": report.traces,
        "traces_kept": kept,
        "traces_removed": len(removed),
        "removed_at_or_above": min_severity,
        "detectors": report.detectors,
        "removed": removed,
    }
    with atomic_writer(manifest_path(output)) as handle:
        json.dump(manifest, handle, indent=2)
        handle.write("\n")
    return manifest
