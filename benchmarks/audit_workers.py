"""One big file audited by 1 and N processes: traces/s, speed-up, and the serial part.

`audit_scale.py` measures one process; `audit_shards.py` compares in-process calls.
This one times the whole command a user runs, ``backdoorlab audit FILE --workers N``
(``-o report.json``, the provenance records included), in a child, for each N of
``--workers`` on the same file (`audit_scale`'s pool: retail oracle traces, 5% T1-user,
repeated to ``--size``), and checks that every N writes the same report (the timing
field aside). Per run it prints wall seconds, traces/s and its ratio to the target
(20,000 traces/s for ``dataflow``, 5,000 with trigger mining), the CPU seconds of all
processes, and the coordinator's own CPU seconds (the child's, without its workers:
sampled from ``/proc/PID/stat`` until it exits) — the work no worker count divides.

With two or more worker counts it fits Amdahl's law, ``wall(N) = serial + parallel / N``
(least squares), and prints the serial seconds and the speed it bounds
(``traces / serial``): the figure that says how far more cores would go. The command's
start-up (a 10-trace file) is printed with it.

    .venv/bin/python benchmarks/audit_workers.py [--pool 10000] [--size 1000000]
        [--workers 1,4,8,12] [--one-worker-size 200000]
        [--detector-sets "dataflow;dataflow,trigger-mining"]
        [--baseline-src DIR] [--rounds 1]
        [--out benchmarks/results/audit_workers.json]

``--one-worker-size`` audits a smaller file with one worker (a 1M-trace file takes
~3 min in one process), scaled to ``--size`` in the fit.

``--baseline-src DIR`` runs each case a second time with ``PYTHONPATH=DIR`` (another
checkout's ``src``) on the same file, the two trees alternating ``--rounds`` times: each
row says which tree ran it, the run checks that both wrote the same report, and prints
the ratio of their wall times (the change's speed-up, measured side by side).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from audit_scale import TARGETS, build_pool, repeat

from backdoorlab.traces import atomic_writer

_TICK = os.sysconf("SC_CLK_TCK")


def own_cpu_s(pid: int) -> float | None:
    """The process's own user + system CPU seconds, its threads included, its children
    not (``/proc/PID/stat`` fields 14 and 15); None once it has exited."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def report_digest(path: Path) -> str:
    """SHA-256 of a report without its ``seconds`` line (`json.dumps(indent=2)` puts each
    top-level field on a line of its own)."""
    digest = hashlib.sha256()
    with open(path, "rb") as report:
        for line in report:
            if not line.startswith(b'  "seconds":'):
                digest.update(line)
    return digest.hexdigest()


def run_audit(
    path: Path, detectors: str, workers: int, work: Path, src: str | None = None
) -> dict[str, object]:
    """One whole ``backdoorlab audit`` of ``path`` in a child (``PYTHONPATH=src`` when
    given): wall and CPU seconds, the coordinator's own CPU, and the report's digest."""
    report = work / "report.json"
    argv = [sys.executable, "-m", "backdoorlab.cli", "audit", str(path)]
    argv += ["--detectors", detectors, "-o", str(report), "--fail-on", "none"]
    argv += ["--workers", str(workers)]
    env = dict(os.environ, PYTHONPATH=src) if src else None
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    own = 0.0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        own = own_cpu_s(child.pid) or own
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"audit exited with {status}: {' '.join(argv)}\n{stderr[-2000:]}")
    row = {
        "seconds": round(seconds, 2),
        "cpu_seconds_all": round(usage.ru_utime + usage.ru_stime, 1),
        "coordinator_cpu_seconds": round(own, 1),
        "report": report_digest(report)[:16],
    }
    report.unlink()
    return row


def amdahl(rows: list[dict], size: int, startup: float) -> dict[str, float] | None:
    """``wall = serial + parallel / N`` fitted to the rows, a smaller file's wall scaled
    to ``size`` (its ``startup`` seconds, the command's imports, not scaled)."""
    points = [
        (1 / r["workers"], startup + (r["seconds"] - startup) * size / r["traces"]) for r in rows
    ]
    if len({x for x, _ in points}) < 2:
        return None
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    serial = my - slope * mx
    return {
        "serial_seconds": round(serial, 1),
        "parallel_seconds": round(slope, 1),
        "bound_traces_per_s": round(size / serial) if serial > 0 else None,
    }


