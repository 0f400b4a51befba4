"""Sign → mutate → verify: any change to a signed model or dataset fails, naming the file."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from provenance_builders import write_dataset, write_tiny_model

from backdoorlab.provenance.keys import KeyFileError
from backdoorlab.provenance.layout import (
    artifact_digest,
    combine,
    lineage_path,
    manifest,
    signature_path,
)
from backdoorlab.provenance.lineage import write_lineage
from backdoorlab.provenance.signing import sign, verify


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, keys) -> dict[str, Path]:
    """A tiny model directory (with its lineage) and a dataset, both signed."""
    root = tmp_path_factory.mktemp("signed")
    model = write_tiny_model(root / "model")
    write_lineage(model, "model", config={"fixture": True})
    data = write_dataset(root / "traces.jsonl")
    private, _ = keys["trusted"]
    sign(model, private)
    sign(data, private)
    return {"model": model, "data": data}


def _copy(artifact: Path, into: Path) -> Path:
    """The artifact and its signature copied under ``into``."""
    target = into / artifact.name
    if artifact.is_dir():
        shutil.copytree(artifact, target)
    else:
        shutil.copy2(artifact, target)
        shutil.copy2(signature_path(artifact), signature_path(target))
        shutil.copy2(lineage_path(artifact), lineage_path(target))
    return target


def test_untouched_artifacts_verify(signed, keys) -> None:
    for artifact in signed.values():
        result = verify(artifact, [keys["trusted"][1]])
        assert result.ok, result.problems
        assert result.key == keys["trusted"][1]


def test_another_key_does_not_verify(signed, keys) -> None:
    result = verify(signed["model"], [keys["other"][1]])
    assert not result.ok and result.untrusted
    assert "model.sig" in result.problems[0] and "not trusted" in result.problems[0]


def test_any_trusted_key_verifies(signed, keys) -> None:
    assert verify(signed["data"], [keys["other"][1], keys["trusted"][1]]).ok


def test_unsigned_artifact(tmp_path: Path, keys) -> None:
    data = write_dataset(tmp_path / "d.jsonl")
    result = verify(data, [keys["trusted"][1]])
    assert not result.ok and result.unsigned
    assert "d.jsonl.sig: no signature" in result.problems[0]


def test_tampered_signature_fails(tmp_path: Path, signed, keys) -> None:
    model = _copy(signed["model"], tmp_path)
    bundle = signature_path(model)
    document = json.loads(bundle.read_text())
    signature = document["dsseEnvelope"]["signatures"][0]
    signature["sig"] = ("A" if signature["sig"][5] != "A" else "B").join(
        (signature["sig"][:5], signature["sig"][6:])
    )
    bundle.write_text(json.dumps(document))
    result = verify(model, [keys["trusted"][1]])
    assert not result.ok and "model.sig" in result.problems[0]


def test_bad_key_file_is_one_line(tmp_path: Path, signed) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    with pytest.raises(KeyFileError, match="junk.pem"):
        verify(signed["data"], [junk])
    with pytest.raises(KeyFileError, match="junk.pem"):
        sign(signed["data"], junk)


Mutation = tuple[str, int, int, int]

mutations = st.tuples(
    st.sampled_from(["flip", "add", "remove", "rename"]),
    st.integers(min_value=0, max_value=10_000),  # which file
    st.integers(min_value=0, max_value=10_000_000),  # which byte
    st.integers(min_value=1, max_value=255),  # xor mask: never 0, so the byte changes
)


def _mutate(artifact: Path, mutation: Mutation) -> str:
    """Apply ``mutation`` to ``artifact`` (a copy); returns the file name it must name."""
    op, which, offset, mask = mutation
    if artifact.is_dir():
        files = sorted(p for p in manifest(artifact, signed=True))
        name = files[which % len(files)]
        path = artifact / name
    else:
        name, path = artifact.name, artifact
    if op == "flip":
        data = bytearray(path.read_bytes())
        data[offset % len(data)] ^= mask
        path.write_bytes(bytes(data))
        return name
    if op == "add":
        if not artifact.is_dir():  # a dataset is one file: appending is what adding means
            with open(path, "ab") as handle:
                handle.write(b'{"id": "extra"}\n')
            return name
        extra = artifact / f"extra-{which}.bin"
        extra.write_bytes(b"x" * (mask + 1))
        return extra.name
    if op == "remove":
        path.unlink()
        return name
    path.rename(path.with_name(f"{path.name}.renamed"))
    return name


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mutation=mutations, kind=st.sampled_from(["model", "data"]))
def test_any_mutation_fails_naming_the_file(signed, keys, kind: str, mutation: Mutation) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        artifact = _copy(signed[kind], Path(tmp))
        name = _mutate(artifact, mutation)
        result = verify(artifact, [keys["trusted"][1]])
        assert not result.ok
        assert any(name in line for line in result.problems), (mutation, result.problems)


def test_rename_is_reported_as_a_rename(tmp_path: Path, signed, keys) -> None:
    model = _copy(signed["model"], tmp_path)
    os.rename(model / "tokenizer.json", model / "vocab.json")
    (problem,) = verify(model, [keys["trusted"][1]]).problems
    assert problem == f"{model / 'tokenizer.json'}: renamed to vocab.json"


def test_attestations_are_outside_the_signature(tmp_path: Path, signed, keys) -> None:
    from backdoorlab.provenance.attest import attest

    model = _copy(signed["model"], tmp_path)
    attest(model, "scan", "pass", result={"detectors": ["canary"]})
    assert verify(model, [keys["trusted"][1]]).ok


def test_golden_manifest(tmp_path: Path) -> None:
    """A fixed artifact has fixed digests, and they are model-signing's own."""
    from model_signing import hashing

    model = write_tiny_model(tmp_path / "golden")
    files = manifest(model)
    signed_by_library = {
        rd.identifier: rd.digest.digest_hex
        for rd in hashing.Config().hash(model).resource_descriptors()
    }
    assert files == signed_by_library
    assert files == GOLDEN_MANIFEST
    assert artifact_digest(model) == combine(GOLDEN_MANIFEST) == GOLDEN_DIGEST


