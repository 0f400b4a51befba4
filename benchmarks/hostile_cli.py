"""A hostile user's sweep of the newest commands: `guard replay`, `guard verify`, `guard
proxy`, `serve`'s guard options, `audit` on raw observability exports (``--filter``,
``--workers``, shards), coding agents' own logs (Claude Code sessions, Codex rollouts:
`audit`, `guard replay`, `show`) and `provenance` — each run as a subprocess, as a user runs it.

Every case gives a command a hostile input (a missing file, a directory, garbage, a
truncated .gz, a named pipe, one 50 MB line, JSON of the wrong shape, an output on
/dev/full or on the input itself, odd numbers and URLs, YAML bombs, a tampered decision
log) and checks the standard: a refusal is one line naming what is wrong, exit 2, no
traceback, no hang; an input stays byte-identical; an output is either written whole
(with the umask's mode) or left as it was, with no temporary file behind. `guard proxy`
is then started with a stand-in upstream and sent hostile HTTP (`_hostile_http`).

    python benchmarks/hostile_cli.py [--only WORD] [--json FILE] [--no-http]

Prints a table (command, case, exit code, traceback, what the output became, verdict)
and the counts: cases, tracebacks, wrong exit codes, hangs, data damage. Exits 1 when
any case is a defect.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _hostile_cases import all_cases  # noqa: E402
from _hostile_http import http_sweep  # noqa: E402
from _hostile_run import COUNTS, Result, run_case  # noqa: E402


def table(results: list[Result]) -> str:
    rows = [("command", "case", "exit", "tb", "output", "verdict")]
    for r in results:
        rows.append(
            (r.command, r.case, str(r.code), "yes" if r.traceback else "no", r.output, r.verdict)
        )
    widths = [min(max(len(row[i]) for row in rows), 44) for i in range(5)]
    lines = []
    for row in rows:
        cells = [row[i][: widths[i]].ljust(widths[i]) for i in range(5)]
        lines.append("  ".join([*cells, row[5]]))
    return "\n".join(lines)


def counts(results: list[Result]) -> dict[str, int]:
    return {"cases": len(results)} | {k: sum(k in r.defects for r in results) for k in COUNTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="only the cases whose command or name holds this")
    parser.add_argument("--json", type=Path, help="write every case's result here")
    parser.add_argument("--no-http", action="store_true", help="skip the proxy's HTTP sweep")
    args = parser.parse_args()
    os.umask(0o027)  # an output must get 0640, not mkstemp's 0600 nor 0644
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        work = Path(tmp)
        try:
            for case in all_cases(work):
                if args.only and args.only not in f"{case.command} {case.case}":
                    continue
                result = run_case(case, work)
                results.append(result)
                print(
                    f"{result.command:16} {result.case[:48]:48} {result.code!s:>6} {result.verdict}"
                )
                sys.stdout.flush()
            if not args.no_http and (not args.only or args.only in "guard proxy http"):
                results.extend(http_sweep(work))
        finally:
            subprocess.run(["chattr", "-i", str(work / "readonly")], capture_output=True)
    print()
    print(table(results))
    figures = counts(results)
    print()
    print(json.dumps(figures))
    if args.json is not None:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1) + "\n")
    sys.exit(1 if any(r.defects for r in results) else 0)


if __name__ == "__main__":
    main()