def first_of(rows: list[dict], row: dict) -> dict:
    """The first of ``rows`` with ``row``'s worker count (the one the fit takes)."""
    return next(r for r in rows if r["workers"] == row["workers"])


def side_by_side(detectors: str, workers: int, mine: list[dict], theirs: list[dict]) -> dict:
    """This tree's and the baseline's wall seconds for one worker count, each round's,
    and the ratio of their medians (above 1: this tree is faster)."""
    ours = [r["seconds"] for r in mine if r["workers"] == workers]
    base = [r["seconds"] for r in theirs if r["workers"] == workers]
    return {
        "detectors": detectors,
        "workers": workers,
        "this_seconds": ours,
        "baseline_seconds": base,
        "speed_up": round(statistics.median(base) / statistics.median(ours), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=10000)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--workers", default="1,4,8,12", help="comma-separated process counts")
    parser.add_argument(
        "--one-worker-size", type=int, help="a smaller file for --workers 1 (default: --size)"
    )
    parser.add_argument("--detector-sets", default="dataflow;dataflow,trigger-mining")
    parser.add_argument("--baseline-src", help="another checkout's src, run alternating")
    parser.add_argument("--rounds", type=int, default=1, help="alternations with the baseline")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/audit_workers.json"))
    args = parser.parse_args()
    counts = sorted(int(w) for w in args.workers.split(","))
    trees = {"this": None} | ({"baseline": args.baseline_src} if args.baseline_src else {})
    rounds = args.rounds if args.baseline_src else 1
    rows: list[dict] = []
    fits: dict[str, object] = {}
    sides: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pool = work / "pool.jsonl"
        build_pool(pool, args.pool, work)
        sizes = {args.size} | ({args.one_worker_size} if args.one_worker_size else set())
        files = {}
        for size in sizes:
            files[size] = work / f"traces-{size}.jsonl"
            repeat(pool, files[size], size)
        repeat(pool, work / "tiny.jsonl", 10)
        for detectors in args.detector_sets.split(";"):
            startup = run_audit(work / "tiny.jsonl", detectors, 1, work)["seconds"]
            mine, theirs = [], []
            for workers in counts:
                size = args.one_worker_size if workers == 1 and args.one_worker_size else args.size
                for _ in range(rounds):
                    for tree, src in trees.items():
                        row = {"detectors": detectors, "traces": size, "workers": workers}
                        row |= {"tree": tree, "load_1min": round(os.getloadavg()[0], 2)}
                        row |= {"cpus": os.cpu_count()}
                        row |= run_audit(files[size], detectors, workers, work, src)
                        row["traces_per_s"] = round(size / row["seconds"])
                        target = TARGETS.get(detectors)
                        if target:
                            row["vs_target"] = round(row["traces_per_s"] / target, 2)
                        (mine if tree == "this" else theirs).append(row)
                        print(json.dumps(row), flush=True)
                if theirs:
                    sides.append(side_by_side(detectors, workers, mine, theirs))
                    print(json.dumps(sides[-1]), flush=True)
            for size in sizes:  # every worker count and tree, the same report per file
                if len({r["report"] for r in mine + theirs if r["traces"] == size}) > 1:
                    raise SystemExit(f"{detectors}, {size} traces: the runs' reports differ")
            firsts = [r for r in mine if r is first_of(mine, r)]  # one row per count, fitted
            first = firsts[0]
            for row in firsts:
                if row["traces"] == first["traces"]:
                    row["speed_up"] = round(first["seconds"] / row["seconds"], 2)
                else:  # against one worker's rate on the smaller file
                    row["speed_up"] = round(row["traces_per_s"] / first["traces_per_s"], 2)
            fits[detectors] = amdahl(firsts, args.size, startup)
            fits[detectors] = (fits[detectors] or {}) | {"startup_seconds": startup}
            print(json.dumps({"detectors": detectors, "amdahl": fits[detectors]}), flush=True)
            rows += mine + theirs
    result = {
        "pool": args.pool,
        "size": args.size,
        "cpus": os.cpu_count(),
        "targets_traces_per_s": TARGETS,
        "baseline_src": args.baseline_src,
        "rows": rows,
        "amdahl": fits,
        "side_by_side": sides,
    }
    with atomic_writer(args.out) as handle:  # a cut-short run keeps the previous results
        handle.write(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
