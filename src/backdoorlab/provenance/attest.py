"""Verdicts as attestations: what an audit or a scan concluded, bound to the content.

An attestation is an in-toto Statement whose subject is the artifact by content digest
(`layout.artifact_digest`) and whose predicate is the verdict: the detectors and settings
that ran, pass or fail, the worst finding, and the report by digest. It sits beside the
artifact (`layout.attestation_path`) and outside its signature, so a consumer's scan can
attest a publisher's signed model; a later gate accepts it only while the artifact's
content still has the digest it names — a dataset edited after its audit has an audit
for other content, which counts as none.

Given the attester's key (``audit --sign-key``), the Statement is written as a DSSE
envelope signed by it (`envelope`); a policy that names trusted attesters accepts only
those. Unsigned, an attestation is a claim anyone who can write beside the artifact could
forge.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backdoorlab.digests import file_sha256
from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import atomic_writer
from backdoorlab.provenance import envelope
from backdoorlab.provenance.code import code_identity
from backdoorlab.provenance.layout import artifact_digest, attestation_path, attestation_paths
from backdoorlab.provenance.lineage import (
    STATEMENT_TYPE,
    check,
    read_document,
    read_statement,
    seal_file,
)

VERDICT = "urn:backdoorlab:verdict:v1"
VERDICTS = ("pass", "fail")


def attest(
    artifact: str | os.PathLike[str],
    kind: str,
    verdict: str,
    *,
    result: Mapping[str, Any] | None = None,
    report: str | os.PathLike[str] | None = None,
    key: Path | None = None,
) -> Path | None:
    """Attach ``kind``'s ``verdict`` (pass/fail) on ``artifact``, signed with the private
    ``key`` if given; the one call a verdict-giving command makes. None (nothing written)
    for stdin or a missing artifact."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, not {verdict!r}")
    path = Path(artifact)
    if os.fspath(artifact) == "-" or not path.exists():
        return None
    predicate: dict[str, Any] = {
        "kind": kind,
        "verdict": verdict,
        "result": json.loads(json.dumps(dict(result or {}), default=str)),
        "builder": code_identity(),
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if report is not None and os.fspath(report) != "-" and Path(report).is_file():
        predicate["report"] = {
            "uri": Path(report).resolve().as_uri(),
            "digest": {"sha256": file_sha256(report)},
        }
    record = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": path.name, "digest": {"sha256": artifact_digest(path)}}],
        "predicateType": VERDICT,
        "predicate": predicate,
    }
    check(record)
    target = attestation_path(path, kind)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = envelope.seal(record, key) if key is not None else record
    with atomic_writer(target) as handle:
        json.dump(document, handle, indent=2)
    return target


def sign_attestation(artifact: Path, kind: str, key: Path) -> Path:
    """Sign, in place, the ``kind`` verdict a command has just attached to ``artifact``:
    how ``audit``/``scan --sign-key`` sign without the detectors knowing about keys. Only a
    verdict on the artifact's current content is signed."""
    path = attestation_path(Path(artifact), kind)
    record = read_statement(path)
    if record is None or record.get("predicateType") != VERDICT:
        raise BackdoorlabError(f"{path}: no {kind} attestation to sign")
    subject = ((record.get("subject") or [{}])[0].get("digest") or {}).get("sha256")
    if subject != artifact_digest(Path(artifact)):
        raise BackdoorlabError(f"{path}: its {kind} verdict is for other content; not signed")
    return seal_file(path, key)


def sign_verdict(
    artifact: str | os.PathLike[str],
    kind: str,
    key: Path,
    outputs: Sequence[str | os.PathLike[str] | None] = (),
) -> list[Path]:
    """What ``--sign-key`` does after a verdict-giving command: its verdict on
    ``artifact`` signed as a DSSE envelope, and each output file it wrote (a report, a
    filtered dataset) signed with model-signing, its lineage with it. The paths written."""
    from backdoorlab.provenance.signing import sign

    written = [sign_attestation(Path(artifact), kind, key)]
    for output in outputs:
        if output is not None and os.fspath(output) != "-" and Path(output).is_file():
            written.append(sign(Path(output), key))
    return written


@dataclass
class Attestation:
    """One verdict found beside an artifact, checked against its current content."""

    path: Path
    kind: str
    verdict: str
    current: bool
    """Its subject digest is the artifact's content digest now."""
    predicate: dict[str, Any]
    document: dict[str, Any] | None = None
    """The file as stored: a bare Statement, or the DSSE envelope around it."""

    def seal(self, public_keys: Sequence[Path] | None = None) -> envelope.Seal:
        """Who signed it, checked against ``public_keys`` (None: not checked)."""
        return envelope.check(self.document, public_keys)


def attestations(artifact: Path, digest: str | None = None) -> list[Attestation]:
    """The verdicts attached to ``artifact``; ``digest``: its content digest if known."""
    digest = digest or artifact_digest(artifact)
    found = []
    for path in attestation_paths(artifact):
        document = read_document(path)
        record = envelope.payload(document) if envelope.is_envelope(document) else document
        if record is None or record.get("predicateType") != VERDICT:
            continue
        predicate = record.get("predicate") or {}
        subjects = record.get("subject") or [{}]
        named = (subjects[0].get("digest") or {}).get("sha256")
        found.append(
            Attestation(
                path,
                str(predicate.get("kind", "?")),
                str(predicate.get("verdict", "?")),
                named == digest,
                predicate,
                document,
            )
        )
    return found
