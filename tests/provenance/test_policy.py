"""The gate: a policy refuses unsigned, untrusted, modified or unattested artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from provenance_builders import write_dataset, write_tiny_model

from backdoorlab.errors import BackdoorlabError
from backdoorlab.provenance import attest
from backdoorlab.provenance.policy import ProvenanceRefused, enforce, load_policy
from backdoorlab.provenance.signing import sign


def _policy(tmp_path: Path, public: Path, **require) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump({"trusted_keys": [str(public)], **require}))
    return path


def test_signed_and_audited_dataset_passes(tmp_path: Path, keys) -> None:
    data = write_dataset(tmp_path / "d.jsonl")
    attest(data, "audit", "pass")
    sign(data, keys["trusted"][0])
    enforce(
        _policy(tmp_path, keys["trusted"][1], dataset={"attestations": ["audit"]}), datasets=[data]
    )


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unsigned", "unsigned"),
        ("other key", "signed by a key the policy does not trust"),
        ("modified", "modified since signing"),
    ],
)
def test_model_refusals_name_the_artifact(tmp_path: Path, keys, case, expected) -> None:
    model = write_tiny_model(tmp_path / "model")
    if case != "unsigned":
        sign(model, keys["other" if case == "other key" else "trusted"][0])
    if case == "modified":
        (model / "model.safetensors").write_bytes(b"\0" * 64)
    with pytest.raises(ProvenanceRefused) as refused:
        enforce(_policy(tmp_path, keys["trusted"][1]), model=model)
    assert str(model) in str(refused.value) and expected in str(refused.value)


def test_dataset_modified_after_its_audit(tmp_path: Path, keys) -> None:
    data = write_dataset(tmp_path / "d.jsonl")
    attest(data, "audit", "pass")
    policy = _policy(
        tmp_path, keys["trusted"][1], dataset={"signed": False, "attestations": ["audit"]}
    )
    enforce(policy, datasets=[data])
    data.write_text(data.read_text() + '{"id": "smuggled"}\n')
    with pytest.raises(ProvenanceRefused, match="audit attestation is for other content"):
        enforce(policy, datasets=[data])


def test_failing_verdict_and_missing_verdict(tmp_path: Path, keys) -> None:
    model = write_tiny_model(tmp_path / "model")
    sign(model, keys["trusted"][0])
    policy = _policy(tmp_path, keys["trusted"][1], model={"attestations": ["scan"]})
    with pytest.raises(ProvenanceRefused, match="no scan attestation"):
        enforce(policy, model=model)
    attest(model, "scan", "fail")
    with pytest.raises(ProvenanceRefused, match="scan verdict is not pass"):
        enforce(policy, model=model)
    attest(model, "scan", "pass")
    enforce(policy, model=model)


def test_policy_file_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("model: {signd: true}\n")
    with pytest.raises(BackdoorlabError, match="signd"):
        load_policy(bad)
    bad.write_text("model: {signed: true}\n")
    with pytest.raises(BackdoorlabError, match="no trusted_keys"):
        load_policy(bad)
    with pytest.raises(BackdoorlabError, match="no such provenance policy"):
        load_policy(tmp_path / "absent.yaml")


def test_a_wrongly_typed_union_field_names_the_user_s_field(tmp_path: Path, keys) -> None:
    """trusted_attesters is a list or a mapping: a wrong value was reported under
    pydantic's schema tag (``field 'trusted_attesters.list[lax-or-strict[...]]'``)."""
    path = tmp_path / "policy.yaml"
    for value, field, words in (
        ({"scan": "scanner.pub.pem"}, "trusted_attesters.scan", "valid list"),
        (5, "trusted_attesters", "valid list or a valid dictionary"),
    ):
        path.write_text(yaml.safe_dump({"trusted_keys": [], "trusted_attesters": value}))
        with pytest.raises(BackdoorlabError) as info:
            load_policy(path)
        assert str(info.value) == f"{path}: field '{field}': Input should be a {words}"
