"""The audit's CPU per trace on given files, cold caches, and beside another checkout.

`audit_scale.py` and `audit_workers.py` time whole commands on the retail pool, whose
tool results recur (one world), so the audit's caches serve most of them; a user's own
data repeats far less. This times `backdoorlab.defenses.audit.audit` on each file in
one child process per tree: imports warmed on three traces of the first file, then for
each file the audit's caches cleared (`dataflow.clear_caches`) and the file audited
``--repeat`` times, the best CPU time (``time.process_time``) kept. It prints CPU
seconds and microseconds a trace per file; with ``--baseline-src DIR`` (another
checkout's ``src``) the same in a child with ``PYTHONPATH=DIR``, the trees alternating
``--rounds`` times, and the ratio of their best times (above 1: this tree is faster).

    .venv/bin/python benchmarks/audit_per_trace.py FILE [FILE ...] [--detectors dataflow]
        [--repeat 3] [--baseline-src DIR] [--rounds 1] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

from backdoorlab.traces import atomic_writer


def measure(files: list[str], detectors: list[str], repeat: int) -> list[dict[str, object]]:
    """In this process: each file's trace count and best CPU seconds over ``repeat``
    audits, its caches cleared first."""
    from backdoorlab.defenses.audit import audit
    from backdoorlab.defenses.audit.dataflow import clear_caches

    with tempfile.TemporaryDirectory() as tmp:  # the imports and lazy detectors, warmed
        warm = Path(tmp) / "warm.jsonl"
        with open(files[0], "rb") as source:
            warm.write_bytes(b"".join(islice(source, 3)))
        audit(warm, detectors)
    rows = []
    for path in files:
        with open(path, "rb") as handle:
            traces = sum(1 for line in handle if line.strip())
        best = float("inf")
        for _ in range(repeat):
            clear_caches()
            start = time.process_time()
            audit(path, detectors)
            best = min(best, time.process_time() - start)
        rows.append({"file": path, "traces": traces, "cpu_seconds": round(best, 3)})
    return rows


def in_child(args: argparse.Namespace, src: str | None) -> list[dict[str, object]]:
    """`measure` in a fresh interpreter (``PYTHONPATH=src`` when given)."""
    argv = [sys.executable, __file__, *args.files, "--detectors", args.detectors]
    argv += ["--repeat", str(args.repeat), "--child"]
    env = dict(os.environ, PYTHONPATH=src) if src else None
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the audit failed ({src or 'this tree'}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--detectors", default="dataflow", help="comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="audits per file, best kept")
    parser.add_argument("--baseline-src", help="another checkout's src, run alternating")
    parser.add_argument("--rounds", type=int, default=1, help="alternations with the baseline")
    parser.add_argument("--out", type=Path, help="write the rows here as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    for path in args.files:
        if not Path(path).is_file():
            print(f"error: {path}: no such file", file=sys.stderr)
            raise SystemExit(2)
    if args.child:
        print(json.dumps(measure(args.files, args.detectors.split(","), args.repeat)))
        return
    trees = {"this": None} | ({"baseline": args.baseline_src} if args.baseline_src else {})
    best: dict[tuple[str, str], dict[str, object]] = {}
    for _ in range(args.rounds if args.baseline_src else 1):
        for tree, src in trees.items():
            for row in in_child(args, src):
                key = (tree, str(row["file"]))
                if key not in best or row["cpu_seconds"] < best[key]["cpu_seconds"]:
                    best[key] = row
    rows = []
    for path in args.files:
        mine = best[("this", path)]
        row = {"file": path, "traces": mine["traces"], "cpu_seconds": mine["cpu_seconds"]}
        row["us_per_trace"] = round(mine["cpu_seconds"] / max(mine["traces"], 1) * 1e6)
        if args.baseline_src:
            theirs = best[("baseline", path)]
            row["baseline_cpu_seconds"] = theirs["cpu_seconds"]
            row["baseline_us_per_trace"] = round(
                theirs["cpu_seconds"] / max(theirs["traces"], 1) * 1e6
            )
            row["speed_up"] = round(theirs["cpu_seconds"] / max(mine["cpu_seconds"], 1e-9), 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.out:
        result = {"detectors": args.detectors, "baseline_src": args.baseline_src, "rows": rows}
        with atomic_writer(args.out) as handle:
            handle.write(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
