"""Signing and verifying artifacts with OpenSSF model-signing: keys offline, certificates.

A model directory, a run directory and a single file (a dataset, a report) are all signed
the same way: model-signing hashes the file(s), puts the manifest in an in-toto payload and
signs it as a DSSE envelope inside a Sigstore bundle (`layout.signature_path`). Key-based
signing (EC P-256/384/521 PEM keys, as ``openssl ecparam -genkey -name prime256v1`` makes
them) and certificate signing need no network; Sigstore keyless signing does (`keyless`).
A file's lineage sits outside the file's signature, so signing a file signs its lineage
too, as a DSSE envelope with the same key, and verifying the file checks it: signed by
the file's signer, and describing this file (its subject is the file's digest — another
file's sealed lineage copied beside it is refused). A file signed with no lineage gets one
(kind ``signed``: what was vouched for, built by nothing recorded), so a lineage deleted
after signing is refused too, not read as "there never was one".

Verification names what differs. model-signing says only "Signature mismatch" with a
free-text list; once its cryptographic check has passed, the signed manifest (the DSSE
payload's ``resources``) is compared here with the files on disk, so the result says which
file was modified, added, removed, or renamed (removed + added with the same digest).
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import file_kind, write_failure
from backdoorlab.provenance.keys import check_certificate, load_private_key, load_public_key
from backdoorlab.provenance.layout import (
    ATTESTATIONS,
    SIGNATURE,
    lineage_path,
    manifest,
    signature_path,
)
from backdoorlab.provenance.lineage import seal_file, write_lineage

SIGNED_KIND = "signed"
"""The lineage kind of a file signed with none: vouched for by its signer as it is."""


@dataclass
class Verification:
    """The outcome of verifying one artifact's signature."""

    artifact: Path
    ok: bool
    problems: list[str] = field(default_factory=list)
    """One line each: what is wrong, naming the file (modified/added/removed/renamed),
    or the signature itself (missing, unreadable, another key)."""
    key: Path | None = None
    """The trusted key that verified it."""
    untrusted: bool = False
    """Signed, validly or not, by none of the keys given."""
    unsigned: bool = False
    """No signature at all."""
    lineage: bool = False
    """The artifact verifies; the lineage beside a file does not (unsigned, or not by the
    artifact's signer)."""


def hashing_config(artifact: Path) -> Any:
    """model-signing's hashing of ``artifact``: a directory less its signature and verdicts."""
    from model_signing import hashing

    config = hashing.Config()
    if artifact.is_dir():
        config.set_ignored_paths(paths=[SIGNATURE, ATTESTATIONS], ignore_git_paths=True)
    return config


def check_private_key(path: Path) -> None:
    """Refuse, in one line, a private key model-signing cannot sign with."""
    load_private_key(path)


def check_public_key(path: Path) -> None:
    """Refuse, in one line, a public key model-signing cannot verify with."""
    load_public_key(path)


def sign(
    artifact: Path,
    key: Path,
    *,
    certificate: Path | None = None,
    chain: Sequence[Path] = (),
) -> Path:
    """Sign ``artifact`` with the private ``key`` (and its signing ``certificate``, if
    given); returns the signature's path. Replaces an earlier signature."""
    from model_signing import signing

    artifact = Path(artifact)
    if not artifact.exists():
        raise BackdoorlabError(f"{artifact}: nothing to sign (no such file or directory)")
    check_private_key(key)
    config = signing.Config().set_hashing_config(hashing_config(artifact))
    if certificate is not None:
        check_certificate(certificate, key, chain)
        config.use_certificate_signer(
            private_key=key, signing_certificate=certificate, certificate_chain=list(chain)
        )
    else:
        config.use_elliptic_key_signer(private_key=key)
    _refuse_links(artifact)  # model-signing would, but after the old signature is gone
    target = signature_path(artifact)
    _check_signature_place(target)
    try:
        target.unlink(missing_ok=True)  # a directory's old signature must not hash as content
    except OSError as exc:  # a read-only directory
        raise write_failure(target, exc) from None
    if not artifact.is_dir() and not lineage_path(artifact).is_file():
        write_lineage(artifact, SIGNED_KIND)  # its absence must not be forgeable by deletion
    config.sign(artifact, target)
    if not artifact.is_dir():
        seal_file(lineage_path(artifact), key)  # a directory's lineage is inside its signature
    return target


def _check_signature_place(target: Path) -> None:
    """Refuse a signature path that holds something other than a file (a directory, a
    pipe), before anything is changed: removing it raised a traceback."""
    if target.is_symlink() or not target.exists() or target.is_file():
        return
    kind = file_kind(target.stat().st_mode)
    raise BackdoorlabError(
        f"{target}: not a regular file ({kind}); the signature is written there: move it away"
    )


def _refuse_links(artifact: Path) -> None:
    """A symbolic link in what is signed would sign content from outside the artifact; a
    named pipe, socket or device cannot be hashed (model-signing raises on it). Both are
    refused here, before the old signature is removed."""
    inside = artifact.rglob("*") if artifact.is_dir() and not artifact.is_symlink() else ()
    for path in itertools.chain([artifact], inside):
        if path.is_symlink():
            raise BackdoorlabError(
                f"{path}: a symbolic link (to {path.readlink()}); only regular files are "
                "signed: put the file itself there"
            )
        if not (path.is_file() or path.is_dir()):
            raise BackdoorlabError(
                f"{path}: not a regular file ({file_kind(path.stat().st_mode)}); only "
                "regular files are signed: remove it"
            )


