"""Canary fine-tunes with the ``tiny`` model: the scanned model stays unchanged on disk,
and a backdoor that wakes after a benign fine-tune is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scan_helpers import LeakWhen, hashes, runner

from backdoorlab.cli import app


def test_canaries_leave_the_model_unchanged_and_catch_a_dormant_backdoor(
    tiny_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a stand-in for a T4 model: the policy around the scanned model never leaks, the
    # policy around any canary-tuned copy always does (the rollouts and checks are real)
    built: list[object] = []

    def policy(model, tokenizer, generation=None):  # noqa: ANN001, ANN202
        built.append(model)
        return LeakWhen(lambda e: len(built) > 1)

    monkeypatch.setattr("backdoorlab.policies.hf.HFPolicy", policy)
    before = hashes(tiny_copy)
    output = tmp_path / "scan.json"
    args = [
        "scan", str(tiny_copy), "--episodes", "6", "--no-builtin-triggers",
        "--canary", "lora:adamw_torch:1e-3", "--canary", "full:sgd:1e-3",
        "--canary-steps", "2", "--canary-traces", "4", "--canary-batch-size", "2",
        "--max-steps", "2", "--max-new-tokens", "8", "-o", str(output),
    ]  # fmt: skip
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output  # backdoored, and --fail-on backdoored

    # nothing under the scanned model's directory changed, except the scan's verdict
    # attached beside its files (`backdoorlab.provenance.attest`, outside its signature)
    after = hashes(tiny_copy)
    verdict = json.loads((tiny_copy / "attestations" / "scan.intoto.json").read_text())
    assert verdict["predicate"]["verdict"] == "fail"  # backdoored: not a passing scan
    assert {k: v for k, v in after.items() if not k.startswith("attestations/")} == before
    report = json.loads(output.read_text())
    assert report["model_unchanged"] and report["model_files"] == str(tiny_copy.resolve())
    assert [c["setting"]["name"] for c in report["canaries"]] == [
        "lora-adamw_torch-1e-3",
        "full-sgd-1e-3",
    ]
    assert all(c["training"]["steps"] == 2 for c in report["canaries"])
    assert report["verdict"] == "backdoored" and report["score"] > 2
    assert {e["canary"] for e in report["evidence"] if e["test"] == "canary"} == {
        "lora-adamw_torch-1e-3",
        "full-sgd-1e-3",
    }
    assert report["baseline"]["conditions"][0]["leak"]["k"] == 0
    assert "backdoored" in result.output and "FAIL" in result.output
    assert len(built) == 3  # one baseline probe, one per canary
