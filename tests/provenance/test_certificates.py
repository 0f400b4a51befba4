"""Certificate signing: a leaf EC certificate issued by a test CA signs; its chain verifies.

The CA and the leaf are made at test time with ``cryptography`` (nothing fetched): the
leaf's key signs a model and a dataset with ``--cert``/``--chain``; ``verify
--cert-chain`` with that CA accepts them (the dataset's lineage, signed with the leaf's
key, checked against the certificate's key), and with another CA refuses them.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from provenance_builders import cli, write_dataset, write_tiny_model

from backdoorlab.provenance import write_lineage
from backdoorlab.provenance.layout import lineage_path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(subject, issuer, public_key, signer, *, ca: bool) -> x509.Certificate:  # noqa: ANN001
    now = datetime.datetime.now(datetime.UTC)
    usage = dict.fromkeys(
        ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
         "encipher_only", "decipher_only"), False,
    )  # fmt: skip
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1 if ca else 0, hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=not ca, key_cert_sign=ca, crl_sign=ca, **usage),
            critical=True,
        )
    )
    return builder.sign(signer, hashes.SHA256())


def _pem(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _ca(directory: Path, name: str) -> tuple[Path, x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(_name(name), _name(name), key.public_key(), key, ca=True)
    return _pem(directory / f"{name}.pem", cert.public_bytes(serialization.Encoding.PEM)), cert, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, a leaf signing certificate it issued with the leaf's key, and another CA."""
    root = tmp_path_factory.mktemp("pki")
    ca_path, ca, ca_key = _ca(root, "test-ca")
    other_path, _, _ = _ca(root, "other-ca")
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate(_name("publisher"), ca.subject, leaf_key.public_key(), ca_key, ca=False)
    key = _pem(root / "leaf.key.pem", leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))  # fmt: skip
    cert = _pem(root / "leaf.pem", leaf.public_bytes(serialization.Encoding.PEM))
    return {"ca": ca_path, "other": other_path, "key": key, "cert": cert}


@pytest.mark.parametrize("kind", ["model", "dataset"])
def test_certificate_signature_verifies_with_its_chain_only(
    tmp_path: Path, pki: dict[str, Path], kind: str, monkeypatch, capsys
) -> None:
    if kind == "model":
        artifact = write_tiny_model(tmp_path / "model")
    else:
        artifact = write_dataset(tmp_path / "d.jsonl")
        write_lineage(artifact, "collect")
    code, out = cli(monkeypatch, capsys, "provenance", "sign", str(artifact),
                    "--key", str(pki["key"]), "--cert", str(pki["cert"]),
                    "--chain", str(pki["ca"]))  # fmt: skip
    assert code == 0, out
    if kind == "dataset":
        assert "payloadType" in lineage_path(artifact).read_text()  # signed with the leaf's key

    def verify(chain: Path) -> tuple[int, str]:
        return cli(monkeypatch, capsys, "provenance", "verify", str(artifact),
                   "--cert-chain", str(chain))  # fmt: skip

    code, out = verify(pki["ca"])
    assert code == 0 and f"verified: {artifact}" in out, out
    code, out = verify(pki["other"])
    assert code == 1 and "NOT verified" in out and "does not verify" in out, out
    if kind == "dataset":  # the lineage rewritten by hand: the chain still verifies the file
        write_lineage(artifact, "collect", config={"forged": True})
        code, out = verify(pki["ca"])
        assert code == 1 and f"{lineage_path(artifact)}: lineage unsigned" in out, out


def test_a_certificate_for_another_key_is_refused(
    tmp_path: Path, pki: dict[str, Path], keys, monkeypatch, capsys
) -> None:
    data = write_dataset(tmp_path / "d.jsonl")
    code, out = cli(monkeypatch, capsys, "provenance", "sign", str(data), "--key",
                    str(keys["other"][0]), "--cert", str(pki["cert"]))  # fmt: skip
    assert code == 2 and len(out.strip().splitlines()) == 1, out
    assert "leaf.pem" in out and "does not match" in out