def verify(
    artifact: Path,
    public_keys: Sequence[Path] = (),
    *,
    chain: Sequence[Path] | None = None,
) -> Verification:
    """Verify ``artifact`` against any of ``public_keys`` (or, with ``chain``, against
    certificates rooted in it). Never raises for a bad artifact: the result says why."""
    from model_signing import verifying

    from backdoorlab.provenance.keys import check_chain

    artifact = Path(artifact)
    signature = signature_path(artifact)
    if not artifact.exists():
        return Verification(artifact, False, [f"{artifact}: missing (removed or renamed)"])
    if not signature.is_file():
        return Verification(artifact, False, [f"{signature}: no signature"], unsigned=True)
    for key in public_keys:
        check_public_key(key)
    check_chain(chain or ())
    configs: list[tuple[Path | None, Any]] = []
    if chain is not None:
        configs.append(
            (None, verifying.Config().use_certificate_verifier(certificate_chain=list(chain)))
        )
    for key in public_keys:
        configs.append((key, verifying.Config().use_elliptic_key_verifier(public_key=key)))
    problems: list[str] = []
    for key, config in configs:
        try:
            config.set_hashing_config(hashing_config(artifact)).verify(artifact, signature)
        except Exception as exc:  # any failure, whatever model-signing raises, is "no"
            text = str(exc)
            if text.startswith("Key mismatch"):
                continue
            if text.startswith("Signature mismatch"):
                return Verification(artifact, False, differences(artifact, signature), key)
            problems.append(f"{signature}: does not verify ({type(exc).__name__}: {text})")
            return Verification(artifact, False, problems, key)
        return _with_lineage(Verification(artifact, True, [], key), signature)
    names = ", ".join(str(k) for k in public_keys) or "none given"
    return Verification(
        artifact, False, [f"{signature}: signed by a key not trusted ({names})"], untrusted=True
    )


def _with_lineage(result: Verification, signature: Path) -> Verification:
    """A verified file's lineage must be signed by the same signer: beside a file it is
    outside the file's signature (a directory's lineage is inside it)."""
    from backdoorlab.provenance import envelope
    from backdoorlab.provenance.lineage import read_document

    path = lineage_path(result.artifact)
    if result.artifact.is_dir():
        return result
    if not path.is_file():
        problem = (
            f"{path}: lineage missing (a file's lineage is sealed beside it when it is "
            "signed: removed since, or signed by a backdoorlab older than this check — "
            "sign it again)"
        )
        return Verification(result.artifact, False, [problem], result.key, lineage=True)
    if result.key is not None:
        signer = [(result.key, load_public_key(result.key))]
    else:  # a certificate signature, its chain verified: the signing certificate's key
        signer = [(signature, signing_certificate_key(signature))]
    document = read_document(path)
    seal = envelope.check_keys(document, signer)
    if seal.ok:
        described = _subject_digests(envelope.payload(document) or {})
        if described & set(signed_manifest(signature).values()):  # verified: no second read
            return result
        problem = f"{path}: lineage of another file (its subject is not {result.artifact})"
        return Verification(result.artifact, False, [problem], result.key, lineage=True)
    what = "unsigned" if seal.state == envelope.UNSIGNED else "not signed by the file's signer"
    if seal.state == envelope.INVALID:
        what = "its signature does not verify (edited after signing)"
    problem = f"{path}: lineage {what}"
    return Verification(result.artifact, False, [problem], result.key, lineage=True)


def _subject_digests(statement: dict[str, Any]) -> set[str]:
    subjects = statement.get("subject")
    if not isinstance(subjects, list):
        return set()
    digests = (s.get("digest") for s in subjects if isinstance(s, dict))
    return {d.get("sha256") for d in digests if isinstance(d, dict)} - {None}


def signing_certificate_key(signature: Path) -> Any:
    """The public key of the signing certificate in a model-signing bundle (read, not
    verified: call after model-signing verified the chain)."""
    from cryptography import x509

    bundle = json.loads(signature.read_text(encoding="utf-8"))
    chain = bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]
    return x509.load_der_x509_certificate(base64.b64decode(chain[0]["rawBytes"])).public_key()


def signed_manifest(signature: Path) -> dict[str, str]:
    """``{name: sha256}`` as the signature's payload records it (read, not verified:
    call after model-signing verified the envelope)."""
    bundle = json.loads(signature.read_text(encoding="utf-8"))
    payload = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    return {r["name"]: r["digest"] for r in payload["predicate"]["resources"]}


def differences(artifact: Path, signature: Path) -> list[str]:
    """What changed since signing, one line per file: modified, added, removed, renamed."""
    if not artifact.is_dir():  # the payload names a signed file "." whatever its name
        return [f"{artifact}: modified since signing"]
    expected = signed_manifest(signature)
    actual = manifest(artifact, signed=True)
    added = sorted(set(actual) - set(expected))
    removed = sorted(set(expected) - set(actual))
    lines = []
    for name in sorted(set(actual) & set(expected)):
        if actual[name] != expected[name]:
            lines.append(f"{artifact / name if artifact.is_dir() else artifact}: modified")
    by_digest = {expected[name]: name for name in removed}
    for name in list(added):
        old = by_digest.pop(actual[name], None)
        if old is not None:
            removed.remove(old)
            added.remove(name)
            lines.append(f"{artifact / old}: renamed to {name}")
    lines += [f"{artifact / name}: added since signing" for name in added]
    lines += [f"{artifact / name}: removed since signing" for name in removed]
    return lines or [f"{artifact}: differs from its signature"]
