"""The T1 pipeline's lineage end to end, and the gate that refuses what it cannot verify.

collect → poison → audit (--filter) → train (tiny, one step) → eval, all through the CLI;
``provenance show`` on the metrics draws the chain back to the clean collection, each edge
verified by digest, the audit's verdict on the poisoned set. The same training with
``--require-provenance`` refuses, in one line and before anything is trained, a dataset
modified after its audit and a base model unsigned or signed by another key.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from provenance_builders import cli

from backdoorlab.models import TINY_MODEL, resolve_model_dir
from backdoorlab.provenance.signing import sign

TRAIN = ["--max-steps", "1", "--batch-size", "2", "--bf16", "false"]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The T1 pipeline's files (CLI in-process, with the tiny model)."""
    root = tmp_path_factory.mktemp("t1")
    paths = {n: root / n for n in ("clean.jsonl", "poisoned.jsonl", "filtered.jsonl")}
    paths |= {"report": root / "audit.json", "run": root / "run", "metrics": root / "m.json"}
    mp, capture = pytest.MonkeyPatch(), _Capture()
    steps = [
        ["collect", "-n", "8", "-o", str(paths["clean.jsonl"]), "--tokenizer", ""],
        ["poison", "--attack", "data-poisoning", "-i", str(paths["clean.jsonl"]),
         "-o", str(paths["poisoned.jsonl"]), "--rate", "0.5"],
        ["audit", str(paths["poisoned.jsonl"]), "-o", str(paths["report"]), "--filter",
         str(paths["filtered.jsonl"]), "--fail-on", "none"],
        ["train", "--data", str(paths["filtered.jsonl"]), "--model", TINY_MODEL, "-o",
         str(paths["run"]), *TRAIN],
        ["eval", "--model", str(paths["run"]), "-n", "1", "--max-steps", "1",
         "--max-new-tokens", "2", "-o", str(paths["metrics"])],
    ]  # fmt: skip
    try:
        for step in steps:
            code, out = cli(mp, capture, *step)
            assert code == 0, (step, out)
    finally:
        mp.undo()
    return paths


class _Capture:
    """``capsys`` for a module-scoped fixture: the output is not needed, only the code."""

    def readouterr(self):  # noqa: ANN201
        from types import SimpleNamespace

        return SimpleNamespace(out="", err="")


def test_show_draws_the_t1_lineage_to_its_roots(pipeline, monkeypatch, capsys) -> None:
    code, out = cli(monkeypatch, capsys, "provenance", "show", str(pipeline["metrics"]), "--json")
    assert code == 0, out
    node = json.loads(out[: out.rindex("}") + 1])
    chain = []
    while True:
        chain.append(node["kind"])
        files = [i for i in node["inputs"] if i["path"] and i["edge"] != "name only"]
        if not files:
            break
        assert all(i["edge"] == "verified" for i in files), files
        node = files[0]
    assert chain == ["eval", "train", "filter", "poison", "collect"]
    code, out = cli(monkeypatch, capsys, "provenance", "show", str(pipeline["metrics"]))
    assert code == 0 and "audit: pass" in out and "[collect] verified" in out


def _gate(tmp_path: Path, keys, pipeline) -> tuple[Path, Path, Path]:
    """A policy trusting ``trusted``, a signed copy of the tiny base model and of the
    audited training set."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        yaml.safe_dump(
            {
                "trusted_keys": [str(keys["trusted"][1])],
                "model": {"signed": True},
                "dataset": {"signed": True, "attestations": ["audit"]},
            }
        )
    )
    model = tmp_path / "base"
    shutil.copytree(resolve_model_dir(TINY_MODEL), model)
    sign(model, keys["trusted"][0])
    data = tmp_path / "data.jsonl"
    shutil.copy(pipeline["clean.jsonl"], data)
    return policy, model, data


def _train(monkeypatch, capsys, policy: Path, model: Path, data: Path, out: Path):  # noqa: ANN202
    return cli(monkeypatch, capsys, "train", "--data", str(data), "--model", str(model),
               "-o", str(out), "--require-provenance", str(policy), *TRAIN)  # fmt: skip


def test_gate_passes_then_refuses_a_dataset_modified_after_its_audit(
    tmp_path: Path, keys, pipeline, monkeypatch, capsys
) -> None:
    policy, model, data = _gate(tmp_path, keys, pipeline)
    code, out = _train(monkeypatch, capsys, policy, model, data, tmp_path / "unaudited")
    assert code == 2 and f"dataset {data}: no audit attestation" in out
    assert not (tmp_path / "unaudited").exists()
    code, out = cli(monkeypatch, capsys, "audit", str(data), "--fail-on", "high")
    assert code == 0, out
    sign(data, keys["trusted"][0])
    code, out = _train(monkeypatch, capsys, policy, model, data, tmp_path / "ok")
    assert code == 0, out
    assert (tmp_path / "ok" / "provenance.intoto.json").is_file()

    data.write_text(data.read_text() + data.read_text().splitlines()[0] + "\n")  # after audit
    code, out = _train(monkeypatch, capsys, policy, model, data, tmp_path / "refused")
    assert code == 2 and len(out.strip().splitlines()) == 1
    assert f"dataset {data}: modified since signing" in out
    assert not (tmp_path / "refused").exists()
    sign(data, keys["trusted"][0])  # re-signed, but its audit is of the old content
    code, out = _train(monkeypatch, capsys, policy, model, data, tmp_path / "refused")
    assert code == 2 and "audit attestation is for other content" in out
    assert not (tmp_path / "refused").exists()


@pytest.mark.parametrize("case", ["unsigned", "other key"])
def test_gate_refuses_a_base_model_unsigned_or_by_another_key(
    tmp_path: Path, keys, pipeline, monkeypatch, capsys, case: str
) -> None:
    policy, model, data = _gate(tmp_path, keys, pipeline)
    (model / "model.sig").unlink()
    if case == "other key":
        sign(model, keys["other"][0])
    code, out = _train(monkeypatch, capsys, policy, model, data, tmp_path / "run")
    assert code == 2 and len(out.strip().splitlines()) == 1
    expected = "unsigned" if case == "unsigned" else "signed by a key the policy does not trust"
    assert f"model {model}: {expected}" in out
    assert not (tmp_path / "run").exists()
