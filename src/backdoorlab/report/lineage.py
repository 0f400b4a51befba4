"""The report's lineage table: one row per lineage record found in the run directory.

A record is an in-toto Statement with the SLSA provenance predicate (what
`backdoorlab.provenance` writes beside each artifact: ``*.intoto.json``), a DSSE
envelope, or an older ``provenance.json``. The row says what the record describes
(its subjects), what built it (the stage kind) and from which inputs, each input with
the start of its digest, so a reader can follow an artifact back to its roots; the
record itself is one click away.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LineageRow:
    name: str
    kind: str
    subjects: str
    inputs: list[str]
    finished: str
    text: str


def lineage_rows(records: list[tuple[str, dict[str, Any]]]) -> list[LineageRow]:
    """A row per record, in file-name order; fields a record lacks are left empty."""
    from backdoorlab.provenance.envelope import is_envelope, payload

    rows = []
    for name, stored in sorted(records, key=lambda item: item[0]):
        record = (payload(stored) or {}) if is_envelope(stored) else stored  # signed: its Statement
        predicate = record.get("predicate") if isinstance(record.get("predicate"), dict) else {}
        build = _dict(predicate.get("buildDefinition"))
        run = _dict(predicate.get("runDetails"))
        kind = _dict(build.get("externalParameters")).get("kind") or record.get("predicateType")
        subjects = [_dict(s).get("name") for s in _list(record.get("subject"))]
        shown = ", ".join(str(s) for s in subjects[:3])
        if len(subjects) > 3:
            shown += f" … ({len(subjects)} files)"
        inputs = []
        for dependency in _list(build.get("resolvedDependencies")):
            dependency = _dict(dependency)
            digest = str(_dict(dependency.get("digest")).get("sha256", ""))[:12]
            label = str(dependency.get("name", "?"))
            uri = str(dependency.get("uri", ""))
            inputs.append(f"{label}: {uri}" + (f" (sha256 {digest}…)" if digest else ""))
        rows.append(
            LineageRow(
                name=name,
                kind=str(kind or "") + (" (signed, DSSE)" if record is not stored else ""),
                subjects=shown,
                inputs=inputs,
                finished=str(_dict(run.get("metadata")).get("finishedOn", "")),
                text=json.dumps(record, indent=2),
            )
        )
    return rows


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
