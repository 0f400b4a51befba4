"""Signed verdicts: a policy with trusted attesters accepts only what they signed.

A verdict is a DSSE envelope around its Statement, signed by the attester. Under a policy
naming trusted attesters, a verdict written by hand, signed by another key, edited after
signing, or forged under a trusted key's id is refused, naming the attestation; a policy
naming none keeps accepting any verdict (forgeable, as the README says).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml
from provenance_builders import cli, write_dataset

from backdoorlab.errors import BackdoorlabError
from backdoorlab.provenance import attest, write_lineage
from backdoorlab.provenance.attest import attestations, sign_attestation
from backdoorlab.provenance.envelope import PAYLOAD_TYPE, key_id
from backdoorlab.provenance.layout import attestation_path, lineage_path
from backdoorlab.provenance.policy import ProvenanceRefused, enforce, load_policy
from backdoorlab.provenance.signing import sign, verify


def _policy(tmp_path: Path, attesters: object, **require: object) -> Path:
    path = tmp_path / "policy.yaml"
    unsigned = {"signed": False}
    document = {"trusted_attesters": attesters, "model": unsigned, "dataset": unsigned} | require
    path.write_text(yaml.safe_dump(document))
    return path


def _edit_payload(path: Path, change) -> None:  # noqa: ANN001
    """Rewrite the Statement inside an envelope, keeping its signatures."""
    envelope = json.loads(path.read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    change(statement)
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    path.write_text(json.dumps(envelope))


def test_a_signed_verdict_is_a_dsse_envelope_that_names_its_signer(tmp_path, keys) -> None:
    data = write_dataset(tmp_path / "d.jsonl")
    path = attest(data, "audit", "pass", key=keys["trusted"][0])
    envelope = json.loads(path.read_text())
    assert envelope["payloadType"] == PAYLOAD_TYPE
    assert [s["keyid"] for s in envelope["signatures"]] == [key_id(keys["trusted"][1])]
    (found,) = attestations(data)
    assert found.kind == "audit" and found.verdict == "pass" and found.current
    assert found.seal([keys["trusted"][1]]).describe() == "signed by trusted.pub.pem, verified"
    assert found.seal([keys["other"][1]]).state == "untrusted"
    assert found.seal().state == "not checked"


@pytest.mark.parametrize(
    ("forgery", "expected"),
    [
        ("written by hand", "is unsigned"),
        ("signed by another key", "is signed by an attester the policy does not trust"),
        ("edited after signing", "its signature does not verify"),
        ("another key under the trusted id", "its signature does not verify"),
    ],
)
def test_forged_verdicts_are_refused_naming_the_attestation(
    tmp_path: Path, keys, forgery: str, expected: str
) -> None:
    data = write_dataset(tmp_path / "d.jsonl")
    policy = _policy(
        tmp_path, [str(keys["trusted"][1])], dataset={"signed": False, "attestations": ["audit"]}
    )
    path = attestation_path(data, "audit")
    if forgery == "written by hand":
        attest(data, "audit", "pass")
    elif forgery == "signed by another key":
        attest(data, "audit", "pass", key=keys["other"][0])
    elif forgery == "edited after signing":
        attest(data, "audit", "fail", key=keys["trusted"][0])
        _edit_payload(path, lambda s: s["predicate"].update(verdict="pass"))
    else:
        attest(data, "audit", "pass", key=keys["other"][0])
        envelope = json.loads(path.read_text())
        envelope["signatures"][0]["keyid"] = key_id(keys["trusted"][1])
        path.write_text(json.dumps(envelope))
    with pytest.raises(ProvenanceRefused) as refused:
        enforce(policy, datasets=[data])
    message = str(refused.value)
    assert f"dataset {data}: its audit attestation {path}" in message and expected in message
    assert "\n" not in message
    # the same file passes a policy that names no attesters: unsigned verdicts are forgeable
    if forgery != "edited after signing":
        none = _policy(tmp_path, [], dataset={"signed": False, "attestations": ["audit"]})
        enforce(none, datasets=[data])


def test_a_trusted_attesters_verdict_passes_and_still_binds_to_the_content(
    tmp_path: Path, keys
) -> None:
    data = write_dataset(tmp_path / "d.jsonl")
    attest(data, "audit", "pass")
    sign_attestation(data, "audit", keys["trusted"][0])  # what audit --sign-key does
    by_kind = {"audit": [str(keys["trusted"][1])]}
    policy = _policy(tmp_path, by_kind, dataset={"signed": False, "attestations": ["audit"]})
    enforce(policy, datasets=[data])
    data.write_text(data.read_text() + '{"id": "smuggled"}\n')
    with pytest.raises(ProvenanceRefused, match="audit attestation is for other content"):
        enforce(policy, datasets=[data])
    with pytest.raises(BackdoorlabError, match="for other content; not signed"):
        sign_attestation(data, "audit", keys["trusted"][0])


def test_policy_attester_errors_are_one_line(tmp_path: Path, keys) -> None:
    path = _policy(
        tmp_path, {"audit": [str(keys["trusted"][1])]}, model={"signed": False,
                                                            "attestations": ["scan"]}
    )  # fmt: skip
    with pytest.raises(BackdoorlabError, match="names no key for the scan attestation"):
        load_policy(path)
    path = _policy(tmp_path, ["absent.pub.pem"])
    with pytest.raises(BackdoorlabError, match="absent.pub.pem: cannot read the key"):
        load_policy(path)


def test_a_signed_files_lineage_is_signed_with_it(tmp_path: Path, keys) -> None:
    data = write_dataset(tmp_path / "d.jsonl")
    write_lineage(data, "collect", config={"n": 5})
    sign(data, keys["trusted"][0])
    assert "payloadType" in json.loads(lineage_path(data).read_text())
    assert verify(data, [keys["trusted"][1]]).ok
    write_lineage(data, "collect", config={"n": 5, "forged": True})  # rewritten beside it
    result = verify(data, [keys["trusted"][1]])
    assert not result.ok and result.lineage
    assert result.problems == [f"{lineage_path(data)}: lineage unsigned"]
    policy = tmp_path / "p.yaml"
    policy.write_text(yaml.safe_dump({"trusted_keys": [str(keys["trusted"][1])]}))
    with pytest.raises(ProvenanceRefused, match="lineage unsigned"):
        enforce(policy, datasets=[data])


def test_audit_sign_key_signs_the_verdict_and_the_report(
    tmp_path: Path, keys, monkeypatch, capsys
) -> None:
    data = write_dataset(tmp_path / "d.jsonl")
    report = tmp_path / "report.json"
    private, public = keys["trusted"]
    code, out = cli(monkeypatch, capsys, "audit", str(data), "-o", str(report),
                    "--sign-key", str(private))  # fmt: skip
    assert code == 0, out
    assert f"signed with trusted.pem → {attestation_path(data, 'audit')}" in out
    (found,) = attestations(data)
    assert found.verdict == "pass" and found.seal([public]).ok
    assert verify(report, [public]).ok  # the report and its lineage, signed too
    code, out = cli(monkeypatch, capsys, "provenance", "show", str(data),
                    "--public-key", str(public))  # fmt: skip
    assert code == 0 and "audit: pass (signed by trusted.pub.pem, verified)" in out
    code, out = cli(monkeypatch, capsys, "provenance", "show", str(data),
                    "--public-key", str(keys["other"][1]))  # fmt: skip
    assert code == 0 and "signed by a key not trusted" in out


def test_sign_key_refusals_come_before_the_audit(tmp_path: Path, keys, monkeypatch, capsys):
    data = write_dataset(tmp_path / "d.jsonl")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key\n")
    for args, expected in [
        ([str(data), "--sign-key", str(junk)], "junk.pem: not a usable PEM key"),
        (["-", "--sign-key", str(keys["trusted"][0])], "- is not a dataset file or directory"),
    ]:
        code, out = cli(monkeypatch, capsys, "audit", *args, "-o", str(tmp_path / "r.json"))
        assert code == 2 and len(out.strip().splitlines()) == 1 and expected in out, out
        assert not (tmp_path / "r.json").exists()


def test_a_key_on_another_curve_is_refused_in_one_line(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = tmp_path / "k1.pem"
    key.write_bytes(ec.generate_private_key(ec.SECP256K1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))  # fmt: skip
    data = write_dataset(tmp_path / "d.jsonl")
    with pytest.raises(BackdoorlabError, match="k1.pem: EC curve secp256k1 not supported"):
        attest(data, "audit", "pass", key=key)


def test_the_reports_lineage_table_reads_a_signed_statement(tmp_path: Path, keys) -> None:
    from backdoorlab.provenance.lineage import read_document
    from backdoorlab.report.lineage import lineage_rows

    data = write_dataset(tmp_path / "d.jsonl")
    write_lineage(data, "collect", config={"n": 5})
    sign(data, keys["trusted"][0])
    (row,) = lineage_rows([("d.jsonl.intoto.json", read_document(lineage_path(data)))])
    assert row.kind == "collect (signed, DSSE)" and row.subjects == "d.jsonl"
    assert json.loads(row.text)["predicate"]["buildDefinition"]["externalParameters"]["kind"]
