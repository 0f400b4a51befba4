"""Small commands as whole commands: wall and CPU seconds of ``backdoorlab --help``,
``collect -n 1000`` and ``audit`` of those 1,000 traces, against the 2 s target.

Each command runs ``--repeat`` times in a child process (the installed ``backdoorlab``
script next to this interpreter); the figures are the medians. CPU is the child's user +
system time (``os.wait4``): on a shared machine it is the figure load does not inflate
much, while wall time is what a user waits. The 1-minute load average and the CPU count
are recorded before and after, and the ratio to the target is printed for both.
``--baseline-src DIR`` runs every command a second time with ``PYTHONPATH=DIR`` (another
checkout's ``src``), the two alternating, so both meet the same load.

    .venv/bin/python benchmarks/startup.py [--repeat 3] [--baseline-src DIR]
        [--out benchmarks/results/startup.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backdoorlab.files import atomic_writer

TARGET_S = 2.0


def timed(argv: list[str], src: str | None = None) -> tuple[float, float]:
    """(wall, user + system CPU seconds) of one child process."""
    env = dict(os.environ, PYTHONPATH=src) if src else None
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-src", help="another checkout's src, run alongside")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/startup.json"))
    args = parser.parse_args()
    cli = str(Path(sys.executable).with_name("backdoorlab"))
    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        traces, report = f"{tmp}/x.jsonl", f"{tmp}/r.json"
        commands = {
            "--help": [cli, "--help"],
            "collect -n 1000": [cli, "collect", "-n", "1000", "-o", traces],
            "audit (1,000 traces)": [cli, "audit", traces, "-o", report, "--fail-on", "none"],
        }
        codes = {"this": None} | ({"baseline": args.baseline_src} if args.baseline_src else {})
        for name, argv in commands.items():
            runs: dict[str, list[tuple[float, float]]] = {code: [] for code in codes}
            for _ in range(args.repeat):
                for code, src in codes.items():
                    runs[code].append(timed(argv, src))
            for code, mine in runs.items():
                wall = statistics.median(w for w, _ in mine)
                cpu = statistics.median(c for _, c in mine)
                row = {
                    "code": code,
                    "command": name,
                    "wall_s": round(wall, 2),
                    "cpu_s": round(cpu, 2),
                    "wall_vs_target": round(wall / TARGET_S, 2),
                    "cpu_vs_target": round(cpu / TARGET_S, 2),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
    result = {
        "target_s": TARGET_S,
        "repeat": args.repeat,
        "baseline_src": args.baseline_src,
        "cpus": os.cpu_count(),
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
        "rows": rows,
    }
    with atomic_writer(args.out) as handle:
        handle.write(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}))


if __name__ == "__main__":
    main()
