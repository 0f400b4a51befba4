"""Audit on `web` traces: recall and FPR per attack × poison rate, next to retail's.

benchmarks/audit.py's method on the browsing environment: a clean oracle set, poisoned
with T1 (trigger in the user turn, or in an observation; the payload a webmail message —
the default destination is an e-mail address), ``T1-url`` (trigger in the user turn, the
payload in a navigation's query string to the attacker's host) and T2 (the attacker
writes forum posts, e-mails, seller notes and reviews; the teacher obeys half the
requests it reads) at 1, 2, 5 and 10%; each file audited with the rule-based detectors
and scored with audit.py's `score` against ``metadata.poison`` (read only here). The
retail figures are read from benchmarks/results/audit.json (the same method), not re-run.

    .venv/bin/python benchmarks/audit_web.py [-n 1000] [--rates 0.01,0.02,0.05,0.1]
        [--out benchmarks/results/audit_web.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from audit import labels_of, score  # benchmarks/audit.py: the same scoring

from backdoorlab.attacks.base import make_attack
from backdoorlab.defenses.audit import audit
from backdoorlab.envs import make_env
from backdoorlab.policies import make_policy
from backdoorlab.rollout import iter_rollout
from backdoorlab.traces import atomic_writer, write_traces

ATTACKS = ("T1-user", "T1-observation", "T1-url", "T2")
T2_POINTS = ["forum_post", "email", "order_note", "product_review"]
T2_OBEY = 0.5
URL = "https://acct-verify.net/c"


def collect(path: Path, n: int) -> None:
    env = make_env("web", seed=0)
    tasks = env.tasks("train", n, seed=0)
    write_traces(path, (r.trace for r in iter_rollout(env, make_policy("oracle"), tasks)))


def _t2(n: int, share: float, out: Path) -> int:
    attack = make_attack(
        "env-poisoning",
        env="web",
        n=n,
        seed=1,
        target_share=share,
        obey_probability=T2_OBEY,
        points=T2_POINTS,
    )
    return attack.run(str(out)).poisoned


def poison(attack: str, rate: float, clean: Path, out: Path, n: int) -> int:
    """Write the poisoned file; return how many traces really are poisoned."""
    if attack.startswith("T1"):
        placement = "observation" if attack == "T1-observation" else "user"
        extra = {"destination": URL} if attack == "T1-url" else {}
        t1 = make_attack("data-poisoning", rate=rate, placement=placement, **extra)
        return t1.run(str(out), input=str(clean)).poisoned
    # T2's count is random (which tasks read a written slot, whether the teacher obeys):
    # rescale the written share towards the target a few times, keep the closest
    share, best = min(1.0, 2 * rate / T2_OBEY), None
    for _ in range(4):
        got = _t2(n, share, out) / n
        if best is None or abs(got - rate) < abs(best[1] - rate):
            best = (share, got)
        if abs(got - rate) <= 0.1 * rate or not got:
            break
        share = min(1.0, share * rate / got)
    assert best is not None
    return _t2(n, best[0], out)


def retail_rows(path: Path) -> dict[tuple[str, float], dict[str, Any]]:
    if not path.exists():
        return {}
    rows = json.loads(path.read_text(encoding="utf-8")).get("rows", [])
    return {(r["attack"], r["rate"]): r["detectors"] for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--rates", default="0.01,0.02,0.05,0.1")
    parser.add_argument("--out", default="benchmarks/results/audit_web.json")
    parser.add_argument("--retail", default="benchmarks/results/audit.json")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    retail = retail_rows(Path(args.retail))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clean = work / "clean.jsonl"
        collect(clean, args.n)
        clean_report = audit(clean, ["dataflow", "trigger-mining"])
        clean_flags = sum(1 for f in clean_report.findings if f.at_least("medium"))
        for attack in ATTACKS:
            for rate in rates:
                out = work / f"{attack}-{rate}.jsonl"
                poisoned = poison(attack, rate, clean, out, args.n)
                labels = labels_of(out)
                start = time.perf_counter()
                report = audit(out, ["dataflow", "trigger-mining"])
                seconds = time.perf_counter() - start
                detectors = score(report, labels)
                row = {
                    "attack": attack,
                    "rate": rate,
                    "traces": len(labels),
                    "poisoned": poisoned,
                    "audit_traces_per_s": round(len(labels) / seconds, 1),
                    "detectors": detectors,
                }
                old = retail.get((attack, rate))
                if old is not None:
                    row["retail"] = {
                        d: {k: old[d][k] for k in ("recall", "fpr")} for d in detectors if d in old
                    }
                rows.append(row)
                d, r = detectors["dataflow"], row.get("retail", {}).get("dataflow", {})
                print(
                    f"{attack:15s} {rate:5.2f} poisoned {poisoned:4d}  dataflow recall "
                    f"{d['recall']} fpr {d['fpr']:.4f}  trigger-mining recall "
                    f"{detectors['trigger-mining']['recall']} fpr "
                    f"{detectors['trigger-mining']['fpr']:.4f}  | retail dataflow "
                    f"{r.get('recall')} / {r.get('fpr')}"
                )
    report = {"env": "web", "n": args.n, "clean_flags": clean_flags, "rows": rows}
    with atomic_writer(args.out) as handle:
        json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
