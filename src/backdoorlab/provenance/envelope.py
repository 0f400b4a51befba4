"""DSSE envelopes: an in-toto Statement signed by whoever vouches for it.

A verdict (audit, scan) or a file's lineage is a claim someone made about an artifact; an
unsigned one is a claim anyone who can write beside the artifact could have made. Signed,
the Statement is the payload of a DSSE envelope (``payloadType``
``application/vnd.in-toto+json``, the payload base64, one signature per signer over DSSE's
pre-authentication encoding) — the envelope model-signing puts inside its Sigstore bundle,
here on its own, as in-toto attestations are usually stored.

The envelope is built and checked with securesystemslib's ``dsse.Envelope`` and
``CryptoSigner``: model-signing's own DSSE signers are private (``model_signing._signing``)
and its verifier accepts only its own model-manifest predicate. Keys are the EC PEM files
`keys` reads, the same ones ``provenance sign`` takes; a signature names its key by
securesystemslib's key id (SHA-256 of the canonical public key).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backdoorlab.provenance.keys import load_private_key, load_public_key

PAYLOAD_TYPE = "application/vnd.in-toto+json"

UNSIGNED, VERIFIED, UNTRUSTED, INVALID, UNCHECKED = (
    "unsigned",
    "verified",
    "untrusted",
    "does not verify",
    "not checked",
)


@dataclass
class Seal:
    """Who signed a Statement and whether that signature holds against the keys given."""

    state: str
    """unsigned, verified, untrusted (no signature by a key given), does not verify (a
    signature that claims a given key but fails), not checked (signed; no keys given)."""
    key: Path | None = None
    """The given public key whose signature verified."""
    keyids: list[str] = field(default_factory=list)
    """The key ids the envelope's signatures name."""

    @property
    def ok(self) -> bool:
        return self.state == VERIFIED

    def describe(self) -> str:
        """A few words for a table or a refusal: ``signed by auditor.pub.pem, verified``."""
        ids = ", ".join(k[:12] for k in self.keyids) or "none"
        return {
            VERIFIED: f"signed by {self.key.name if self.key else '?'}, verified",
            UNSIGNED: "unsigned",
            UNTRUSTED: f"signed by a key not trusted (key id {ids})",
            INVALID: f"its signature does not verify (key id {ids})",
            UNCHECKED: f"signed (key id {ids}), not checked: no public key given",
        }[self.state]


def key_id(public_key: Path) -> str:
    """The key id a signature by ``public_key``'s private half carries."""
    from securesystemslib.signer import SSlibKey

    return str(SSlibKey.from_crypto(load_public_key(public_key)).keyid)


def seal(statement: Mapping[str, Any], private_key: Path) -> dict[str, Any]:
    """``statement`` as a DSSE envelope signed with ``private_key`` (an EC PEM file)."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import CryptoSigner

    payload = json.dumps(dict(statement), indent=2).encode()
    envelope = Envelope(payload, PAYLOAD_TYPE, {})
    envelope.sign(CryptoSigner(load_private_key(private_key)))
    return dict(envelope.to_dict())


def is_envelope(data: object) -> bool:
    """Whether a parsed JSON document is a DSSE envelope rather than a bare Statement."""
    return isinstance(data, dict) and "payloadType" in data and "payload" in data


def payload(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The Statement inside an envelope (read, not verified); None if it is not one."""
    if data.get("payloadType") != PAYLOAD_TYPE:
        return None
    try:
        inner = json.loads(base64.b64decode(str(data["payload"]), validate=True))
    except (binascii.Error, ValueError):
        return None
    return inner if isinstance(inner, dict) else None


def check(data: Mapping[str, Any] | None, public_keys: Sequence[Path] | None) -> Seal:
    """The seal of a document read from disk: a bare Statement is unsigned; an envelope
    is checked against ``public_keys`` (None: only who claims to have signed it)."""
    keys = None if public_keys is None else [(p, load_public_key(p)) for p in public_keys]
    return check_keys(data, keys)


def check_keys(
    data: Mapping[str, Any] | None, public_keys: Sequence[tuple[Path, Any]] | None
) -> Seal:
    """`check` against key objects (``cryptography`` public keys), each with the path
    that names it in the result (a key file, or the signature a certificate came from)."""
    if data is None or not is_envelope(data):
        return Seal(UNSIGNED)
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import UnverifiedSignatureError
    from securesystemslib.signer import SSlibKey

    try:
        envelope = Envelope.from_dict(json.loads(json.dumps(data)))  # from_dict edits its input
    except (KeyError, TypeError, ValueError, binascii.Error, AttributeError) as exc:
        return Seal(INVALID, keyids=[f"malformed envelope: {exc}"])
    keyids = list(envelope.signatures)
    if not keyids:
        return Seal(UNSIGNED)
    if payload(data) is None:
        return Seal(INVALID, keyids=keyids)
    if public_keys is None:
        return Seal(UNCHECKED, keyids=keyids)
    given = {}
    for path, key in public_keys:
        sslib = SSlibKey.from_crypto(key)
        given[sslib.keyid] = (path, sslib)
    named = [k for k in keyids if k in given]
    if not named:
        return Seal(UNTRUSTED, keyids=keyids)
    for keyid in named:
        path, key = given[keyid]
        try:
            envelope.verify([key], 1)
        except UnverifiedSignatureError:
            continue
        return Seal(VERIFIED, path, keyids)
    return Seal(INVALID, keyids=keyids)
