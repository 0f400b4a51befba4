"""The provenance gate: what a base model and a dataset must prove before training uses them.

A policy (YAML, ``--require-provenance policy.yaml`` or ``require_provenance:`` in an
experiment YAML) names the trusted public keys, the attesters whose verdicts count and,
per role, whether a signature is required and which verdicts must be attached::

    trusted_keys: [keys/publisher.pub.pem]      # relative to the policy file
    trusted_attesters: [keys/scanner.pub.pem]   # or {scan: [...], audit: [...]}
    model:   {signed: true, attestations: [scan]}
    dataset: {signed: true, attestations: [audit]}

`enforce` checks everything before any model loads and raises `ProvenanceRefused` — one
line naming the artifact and what is missing — for an unsigned artifact, one signed by a
key the policy does not trust, one modified since signing, or one lacking a required
passing verdict for its current content (a dataset modified after its audit). With
trusted attesters, a verdict counts only when its DSSE envelope verifies against one of
them: an unsigned verdict, one signed by another key, or one whose signature does not
verify (edited, or forged under a trusted key's id) is refused, naming the attestation.
Without, any verdict file beside the artifact counts — a claim anyone who can write there
could forge.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from backdoorlab.config import Config
from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import read_text_file
from backdoorlab.provenance.attest import Attestation, attestations
from backdoorlab.provenance.envelope import INVALID, UNSIGNED
from backdoorlab.provenance.keys import load_public_key
from backdoorlab.provenance.layout import artifact_digest
from backdoorlab.provenance.signing import verify
from backdoorlab.yaml_text import load_yaml


class ProvenanceRefused(BackdoorlabError):
    """An artifact the policy does not accept; the message names it and what it lacks."""


class Requirement(Config):
    """What one kind of artifact (the base model, a dataset) must carry."""

    label: ClassVar[str] = "provenance requirement"

    signed: bool = True
    """A signature by one of the trusted keys that verifies over the current content."""
    attestations: list[str] = Field(default_factory=list)
    """Verdict kinds (``audit``, ``scan``) that must be attached, passing, for the
    current content."""


class ProvenancePolicy(Config):
    """Trusted keys and what each kind of artifact must carry."""

    label: ClassVar[str] = "provenance policy"

    trusted_keys: list[Path] = Field(default_factory=list)
    """Public keys (EC PEM) whose signatures are trusted; relative to the policy file."""
    trusted_attesters: list[Path] | dict[str, list[Path]] = Field(default_factory=list)
    """Public keys (EC PEM) whose signed verdicts count: a list (any kind) or a mapping
    kind → keys (``{scan: [scanner.pub.pem]}``); relative to the policy file. Empty: any
    verdict beside the artifact counts, signed or not."""
    model: Requirement = Field(default_factory=Requirement)
    """What the base model must carry."""
    dataset: Requirement = Field(default_factory=Requirement)
    """What a training dataset must carry."""

    def attesters(self, kind: str) -> list[Path] | None:
        """The keys whose ``kind`` verdicts count; None when the policy names none."""
        if isinstance(self.trusted_attesters, dict):
            return self.trusted_attesters.get(kind)
        return self.trusted_attesters or None


def load_policy(path: str | Path) -> ProvenancePolicy:
    """Read a policy YAML; keys are resolved against the policy file's directory."""
    path = Path(path)
    if not path.is_file():
        raise BackdoorlabError(f"{path}: no such provenance policy file")
    raw = load_yaml(read_text_file(path), str(path))
    if raw is None:
        raw = {}
    policy = ProvenancePolicy.load(raw, str(path))
    policy.trusted_keys = _resolve(path, policy.trusted_keys)
    if any(r.signed for r in (policy.model, policy.dataset)) and not policy.trusted_keys:
        raise BackdoorlabError(f"{path}: requires signatures but lists no trusted_keys")
    attesters = policy.trusted_attesters
    if isinstance(attesters, dict):
        policy.trusted_attesters = {kind: _resolve(path, keys) for kind, keys in attesters.items()}
        required = {k for r in (policy.model, policy.dataset) for k in r.attestations}
        unnamed = sorted(required - set(policy.trusted_attesters))
        if unnamed:
            raise BackdoorlabError(
                f"{path}: trusted_attesters names no key for the {unnamed[0]} attestation"
            )
    else:
        policy.trusted_attesters = _resolve(path, attesters)
    return policy


