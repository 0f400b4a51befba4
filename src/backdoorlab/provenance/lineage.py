"""Lineage records: an in-toto Statement with the SLSA provenance v1 predicate per artifact.

What it says: the artifact's files by digest (subjects); what built it (builder:
backdoorlab, its version and source digest, the stage kind as build type); from what
(resolved dependencies: each input artifact by path and content digest, and the code);
with which resolved config (external parameters); and how untrusted inputs were loaded
(internal parameters: safetensors only, no pickle, no remote code — the toolkit's rule).

The JSON is written as built (a dict), so integers in a config stay integers; the
in-toto-attestation library checks it (Statement and SLSA Provenance protobufs parse it
strictly, ``Statement.validate``) before it is written, so a malformed record is a bug
found at once, not a file a verifier rejects later.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import atomic_writer, check_regular_file
from backdoorlab.provenance import envelope
from backdoorlab.provenance.code import code_digest, code_version
from backdoorlab.provenance.layout import artifact_digest, combine, lineage_path, manifest
from backdoorlab.traces import load_json

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
SLSA_PROVENANCE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "urn:backdoorlab:stage:v1"
BUILDER_ID = "urn:backdoorlab:builder"
LOADING = {"weights": "safetensors only", "pickle": False, "remote_code": False}
"""How backdoorlab loads untrusted artifacts (`backdoorlab.models.loading`), recorded."""

Input = Path | str
"""An input artifact: a path (recorded with its digest) or a name with no local content
(a builtin model's name), recorded as a root that nothing can verify."""


def describe(name: str, artifact: Input) -> dict[str, Any]:
    """An in-toto ResourceDescriptor for an input: its path and content digest."""
    path = Path(artifact)
    if path.is_file() or path.is_dir():
        return {
            "name": name,
            "uri": path.resolve().as_uri(),
            "digest": {"sha256": artifact_digest(path)},
        }
    # a builtin model's name, or a stream (``-``, a named pipe): no content to point at
    return {"name": name, "uri": f"urn:backdoorlab:name:{artifact}"}


def statement(
    artifact: Path,
    kind: str,
    *,
    inputs: Mapping[str, Input] | None = None,
    config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The lineage Statement of ``artifact`` (not written)."""
    files = manifest(artifact)
    subjects = [{"name": name, "digest": {"sha256": files[name]}} for name in sorted(files)]
    if not subjects:  # an empty directory: in-toto wants one subject; its digest is of nothing
        subjects = [{"name": artifact.name, "digest": {"sha256": combine({})}}]
    dependencies = [describe(name, value) for name, value in sorted((inputs or {}).items())]
    dependencies.append(
        {
            "name": "backdoorlab",
            "uri": f"urn:backdoorlab:code:{code_version()}",
            "digest": {"sha256": code_digest()},
        }
    )
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": SLSA_PROVENANCE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {"kind": kind, "config": _plain(dict(config or {}))},
                "internalParameters": {"loading": LOADING},
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {
                    "id": BUILDER_ID,
                    "version": {"backdoorlab": code_version(), "code_sha256": code_digest()},
                },
                "metadata": {"invocationId": f"{kind}:{os.getpid()}", "finishedOn": now},
            },
        },
    }
    check(record)
    return record


def write_lineage(
    artifact: str | os.PathLike[str],
    kind: str,
    *,
    inputs: Mapping[str, Input] | None = None,
    config: Mapping[str, Any] | None = None,
) -> Path | None:
    """Write ``artifact``'s lineage beside it; the one call each writer of an artifact makes.

    Returns the record's path; None (nothing written) for stdout (``-``) or an artifact
    that is not there."""
    path = Path(artifact)
    if os.fspath(artifact) == "-" or not path.exists():
        return None
    record = statement(path, kind, inputs=inputs, config=config)
    target = lineage_path(path)
    with atomic_writer(target) as handle:
        json.dump(record, handle, indent=2)
    return target


def refresh_subjects(artifact: Path) -> None:
    """Rewrite the subjects of ``artifact``'s lineage from its files as they are now, for a
    writer that moved the artifact and rewrote the paths its own records give (the stage
    cache's rename); what built it from what stays as recorded."""
    target = lineage_path(artifact)
    record = read_statement(target)
    if record is None:
        return
    files = manifest(artifact)
    record["subject"] = [{"name": n, "digest": {"sha256": files[n]}} for n in sorted(files)]
    check(record)
    with atomic_writer(target) as handle:
        json.dump(record, handle, indent=2)


MAX_DEPTH = 100
"""How deep a Statement file may nest (ours nest under ten; a config a little more):
deeper than the readers that walk it recurse, it is refused."""


def read_document(path: Path) -> dict[str, Any] | None:
    """A Statement file as stored — a bare Statement or a DSSE envelope around one — or
    None when absent or unreadable as JSON. JSON nested too deeply or with a lone
    surrogate escape, there or in an envelope's payload, is refused (`BackdoorlabError`
    naming the file): a hostile file, not a missing record. So is one that is no regular
    file: reading a named pipe waited for a writer forever, /dev/zero without end."""
    check_regular_file(path, "a lineage or verdict is a JSON file")
    try:
        text = path.read_text(encoding="utf-8")
        data = load_json(text, str(path), BackdoorlabError, max_depth=MAX_DEPTH)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if envelope.is_envelope(data) and isinstance(data["payload"], str):
        try:  # what `envelope.payload` will parse; a payload it cannot decode is its say
            inner = base64.b64decode(data["payload"], validate=True).decode("utf-8")
            load_json(inner, f"{path}: payload", BackdoorlabError, max_depth=MAX_DEPTH)
        except ValueError:  # binascii.Error and UnicodeDecodeError too
            pass
    return data


def read_statement(path: Path) -> dict[str, Any] | None:
    """A Statement file's Statement: a signed one is unwrapped from its DSSE envelope
    (read, not verified: `envelope.check` says who signed it)."""
    data = read_document(path)
    return envelope.payload(data) if data is not None and envelope.is_envelope(data) else data


def seal_file(path: Path, key: Path) -> Path:
    """Sign the Statement at ``path`` (bare, or an envelope signed before, whose old
    signatures are dropped) with ``key``, in place, as a DSSE envelope."""
    record = read_statement(path)
    if record is None:
        raise BackdoorlabError(f"{path}: not an in-toto Statement to sign")
    check(record)
    with atomic_writer(path) as handle:
        json.dump(envelope.seal(record, key), handle, indent=2)
    return path


def check(record: Mapping[str, Any]) -> None:
    """Raise ValueError unless ``record`` parses as an in-toto v1 Statement (and, for the
    SLSA predicate, as a Provenance v1) — the in-toto-attestation library's own checks."""
    from google.protobuf import json_format
    from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement

    proto = json_format.ParseDict(dict(record), statement_pb2.Statement())
    Statement.copy_from_pb(proto).validate()
    if record.get("predicateType") == SLSA_PROVENANCE:
        json_format.ParseDict(dict(record["predicate"]), provenance_pb2.Provenance())


def _plain(value: Any) -> Any:
    """JSON-able config values (paths and other objects as strings)."""
    return json.loads(json.dumps(value, default=str))
