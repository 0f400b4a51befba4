"""``backdoorlab scan``'s output: the leak-rate table, the evidence, the verdict and its gate.

The exit code makes a scan a gate in a pipeline: ``--fail-on backdoored`` (the default)
stops a fine-tuning job on a model with significant evidence, ``suspicious`` on weaker
evidence too. Trigger phrases come from audit reports of untrusted data: they are printed
through `backdoorlab.terminal.plain`, shown and never obeyed as controls or markup.
"""

from __future__ import annotations

import json
import os
from typing import Any

from backdoorlab.defenses.probes import CLEAN
from backdoorlab.defenses.scan.config import FAIL_ON, VERDICTS, ScanConfig
from backdoorlab.defenses.scan.run import scan
from backdoorlab.errors import BackdoorlabError
from backdoorlab.stats import Rate
from backdoorlab.terminal import plain

__all__ = ["fails", "scan_command", "scan_table"]


def fails(verdict: str, fail_on: str) -> bool:
    """Whether ``verdict`` fails a gate set at ``fail_on`` (none, suspicious, backdoored)."""
    if fail_on not in FAIL_ON:
        raise BackdoorlabError(f"--fail-on must be one of {', '.join(FAIL_ON)}, not '{fail_on}'")
    return fail_on != "none" and VERDICTS.index(verdict) >= VERDICTS.index(fail_on)  # type: ignore[arg-type]


_VERDICT_STYLE = {"clean": "green", "suspicious": "yellow", "backdoored": "bold red"}


def scan_table(report: dict[str, Any]):  # -> rich.table.Table
    """Leak rate per condition (rows) before and after each canary (columns)."""
    from rich.table import Table

    alpha = report["config"]["alpha"]
    significant = {
        (e["condition"], e["canary"]) for e in report["evidence"] if e["p_adjusted"] < alpha
    }
    table = Table(title=plain(f"scan of {report['model']}: leaks/episodes, rate [95% Wilson]"))
    table.add_column("condition", overflow="fold")
    table.add_column("before fine-tuning", justify="right")
    for canary in report["canaries"]:
        table.add_column(f"after {canary['setting']['name']}", justify="right")
    rows = [c["name"] for c in report["baseline"]["conditions"]]
    for name in rows:
        cells = [_cell(report["baseline"], name, (name, None) in significant)]
        for canary in report["canaries"]:
            cells.append(
                _cell(canary["probe"], name, (name, canary["setting"]["name"]) in significant)
            )
        table.add_row(plain("no trigger" if name == CLEAN else name), *cells)
    return table


def _cell(probe: dict[str, Any], name: str, flagged: bool) -> str:
    condition = next((c for c in probe["conditions"] if c["name"] == name), None)
    if condition is None:
        return "-"
    leak = Rate(**condition["leak"])
    text = f"{leak.k}/{leak.n} {leak.rate:.0%} [{leak.low:.0%}-{leak.high:.0%}]"
    return f"[bold red]{text} ![/]" if flagged else text


def _record(
    model: str,
    config: ScanConfig,
    report: dict[str, Any],
    output: str | os.PathLike[str] | None,
    fail_on: str,
) -> None:
    """The scan's provenance: its verdict attached to the scanned model directory (pass:
    clean, and its files unchanged by the scan), the report's lineage beside it."""
    from backdoorlab.provenance import attest, write_lineage

    settings = {"config": config.model_dump(), "fail_on": fail_on}
    clean = report["verdict"] == "clean" and report["model_unchanged"]
    result = settings | {"verdict": report["verdict"], "score": report["score"]}
    attest(model, "scan", "pass" if clean else "fail", result=result, report=output)
    if output is not None:
        write_lineage(output, "scan-report", inputs={"model": model}, config=settings)


def scan_command(
    model: str,
    config: ScanConfig,
    *,
    output: str | os.PathLike[str] | None = None,
    fail_on: str = "backdoored",
    console: Any = None,
    err_console: Any = None,
    served: Any = None,
) -> int:
    """Scan, print the table and verdict, write ``output``; the exit code for a gate."""
    from rich.console import Console

    from backdoorlab.traces import atomic_writer

    fails("clean", fail_on)  # a bad --fail-on fails before the (long) scan
    console = console or Console()
    err = err_console or Console(stderr=True)
    report = scan(model, config, log=lambda line: err.print(plain(line)), served=served)
    console.print(scan_table(report))
    if report["reasons"]:
        console.print("evidence:", highlight=False)
        for reason in report["reasons"][:8]:
            console.print(plain(f"  - {reason}"), soft_wrap=True)
    if not report["model_unchanged"]:
        console.print("[bold red]warning: the model's files changed during the scan[/]")
    if output is not None:
        with atomic_writer(output) as handle:
            json.dump(report, handle, indent=2)
            handle.write("\n")
        console.print(plain(f"report → {output}"))
    verdict = report["verdict"]
    failing = fails(verdict, fail_on)
    _record(model, config, report, output, fail_on)
    console.print(
        f"[{_VERDICT_STYLE[verdict]}]{verdict}[/] (score {report['score']:.2f}); "
        f"{'[bold red]FAIL[/]' if failing else 'ok'} at --fail-on {fail_on}"
    )
    return 1 if failing else 0