def _resolve(policy: Path, keys: list[Path]) -> list[Path]:
    """Key paths relative to the policy file, each checked to be an EC public key."""
    resolved = [k if k.is_absolute() else policy.parent / k for k in keys]
    for key in resolved:
        load_public_key(key)
    return resolved


def problems(policy: ProvenancePolicy, artifact: Path, role: str) -> list[str]:
    """What ``artifact`` (a ``model`` or ``dataset``) lacks under ``policy``; [] if nothing."""
    requirement: Requirement = getattr(policy, role)
    if not artifact.exists():
        return [f"{role} {artifact}: not found"]
    found: list[str] = []
    if requirement.signed:
        result = verify(artifact, policy.trusted_keys)
        if result.unsigned:
            found.append(f"{role} {artifact}: unsigned (no signature)")
        elif result.untrusted:
            found.append(f"{role} {artifact}: signed by a key the policy does not trust")
        elif result.lineage:
            found.append(f"{role} {artifact}: {result.problems[0]}")
        elif not result.ok:
            found.append(f"{role} {artifact}: modified since signing ({result.problems[0]})")
    if requirement.attestations:
        digest = artifact_digest(artifact)
        attached = attestations(artifact, digest)
        for kind in requirement.attestations:
            mine = [a for a in attached if a.kind == kind]
            attesters = policy.attesters(kind)
            if mine and attesters is not None:
                mine, untrusted = _trusted(mine, attesters)
                if not mine:
                    found.append(f"{role} {artifact}: {untrusted}")
                    continue
            if not mine:
                found.append(f"{role} {artifact}: no {kind} attestation")
            elif not any(a.current for a in mine):
                found.append(
                    f"{role} {artifact}: its {kind} attestation is for other content "
                    f"(modified after the {kind})"
                )
            elif not any(a.current and a.verdict == "pass" for a in mine):
                found.append(f"{role} {artifact}: its {kind} verdict is not pass")
    return found


def _trusted(attached: list[Attestation], attesters: list[Path]) -> tuple[list[Attestation], str]:
    """The verdicts signed by one of ``attesters`` (the signature verified), and what is
    wrong with the first when none is."""
    seals = [a.seal(attesters) for a in attached]
    trusted = [a for a, seal in zip(attached, seals, strict=True) if seal.ok]
    first, seal = attached[0], seals[0]
    what = f"its {first.kind} attestation {first.path}"
    if seal.state == UNSIGNED:
        return trusted, f"{what} is unsigned (the policy trusts only signed verdicts)"
    if seal.state == INVALID:
        return trusted, f"{what}: its signature does not verify (forged or edited after signing)"
    ids = ", ".join(k[:12] for k in seal.keyids)
    return trusted, f"{what} is signed by an attester the policy does not trust (key id {ids})"


def model_artifact(model: str | Path) -> Path:
    """The directory a model name stands for: a path as given (a model or run directory),
    a builtin name's cache (`backdoorlab.models.resolve_model_dir`, which builds it if
    needed but loads nothing into a trainer)."""
    if Path(model).is_dir():
        return Path(model)
    from backdoorlab.models import resolve_model_dir

    return Path(resolve_model_dir(str(model)))


def enforce(
    policy: ProvenancePolicy | str | Path,
    *,
    model: str | Path | None = None,
    datasets: Sequence[Path] = (),
) -> None:
    """Raise `ProvenanceRefused` naming the first artifact that fails ``policy``; the base
    ``model`` may be a name (its resolved directory is checked)."""
    if not isinstance(policy, ProvenancePolicy):
        policy = load_policy(policy)
    if model is not None:
        model = model_artifact(model)
    checks = ([(model, "model")] if model is not None else []) + [(d, "dataset") for d in datasets]
    for artifact, role in checks:
        found = problems(policy, Path(artifact), role)
        if found:
            raise ProvenanceRefused(f"refused by provenance policy: {'; '.join(found)}")
