"""The key files provenance signs and verifies with: EC PEM keys, checked in one line.

One format for everything that signs — an artifact (OpenSSF model-signing), an
attestation or a file's lineage (DSSE envelopes, `envelope`): EC P-256/384/521 keys as
``openssl ecparam -genkey -name prime256v1 -noout -out private.pem`` writes them (or
PKCS#8), public keys as ``openssl ec -in private.pem -pubout`` writes them. A file that is
missing, not PEM or not EC is refused before anything is hashed or signed; so is one
that is not a regular file or is larger than any key (`MAX_KEY_BYTES`): ``/dev/zero``
given as a key would otherwise be read until memory runs out.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from backdoorlab.errors import BackdoorlabError

MAKE_KEY = "openssl ecparam -genkey -name prime256v1 -noout -out private.pem"
MAX_KEY_BYTES = 1024 * 1024
"""Larger than any PEM key or certificate chain a signer uses (a P-521 key is ~400 bytes)."""
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
        data = _read(Path(path))
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the key: {exc.strerror or exc}") from None
    try:
        return parse(data)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not a usable PEM key or certificate ({exc})") from None


def _read(path: Path) -> bytes:
    """A key file's bytes: a regular file of at most `MAX_KEY_BYTES`, else KeyFileError."""
    import stat

    from backdoorlab.files import file_kind

    # O_NONBLOCK: opening a named pipe would otherwise wait for a writer, forever
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            kind = file_kind(mode)
            raise KeyFileError(f"{path}: not a regular file ({kind}; a key is a PEM file)")
        data = handle.read(MAX_KEY_BYTES + 1)
    if len(data) > MAX_KEY_BYTES:
        raise KeyFileError(f"{path}: over {MAX_KEY_BYTES // 1024} KiB, not a PEM key")
    return data


def check_certificate(certificate: Path, private_key: Path, chain: Sequence[Path] = ()) -> None:
    """Refuse, in one line, a signing certificate that is not PEM, or not for
    ``private_key``, or a chain file that holds no PEM certificate."""
    from cryptography import x509

    cert = _load(certificate, x509.load_pem_x509_certificate)
    if cert.public_key() != load_private_key(private_key).public_key():
        raise KeyFileError(
            f"{certificate}: the certificate's public key does not match {private_key}"
        )
    check_chain(chain)


def check_chain(chain: Sequence[Path]) -> None:
    """Refuse, in one line, a certificate chain file that holds no PEM certificate (or
    is missing, a directory, not a regular file): model-signing would raise a traceback."""
    from cryptography import x509

    for path in chain:
        _load(path, x509.load_pem_x509_certificates)
