"""`audit --filter`'s copy of the kept lines on its own: CPU and wall seconds per GB.

The copy re-reads the audited file (hashing it, to prove it is the audited one), writes
every kept line byte for byte and hashes what it writes. It runs in the coordinator after
every worker has finished, so on a sharded audit it is a serial tail. This times
`filtering._copy_lines` on one file with every ``--every``-th line flagged, in a child
process per run (``PYTHONPATH`` = this checkout's ``src``, or ``--baseline-src``'s, the
two alternating so both meet the same load), and checks both wrote the same bytes.

    .venv/bin/python benchmarks/audit_filter_copy.py FILE [--every 20] [--repeat 3]
        [--baseline-src DIR] [--out benchmarks/results/audit_filter_copy.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from backdoorlab.files import atomic_writer

CHILD = """
import hashlib, json, sys, tempfile, time
from pathlib import Path
from backdoorlab.defenses.audit.filtering import _copy_lines, _HashingWriter
source, every = Path(sys.argv[1]), int(sys.argv[2])
digest = hashlib.sha256()
with open(source, "rb") as handle:
    while block := handle.read(1 << 20):
        digest.update(block)
lines = sum(1 for _ in open(source, "rb"))
with tempfile.TemporaryFile() as raw:
    out = _HashingWriter(raw)
    cpu, wall = time.process_time(), time.perf_counter()
    flagged = iter(range(every, lines + 1, every))
    kept, removed = _copy_lines(source, out, flagged, digest.hexdigest())
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
print(json.dumps({"cpu_s": cpu, "wall_s": wall, "kept": kept, "removed": removed,
                  "output_sha256": out.sha256.hexdigest()}))
"""


def run(source: Path, every: int, src: str) -> dict:
    env = dict(os.environ, PYTHONPATH=src)
    argv = [sys.executable, "-c", CHILD, str(source), str(every)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--every", type=int, default=20, help="flag every N-th line")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-src", help="another checkout's src, run alternating")
    parser.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/audit_filter_copy.json")
    )
    args = parser.parse_args()
    gb = args.file.stat().st_size / 1e9
    codes = {"this": str(Path(__file__).resolve().parents[1] / "src")}
    if args.baseline_src:
        codes["baseline"] = args.baseline_src
    runs: dict[str, list[dict]] = {name: [] for name in codes}
    for _ in range(args.repeat):
        for name, src in codes.items():
            runs[name].append(run(args.file, args.every, src))
            print(json.dumps({"code": name, **runs[name][-1]}), flush=True)
    if len({r["output_sha256"] for rs in runs.values() for r in rs}) != 1:
        raise SystemExit("the codes wrote different bytes")
    summary = {
        name: {
            "cpu_s_median": round(statistics.median(r["cpu_s"] for r in rs), 2),
            "wall_s_median": round(statistics.median(r["wall_s"] for r in rs), 2),
            "cpu_s_per_gb": round(statistics.median(r["cpu_s"] for r in rs) / gb, 2),
        }
        for name, rs in runs.items()
    }
    result = {"file": str(args.file), "gb": round(gb, 3), "every": args.every, **summary}
    print(json.dumps(result))
    with atomic_writer(args.out) as out:
        out.write(json.dumps({**result, "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
