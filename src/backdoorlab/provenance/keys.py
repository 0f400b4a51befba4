"""The key files provenance signs and verifies with: EC PEM keys, checked in one line.

One format for everything that signs — an artifact (OpenSSF model-signing), an
attestation or a file's lineage (DSSE envelopes, `envelope`): EC P-256/384/521 keys as
``openssl ecparam -genkey -name prime256v1 -noout -out private.pem`` writes them (or
PKCS#8), public keys as ``openssl ec -in private.pem -pubout`` writes them. A file that is
missing, not PEM or not EC is refused before anything is hashed or signed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from backdoorlab.errors import BackdoorlabError

MAKE_KEY = "openssl ecparam -genkey -name prime256v1 -noout -out private.pem"
CURVES = ("secp256r1", "secp384r1", "secp521r1")
"""The curves model-signing and securesystemslib's DSSE both sign with (P-256/384/521)."""


class KeyFileError(BackdoorlabError):
    """A key or certificate file that cannot be used (missing, not PEM, not EC)."""


def load_private_key(path: Path) -> Any:
    """The EC private key in ``path`` (a ``cryptography`` key object)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = _load(path, lambda data: load_pem_private_key(data, password=None))
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeyFileError(f"{path}: not an EC private key (make one: {MAKE_KEY})")
    _check_curve(path, key.curve.name)
    return key


def load_public_key(path: Path) -> Any:
    """The EC public key in ``path`` (a ``cryptography`` key object)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = _load(path, load_pem_public_key)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise KeyFileError(f"{path}: not an EC public key (openssl ec -in private.pem -pubout)")
    _check_curve(path, key.curve.name)
    return key


def _check_curve(path: Path, curve: str) -> None:
    if curve not in CURVES:
        raise KeyFileError(f"{path}: EC curve {curve} not supported (use P-256: {MAKE_KEY})")


def _load(path: Path, parse: Callable[[bytes], Any]) -> Any:
    try:
        return parse(Path(path).read_bytes())
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the key: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not a usable PEM key or certificate ({exc})") from None


def check_certificate(certificate: Path, private_key: Path, chain: Sequence[Path] = ()) -> None:
    """Refuse, in one line, a signing certificate that is not PEM, or not for
    ``private_key``, or a chain file that holds no PEM certificate."""
    from cryptography import x509

    cert = _load(certificate, x509.load_pem_x509_certificate)
    if cert.public_key() != load_private_key(private_key).public_key():
        raise KeyFileError(
            f"{certificate}: the certificate's public key does not match {private_key}"
        )
    for path in chain:
        _load(path, x509.load_pem_x509_certificates)
