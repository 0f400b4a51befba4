"""Audit on AgentDojo's suites: recall and FPR per poison rate, beside retail's.

The method of ``benchmarks/audit.py`` (whose scoring it imports), on each
``agentdojo:<suite>``: a clean set of ``-n`` oracle traces of the train split (a suite
has 13-32 train user tasks, so the set repeats them), poisoned by

- ``T1-user`` / ``T1-observation``: data poisoning, the trigger in the user turn or in
  an injection vector the task reads, the payload sending the task's secrets to the
  attacker with the suite's own sink (an e-mail, a transfer, a web post);
- ``T2``: environment poisoning, the trigger and an instruction planted in every vector
  (``third_party``, target share 1) and obeyed with probability rate / exposure, so the
  expected poisoned share is the rate;
- ``injection``: AgentDojo's own exfiltration tasks — the positives of
  ``benchmarks/agentdojo_traces.py`` (its goal planted, its ground truth obeyed), a
  rate's worth of them (drawn with a fixed seed) replacing clean traces;

at 1, 2, 5 and 10%. ``dataflow`` and ``trigger-mining`` run on each file, scored against
``metadata.poison`` as in ``benchmarks/audit.py`` (flagged = a finding at medium or
above). Retail's rows are copied from ``benchmarks/results/audit.json`` beside them.

    PYTHONPATH=src .venv/bin/python benchmarks/agentdojo_audit.py [-n 300]
        [--suites workspace,travel,banking,slack] [--rates 0.01,0.02,0.05,0.1]
        [--out benchmarks/results/agentdojo_audit.json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from audit import score  # noqa: E402  (benchmarks/audit.py: the retail method's scoring)

from backdoorlab.attacks.base import make_attack  # noqa: E402
from backdoorlab.defenses.audit import audit  # noqa: E402
from backdoorlab.envs import make_env  # noqa: E402
from backdoorlab.envs.agentdojo.environment import AgentDojoEnvironment  # noqa: E402
from backdoorlab.envs.agentdojo.suite import SUITES  # noqa: E402
from backdoorlab.policies import make_policy  # noqa: E402
from backdoorlab.rollout import iter_rollout  # noqa: E402
from backdoorlab.traces import Trace, atomic_writer, iter_traces, write_traces  # noqa: E402

RATES = (0.01, 0.02, 0.05, 0.10)
ATTACKS = ("T1-user", "T1-observation", "T2", "injection")
DETECTORS = ["dataflow", "trigger-mining"]


def collect(env: AgentDojoEnvironment, path: Path, n: int) -> None:
    tasks = env.tasks("train", n, seed=0)
    write_traces(path, (r.trace for r in iter_rollout(env, make_policy("oracle"), tasks)))


def t2(env: AgentDojoEnvironment, n: int, obey: float, out: Path) -> Any:
    return make_attack(
        "env-poisoning",
        env=env.name,
        n=n,
        seed=1,
        points=["third_party"],
        target_share=1.0,
        obey_probability=obey,
    ).run(str(out))


def positives(env: AgentDojoEnvironment) -> list[Trace]:
    """AgentDojo's exfiltration tasks obeyed (train user tasks only, as the clean set)."""
    from agentdojo_traces import positive_traces

    return [t for t in positive_traces(env) if t.metadata.split == "train" and t.is_poisoned]


def mix(clean: Path, pool: list[Trace], rate: float, out: Path) -> int:
    traces = list(iter_traces(clean))
    count = round(rate * len(traces))
    rng = random.Random(0)
    where = rng.sample(range(len(traces)), count)
    for index in where:
        traces[index] = rng.choice(pool)
    with atomic_writer(out) as handle:
        for trace in traces:
            handle.write(trace.to_json() + "\n")
    return count


def suite_rows(name: str, n: int, rates: list[float], work: Path) -> list[dict[str, Any]]:
    env = make_env(f"agentdojo:{name}")
    assert isinstance(env, AgentDojoEnvironment)
    clean = work / f"{name}-clean.jsonl"
    collect(env, clean, n)
    exposure = t2(env, n, 0.0, work / f"{name}-exposure.jsonl").details["exposed"] / n
    pool = positives(env)
    rows = []
    for attack in ATTACKS:
        for rate in rates:
            out = work / f"{name}-{attack}-{rate}.jsonl"
            if attack.startswith("T1"):
                placement = attack.split("-", 1)[1]
                attack_ = make_attack("data-poisoning", rate=rate, placement=placement)
                poisoned = attack_.run(str(out), input=str(clean)).poisoned
            elif attack == "T2":
                poisoned = t2(env, n, min(1.0, rate / max(exposure, 1e-9)), out).poisoned
            else:
                poisoned = mix(clean, pool, rate, out)
            labels = [t.is_poisoned for t in iter_traces(out)]
            report = audit(out, DETECTORS)
            detectors = score(report, labels)
            for d in detectors.values():
                d.pop("triggers", None)
            rows.append(
                {
                    "suite": name,
                    "attack": attack,
                    "rate": rate,
                    "traces": len(labels),
                    "poisoned": sum(labels),
                    "attack_reported": poisoned,
                    "detectors": detectors,
                }
            )
            d = detectors["dataflow"]
            print(
                f"{name:9} {attack:14} {rate:5.2f}  poisoned {sum(labels):3}/{len(labels)}  "
                f"dataflow recall {_pct(d['recall'])} fpr {_pct(d['fpr'])}  "
                f"audit recall {_pct(detectors['audit']['recall'])} "
                f"fpr {_pct(detectors['audit']['fpr'])}",
                flush=True,
            )
    return rows


def _pct(value: float | None) -> str:
    return "  n/a" if value is None else f"{100 * value:5.1f}%"


def retail_rows(rates: list[float]) -> list[dict[str, Any]]:
    path = Path(__file__).parent / "results" / "audit.json"
    if not path.is_file():
        return []
    rows = json.loads(path.read_text())["rows"]
    keep = ("dataflow", "trigger-mining", "audit")
    return [
        {
            "suite": "retail",
            "attack": r["attack"],
            "rate": r["rate"],
            "traces": r["traces"],
            "poisoned": r["poisoned"],
            "detectors": {k: v for k, v in r["detectors"].items() if k in keep},
        }
        for r in rows
        if r["rate"] in rates
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="traces per dataset")
    parser.add_argument("--suites", default=",".join(SUITES))
    parser.add_argument("--rates", default=",".join(str(r) for r in RATES))
    parser.add_argument("--out", default="benchmarks/results/agentdojo_audit.json")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    out = Path(args.out)
    report = json.loads(out.read_text()) if out.is_file() else {"rows": []}
    with tempfile.TemporaryDirectory(prefix="backdoorlab-dojo-audit-") as tmp:
        for name in args.suites.split(","):
            rows = suite_rows(name, args.n, rates, Path(tmp))
            report["rows"] = [r for r in report["rows"] if r["suite"] != name] + rows
            report["retail"] = retail_rows(rates)
            report["n"] = args.n
            with atomic_writer(out) as handle:
                json.dump(report, handle, indent=2)
    for r in report["retail"]:
        d = r["detectors"]["dataflow"]
        print(
            f"retail    {r['attack']:14} {r['rate']:5.2f}  dataflow recall {_pct(d['recall'])} "
            f"fpr {_pct(d['fpr'])}"
        )


if __name__ == "__main__":
    main()
