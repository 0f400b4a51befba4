"""Provenance cost: sign + verify time for the 135M model directory and a 100k-trace dataset.

The model is SmolLM2-135M-Instruct as backdoorlab caches it (safetensors, ~540 MB), copied
into a temporary directory (the cache stays read-only); the dataset is 100k oracle-shaped
traces (one collected batch of retail traces repeated with fresh ids: the cost is the
bytes hashed, not their content). Each artifact is signed with a fresh EC P-256 key by
OpenSSF model-signing and verified; the lineage Statement write is timed too, and a
signed verdict: ``attest_sign_s`` (the artifact's content digest + the DSSE envelope
signed and written, what ``audit --sign-key`` adds), ``attest_verify_s`` (the digest again
+ the envelope checked against the attester's key), ``envelope_sign_ms`` /
``envelope_verify_ms`` (the DSSE signature alone), and ``gate_s`` (the whole
``--require-provenance`` check: signature, verdict, attester). Median of ``--repeats``
runs; the results go to ``benchmarks/results/provenance_cost.json``.

    .venv/bin/python benchmarks/provenance_cost.py [--traces 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backdoorlab.models import DEFAULT_MODEL, resolve_model_dir
from backdoorlab.provenance import envelope
from backdoorlab.provenance.attest import attest, attestations
from backdoorlab.provenance.layout import attestation_path, manifest
from backdoorlab.provenance.lineage import read_document, read_statement, write_lineage
from backdoorlab.provenance.policy import ProvenancePolicy, Requirement, enforce
from backdoorlab.provenance.signing import sign, verify

RESULTS = Path(__file__).parent / "results" / "provenance_cost.json"


def keypair(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = directory / "key.pem", directory / "key.pub.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption()))  # fmt: skip
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))  # fmt: skip
    return private, public


def dataset(path: Path, n: int) -> Path:
    from backdoorlab.envs import make_env
    from backdoorlab.policies import make_policy
    from backdoorlab.rollout import rollout

    env = make_env("retail", seed=0)
    results = rollout(env, make_policy("oracle"), env.tasks("train", 200, seed=0))
    rows = [json.loads(r.trace.to_json()) for r in results]
    with open(path, "w") as handle:
        for i in range(n):
            row = dict(rows[i % len(rows)])
            row["id"] = f"bench-{i}"
            handle.write(json.dumps(row, default=str) + "\n")
    return path


def timed(function) -> float:  # noqa: ANN001
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def measure(artifact: Path, private: Path, public: Path, repeats: int) -> dict[str, float]:
    lineage = [timed(lambda: write_lineage(artifact, "benchmark")) for _ in range(repeats)]
    signs = [timed(lambda: sign(artifact, private)) for _ in range(repeats)]
    verifies = []
    for _ in range(repeats):
        started = time.perf_counter()
        assert verify(artifact, [public]).ok
        verifies.append(time.perf_counter() - started)
    size = sum((artifact / n).stat().st_size for n in manifest(artifact)) if artifact.is_dir() \
        else artifact.stat().st_size  # fmt: skip
    attest_signs = [timed(lambda: attest(artifact, "audit", "pass", key=private))
                    for _ in range(repeats)]  # fmt: skip
    attest_verifies = []
    for _ in range(repeats):
        started = time.perf_counter()
        (found,) = attestations(artifact)
        assert found.current and found.seal([public]).ok
        attest_verifies.append(time.perf_counter() - started)
    statement = read_statement(attestation_path(artifact, "audit"))
    document = read_document(attestation_path(artifact, "audit"))
    envelope_signs = [timed(lambda: envelope.seal(statement, private)) for _ in range(20)]
    envelope_verifies = [timed(lambda: envelope.check(document, [public])) for _ in range(20)]
    role = "model" if artifact.is_dir() else "dataset"
    required = Requirement(signed=True, attestations=["audit"])
    policy = ProvenancePolicy(trusted_keys=[public], trusted_attesters=[public],
                              **{role: required})  # fmt: skip
    check = {"model": artifact} if role == "model" else {"datasets": [artifact]}
    gates = [timed(lambda: enforce(policy, **check)) for _ in range(repeats)]
    return {
        "bytes": size,
        "lineage_s": round(statistics.median(lineage), 3),
        "sign_s": round(statistics.median(signs), 3),
        "verify_s": round(statistics.median(verifies), 3),
        "sign_MB_per_s": round(size / 1e6 / statistics.median(signs), 1),
        "attest_sign_s": round(statistics.median(attest_signs), 3),
        "attest_verify_s": round(statistics.median(attest_verifies), 3),
        "envelope_sign_ms": round(1000 * statistics.median(envelope_signs), 2),
        "envelope_verify_ms": round(1000 * statistics.median(envelope_verifies), 2),
        "gate_s": round(statistics.median(gates), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="provenance-bench-") as tmp:
        root = Path(tmp)
        private, public = keypair(root)
        model = root / "smollm2-135m"
        shutil.copytree(resolve_model_dir(DEFAULT_MODEL), model)
        results["model_135m"] = measure(model, private, public, args.repeats)
        print("model 135M:", results["model_135m"], flush=True)
        data = dataset(root / "traces.jsonl", args.traces)
        results[f"dataset_{args.traces}_traces"] = measure(data, private, public, args.repeats)
        print(f"dataset {args.traces} traces:", results[f"dataset_{args.traces}_traces"])
    RESULTS.parent.mkdir(exist_ok=True)
    load = [round(x, 1) for x in os.getloadavg()]
    document = {"repeats": args.repeats, "loadavg_1_5_15": load, **results}
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(f"→ {RESULTS}")


if __name__ == "__main__":
    main()
