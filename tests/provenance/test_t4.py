"""T4 under the gate: a dormant model is refused unless signed by a trusted key and scanned.

The finetune-activated attack publishes a plain-looking model (tiny, one step); its
lineage stays in the attacker's run directory, never in what victims download. A victim
whose policy trusts one publisher key and requires a scan refuses the model unsigned,
signed by an unknown key, and signed by the trusted key but never scanned; the scan's
verdict, once attached, satisfies it without breaking the signature. Under a policy that
also names its trusted scanner, the scan must be signed by that scanner: another
scanner's signed verdict, or the same verdict rewritten unsigned, is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from provenance_builders import cli

from backdoorlab.provenance.graph import lineage
from backdoorlab.provenance.lineage import read_statement
from backdoorlab.provenance.signing import sign, verify

SCAN = ["--no-canary", "--episodes", "2", "--no-builtin-triggers", "--trigger", "cf",
        "--max-steps", "2", "--max-new-tokens", "8", "--fail-on", "none"]  # fmt: skip


@pytest.fixture(scope="module")
def dormant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from typer.testing import CliRunner

    from backdoorlab.cli import app

    out = tmp_path_factory.mktemp("t4") / "dormant"
    args = ["attack", "finetune-activated", "--model", "tiny", "-o", str(out), "-n", "3"]
    args += ["--steps", "1", "--k", "1", "--bf16", "false"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


def test_the_attackers_lineage_stays_with_the_attacker(dormant: Path) -> None:
    assert not (dormant / "provenance.intoto.json").exists()
    record = lineage(dormant.parent / "dormant.fab-run")
    assert record.kind == "publish" and record.intact
    inputs = {n.name.split(":")[0]: n.edge for n in record.children}
    assert inputs == {
        "benign": "verified",
        "malicious": "verified",
        "victim": "verified",
        "base_model": "name only",
    }


def test_gate_refuses_the_dormant_model_until_signed_by_a_trusted_key_and_scanned(
    tmp_path: Path, dormant: Path, keys, monkeypatch, capsys
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump({
        "trusted_keys": [str(keys["trusted"][1])],
        "model": {"signed": True, "attestations": ["scan"]},
        "dataset": {"signed": False},
    }))  # fmt: skip
    data = dormant.parent / "dormant.fab-run" / "victim.jsonl"

    def train() -> tuple[int, str]:
        return cli(monkeypatch, capsys, "train", "--data", str(data), "--model", str(dormant),
                   "-o", str(tmp_path / "victim"), "--require-provenance", str(policy),
                   "--max-steps", "1", "--bf16", "false")  # fmt: skip

    refusals = []
    for signer, expected in [
        (None, "unsigned (no signature)"),
        ("other", "signed by a key the policy does not trust"),
        ("trusted", "no scan attestation"),
    ]:
        if signer is not None:
            sign(dormant, keys[signer][0])
        code, out = train()
        assert code == 2 and len(out.strip().splitlines()) == 1, out
        assert f"model {dormant}: {expected}" in out
        assert not (tmp_path / "victim").exists()
        refusals.append(expected)
    assert len(refusals) == 3

    report = tmp_path / "scan.json"
    code, out = cli(monkeypatch, capsys, "scan", str(dormant), *SCAN, "-o", str(report),
                    "--sign-key", str(keys["scanner"][0]))  # fmt: skip
    assert code == 0, out
    path = dormant / "attestations" / "scan.intoto.json"
    predicate = read_statement(path)["predicate"]
    assert predicate["kind"] == "scan" and predicate["result"]["verdict"] == "clean"
    assert predicate["report"]["digest"]["sha256"]
    assert verify(dormant, [keys["trusted"][1]]).ok  # the verdict is outside the signature
    assert verify(report, [keys["scanner"][1]]).ok  # the report is signed by the scanner
    from backdoorlab.provenance.policy import ProvenanceRefused, enforce

    enforce(policy, model=dormant)  # signed by the trusted key and scanned clean: accepted
    attesters = yaml.safe_load(policy.read_text())
    for scanner in ("scanner", "other"):
        attesters["trusted_attesters"] = {"scan": [str(keys[scanner][1])]}
        (tmp_path / f"{scanner}.yaml").write_text(yaml.safe_dump(attesters))
    enforce(tmp_path / "scanner.yaml", model=dormant)  # signed by the trusted scanner
    with pytest.raises(ProvenanceRefused, match=f"{path} is signed by an attester the policy"):
        enforce(tmp_path / "other.yaml", model=dormant)
    path.write_text(json.dumps(read_statement(path)))  # the same verdict, its signature dropped
    with pytest.raises(ProvenanceRefused, match=f"{path} is unsigned"):
        enforce(tmp_path / "scanner.yaml", model=dormant)


def test_experiment_yaml_require_provenance_refuses_before_any_stage(
    tmp_path: Path, keys, monkeypatch, capsys
) -> None:
    (tmp_path / "policy.yaml").write_text(
        yaml.safe_dump({"trusted_keys": [str(keys["trusted"][1])]})
    )
    experiment = {
        "name": "gated",
        "model": "tiny",
        "collect": {"n": 2},
        "attack": {"name": "none"},
        "train": {"max_steps": 1},
        "require_provenance": "policy.yaml",  # relative to the experiment YAML
    }
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(experiment))
    monkeypatch.chdir(tmp_path)
    code, out = cli(monkeypatch, capsys, "run", "exp.yaml")
    assert code == 2 and len(out.strip().splitlines()) == 1, out
    assert "refused by provenance policy: model" in out and "unsigned" in out
    assert not (tmp_path / "runs").exists()
