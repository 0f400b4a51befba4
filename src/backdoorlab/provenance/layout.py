"""Where an artifact's provenance lives beside it, and what its content digest is.

An artifact is a file (a trace dataset, a report) or a directory (a model, a run, a stage).
Its provenance sits next to it, so copying the artifact with its sidecars carries it:

- a directory ``D``: ``D/provenance.intoto.json`` (the lineage Statement), ``D/model.sig``
  (the model-signing bundle — the name OpenSSF's own CLI uses) and ``D/attestations/``
  (verdicts: audit, scan);
- a file ``F``: ``F.intoto.json``, ``F.sig`` and ``F.<kind>.intoto.json`` beside it.

A Statement file (a lineage, a verdict) is a bare in-toto Statement, or a DSSE envelope
around one when someone signed it (`envelope`): a verdict by its attester, a file's
lineage by the file's signer.

The signature covers every file of a directory except itself and the attestations, so the
lineage Statement is signed with the model while a later scan can attach its verdict
without breaking the publisher's signature (the verdict binds to the content by digest
instead). The lineage's subjects are the files the lineage describes: the signed ones less
the lineage itself.

Digests are SHA-256 per file, exactly what model-signing's ``files`` serialization records
(a test holds the two equal); a directory's digest is the SHA-256 of its sorted
``name digest`` lines. They are taken here with hashlib rather than through model-signing
because every stage records a lineage and model-signing's import costs ~0.4 s (sigstore).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from backdoorlab.digests import artifact_sha256

LINEAGE = "provenance.intoto.json"
SIGNATURE = "model.sig"
ATTESTATIONS = "attestations"
GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")
"""Ignored by model-signing's hashing by default; ignored here too, to agree with it."""


def lineage_path(artifact: Path) -> Path:
    """The lineage Statement of ``artifact``."""
    return artifact / LINEAGE if artifact.is_dir() else _beside(artifact, "intoto.json")


def signature_path(artifact: Path) -> Path:
    """The model-signing bundle of ``artifact``."""
    return artifact / SIGNATURE if artifact.is_dir() else _beside(artifact, "sig")


def attestation_path(artifact: Path, kind: str) -> Path:
    """The ``kind`` verdict (audit, scan) attached to ``artifact``."""
    if artifact.is_dir():
        return artifact / ATTESTATIONS / f"{kind}.intoto.json"
    return _beside(artifact, f"{kind}.intoto.json")


def attestation_paths(artifact: Path) -> list[Path]:
    """Every verdict attached to ``artifact``, by file name."""
    if artifact.is_dir():
        return sorted((artifact / ATTESTATIONS).glob("*.intoto.json"))
    return sorted(artifact.parent.glob(f"{_escape(artifact.name)}.*.intoto.json"))


def unsigned_names(artifact: Path) -> list[str]:
    """What a directory's signature leaves out (model-signing's ignore_paths)."""
    return [SIGNATURE, ATTESTATIONS, *GIT_PATHS]


def manifest(artifact: Path, *, signed: bool = False) -> dict[str, str]:
    """``{relative name: sha256}`` of the artifact's files: for a file, its own name.

    ``signed``: the files the signature covers (the lineage included); otherwise the
    files the lineage describes (the lineage left out)."""
    if not artifact.is_dir():
        return {artifact.name: artifact_sha256(artifact)}
    skip = set(unsigned_names(artifact)) | (set() if signed else {LINEAGE})
    out: dict[str, str] = {}
    for path in sorted(artifact.rglob("*")):
        name = path.relative_to(artifact).as_posix()
        if path.is_file() and name.split("/")[0] not in skip and name not in skip:
            out[name] = artifact_sha256(path)
    return out


def combine(files: dict[str, str]) -> str:
    """A directory's digest: SHA-256 over its sorted ``name digest`` lines."""
    lines = "".join(f"{name} {files[name]}\n" for name in sorted(files))
    return hashlib.sha256(lines.encode()).hexdigest()


def artifact_digest(artifact: Path) -> str:
    """The content digest of a file (its SHA-256) or a directory (`combine` of `manifest`)."""
    if not artifact.is_dir():
        return artifact_sha256(artifact)
    return combine(manifest(artifact))


def local_digest(model: str) -> str | None:
    """A local model directory's content digest (one edited in place is a new model); None
    for a builtin name (its cache is versioned by its recipe) or a hub id."""
    return artifact_digest(Path(model)) if Path(model).is_dir() else None


def _beside(artifact: Path, suffix: str) -> Path:
    return artifact.with_name(f"{artifact.name}.{suffix}")


def _escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)