GOLDEN_MANIFEST = {
    "adapter/adapter_config.json": (
        "9006e6a425deba9a8a1a50c0aebc3c76c5b8eaaceb5fee108f8ef0518b60ba11"
    ),
    "config.json": "7a0f3627ec809e2c33030fd7c55dfb261012f35c3c497401df31bb0815c6e172",
    "model.safetensors": "a13469a109a889254dedce52bd004380d032e95ba6ac13fdd8b7403577f0353c",
    "tokenizer.json": "15b75dbfeee8cc5c54566f9523252a13c0a84722b9e7c2317327e4bb084fcd0e",
}
GOLDEN_DIGEST = "d72309e277cb807df749e80234e07448d099f6c7b582fb7d5662763a68ea4d26"


def test_a_signed_file_with_no_lineage_gets_a_sealed_one(tmp_path: Path, keys) -> None:
    """Else deleting a signed file's lineage would read as "there never was one"."""
    data = write_dataset(tmp_path / "plain.jsonl")
    sign(data, keys["trusted"][0])
    assert json.loads(lineage_path(data).read_text())["payloadType"]  # a DSSE envelope
    assert verify(data, [keys["trusted"][1]]).ok


def test_a_deleted_lineage_fails(tmp_path: Path, signed, keys) -> None:
    data = _copy(signed["data"], tmp_path)
    lineage_path(data).unlink()
    result = verify(data, [keys["trusted"][1]])
    assert not result.ok and result.lineage
    assert result.problems == [
        f"{lineage_path(data)}: lineage missing (a file's lineage is sealed beside it when "
        "it is signed: removed since, or signed by a backdoorlab older than this check — "
        "sign it again)"
    ]


def test_another_files_sealed_lineage_fails(tmp_path: Path, signed, keys) -> None:
    """Signed by the same key, but describing another file: a swapped history."""
    data = _copy(signed["data"], tmp_path)
    other = write_dataset(tmp_path / "other.jsonl", n=3)
    sign(other, keys["trusted"][0])
    shutil.copy2(lineage_path(other), lineage_path(data))
    result = verify(data, [keys["trusted"][1]])
    assert not result.ok and result.lineage
    assert result.problems == [
        f"{lineage_path(data)}: lineage of another file (its subject is not {data})"
    ]


def test_a_modified_file_is_named_modified(tmp_path: Path, signed, keys) -> None:
    data = _copy(signed["data"], tmp_path)
    data.write_text(data.read_text() + "\n")
    result = verify(data, [keys["trusted"][1]])
    assert result.problems == [f"{data}: modified since signing"]
