"""Peak memory of an evaluation: ``backdoorlab eval`` of a local model as a whole command.

Runs ``backdoorlab eval --model MODEL -n N [--trigger …]`` in a child process and prints
its peak RSS (``os.wait4``'s ``ru_maxrss``: the child's own high-water mark), its wall
and CPU seconds, and its TSR / FTR / ASR counts. Inside the child every policy turn logs
the process's RSS and the bytes of the key/value caches the active episodes hold, so
the peak can be set against what the conversations themselves need.
``--baseline-src DIR`` runs the same evaluation with ``PYTHONPATH=DIR`` (another
checkout's ``src``) afterwards; the two runs' metrics must be identical (greedy decoding).

    .venv/bin/python benchmarks/eval_memory.py --model RUN [-n 16] [--trigger "…"]
        [--batch-size 16] [--baseline-src DIR] [--out benchmarks/results/eval_memory.json]

With ``OMP_NUM_THREADS=1`` on a shared machine the figures are less disturbed by load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backdoorlab.files import atomic_writer

# What the child runs: the CLI, with `HFPolicy.act` wrapped to log each turn's memory.
_CHILD = r"""
import json, sys
from backdoorlab.policies import hf

def _status():
    fields = {}
    for line in open("/proc/self/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024
    return fields

_act, _log = hf.HFPolicy.act, open(sys.argv[1], "a")

def act(self, episodes):
    actions = _act(self, episodes)
    held = 0
    for episode in episodes:
        prefix = episode.kv_cache.value
        for key, value in prefix.layers if prefix is not None else ():
            held += key.nbytes + value.nbytes
    fields = _status()
    tokens = max((len(e.kv_cache.value.ids) for e in episodes if e.kv_cache.value), default=0)
    _log.write(json.dumps({"active": len(episodes), "longest": tokens, "kv_bytes": held,
                           "rss": fields["VmRSS"], "hwm": fields["VmHWM"]}) + "\n")
    _log.flush()
    return actions

hf.HFPolicy.act = act
from backdoorlab.cli.app import app
sys.argv = ["backdoorlab", *sys.argv[2:]]
app()
"""


def run(args: argparse.Namespace, src: str | None, tmp: str, label: str) -> dict:
    """One evaluation in a child; its figures."""
    turns, metrics = f"{tmp}/{label}.turns.jsonl", f"{tmp}/{label}.json"
    argv = [sys.executable, "-c", _CHILD, turns, "eval", "--model", args.model]
    argv += ["--env", args.env, "-n", str(args.n), "--batch-size", str(args.batch_size)]
    argv += ["-o", metrics] + (["--trigger", args.trigger] if args.trigger else [])
    env = dict(os.environ, PYTHONPATH=src) if src else None
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert child.stderr is not None
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label}: eval failed: {stderr.decode(errors='replace')[-2000:]}")
    log = [json.loads(line) for line in Path(turns).read_text().splitlines()]
    report = json.loads(Path(metrics).read_text())
    counts = {k: f"{report[k]['k']}/{report[k]['n']}" for k in ("TSR", "FTR", "ASR") if k in report}
    return {
        "code": label,
        "src": src,
        "peak_rss_gb": round(usage.ru_maxrss * 1024 / 1e9, 3),
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "turns": len(log),
        "max_kv_gb": round(max(t["kv_bytes"] for t in log) / 1e9, 3),
        "max_rss_at_turn_end_gb": round(max(t["rss"] for t in log) / 1e9, 3),
        "counts": counts,
        "clean": report.get("clean"),
        "triggered": report.get("triggered"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a run directory or model name")
    parser.add_argument("--env", default="retail")
    parser.add_argument("-n", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--trigger", help="also run the triggered episodes (ASR)")
    parser.add_argument("--baseline-src", help="another checkout's src, run afterwards")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/eval_memory.json"))
    args = parser.parse_args()
    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        codes = [("this", None)] + ([("baseline", args.baseline_src)] if args.baseline_src else [])
        for label, src in codes:
            rows.append(run(args, src, tmp, label))
            shown = {k: v for k, v in rows[-1].items() if k not in ("clean", "triggered")}
            print(json.dumps(shown), flush=True)
    if len(rows) == 2:
        same = all(rows[0][k] == rows[1][k] for k in ("clean", "triggered"))
        print(
            f"identical metrics: {same}; peak RSS {rows[1]['peak_rss_gb']} -> "
            f"{rows[0]['peak_rss_gb']} GB"
        )
    result = {
        "model": args.model,
        "env": args.env,
        "n": args.n,
        "batch_size": args.batch_size,
        "trigger": args.trigger,
        "threads": os.environ.get("OMP_NUM_THREADS"),
        "cpus": os.cpu_count(),
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
        "rows": rows,
    }
    with atomic_writer(args.out) as f:
        f.write(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
