"""The report's sections: which plots a run directory's contents call for.

- **Sweep**: each numeric grid column with two or more values (``attack.rate``,
  ``attack.obey_probability``) against ASR/TSR/FTR, per threat model; the base model,
  which has no value in that column, as dotted reference lines.
- **Before/after**: a supply-chain run (rows with ``victim_multiple``, T3/T4) as the
  published model beside each victim's fine-tune.
- **Per task family**: every evaluated model's rates in each family.
- **Monitor**, **scan**, **audit**: one section per record found.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from backdoorlab.report.breakdown import audit_scores, family_rates
from backdoorlab.report.contents import METRICS, OUTPUTS, RunContents
from backdoorlab.report.plots import METRIC_COLORS, Plot, bar_plot, line_plot, rate_text


def _is_output(column: str) -> bool:
    return column in METRICS or column in OUTPUTS or column.endswith(("_low", "_high", "_n"))


def labels(rows: list[dict[str, Any]]) -> list[str]:
    """The columns that say which cell a row is (grid values, model), in first-seen order."""
    out: list[str] = []
    for row in rows:
        out += [c for c in row if c not in out and not _is_output(c)]
    return out


def row_label(row: dict[str, Any], columns: list[str]) -> str:
    parts = [f"{c}={row[c]}" for c in columns if c != "model" and row.get(c) is not None]
    return " ".join([str(row.get("model", "")), *parts]).strip()


def rate_of(row: dict[str, Any], metric: str) -> dict[str, Any] | None:
    if row.get(metric) is None:
        return None
    get = {part: row.get(f"{metric}_{part}") for part in ("low", "high", "n")}
    if get["low"] is None or get["high"] is None:
        return None
    return {
        "rate": float(row[metric]),
        "low": float(get["low"]),
        "high": float(get["high"]),
        "n": get["n"],
    }


def _numeric(value: Any) -> bool:
    """A value a sweep can put on an axis: a finite number. A hand-edited cell may hold
    text, NaN or infinity in a numeric column; such a row is drawn as unswept."""
    import math

    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def sweep_plots(contents: RunContents) -> list[Plot]:
    """Metrics against each swept numeric column, one line per metric and other labels."""
    rows, columns = contents.rows, labels(contents.rows)
    plots = []
    for x in columns:
        if x in ("model", "victim_multiple"):
            continue
        values = {row[x] for row in rows if _numeric(row.get(x))}
        if len(values) < 2:
            continue
        others = [c for c in columns if c not in (x, "model")]
        series: dict[str, list[tuple[float, Any]]] = defaultdict(list)
        table, hlines = [], {}
        for row in sorted(rows, key=lambda r: (0, r[x]) if _numeric(r.get(x)) else (1, 0)):
            rates = {metric: rate_of(row, metric) for metric in METRICS}
            swept = _numeric(row.get(x))
            table.append(
                [row_label(row, others), str(row[x]) if swept else "–"]
                + [rate_text(rates[m]) for m in METRICS]
            )
            for metric, rate in rates.items():
                if rate is None:
                    continue
                if not swept:
                    hlines[f"{row_label(row, others)} {metric}"] = rate["rate"]
                    continue
                extra = row_label({k: row.get(k) for k in others}, others)
                series[f"{metric} {extra}".strip()].append((float(row[x]), rate))
        colors = {name: METRIC_COLORS[name.split()[0]] for name in series}
        colors |= {name: METRIC_COLORS[name.split()[-1]] for name in hlines}
        svg = line_plot(
            f"{contents.threat_model}: ASR / TSR / FTR vs {x}",
            x,
            dict(series),
            percent_x=max(values) <= 1 and "rate" in x,
            hlines=hlines,
            colors=colors,
        )
        plots.append(
            Plot(
                f"Threat model {contents.threat_model}: rates against {x}",
                svg,
                ["model", x, *(f"{m} [95% Wilson]" for m in METRICS)],
                table,
                note="Error bars and brackets: 95% Wilson intervals. Dotted: rows without"
                f" a value of {x} (the base model).",
            )
        )
    return plots


def before_after_plot(contents: RunContents) -> list[Plot]:
    """The published model and each victim's fine-tune of it (T3/T4)."""
    rows = [r for r in contents.rows if r.get("victim_multiple") is not None]
    if not rows:
        return []
    columns = labels(rows)
    groups = []
    for row in rows:
        multiple = row["victim_multiple"]
        name = "published" if row.get("model") == "published" else f"victim ×{multiple:g}"
        extra = row_label(
            {c: row.get(c) for c in columns if c not in ("model", "victim_multiple")},
            [c for c in columns if c not in ("model", "victim_multiple")],
        )
        groups.append(f"{name} {extra}".strip())
    bars = {m: [rate_of(r, m) for r in rows] for m in METRICS}
    bars = {m: v for m, v in bars.items() if any(x is not None for x in v)}
    table = [
        [g, m, rate_text(v)] for m, vs in bars.items() for g, v in zip(groups, vs, strict=True)
    ]
    svg = bar_plot(
        f"{contents.threat_model}: before / after the victim's fine-tune",
        groups,
        bars,
        colors=METRIC_COLORS,
    )
    return [
        Plot(
            "Before and after the victim's fine-tune",
            svg,
            ["model", "metric", "rate [95% Wilson]"],
            table,
            note="published: the attacker's model as released; victim ×k: fine-tuned by the"
            " victim on k times the attacker's trace count of clean data of its own.",
        )
    ]


def family_plots(contents: RunContents) -> list[Plot]:
    columns = labels(contents.rows)
    found = family_rates(contents.run_dir, contents.rows, lambda r: row_label(r, columns))
    if not found:
        return []
    families = sorted({f.family for f in found})
    models = list(dict.fromkeys(f.label for f in found))
    plots = []
    for metric in METRICS:
        by = {(f.label, f.family): f.rates.get(metric) for f in found}
        if not any(by.values()):
            continue
        bars = {m: [_rate_dict(by.get((m, fam))) for fam in families] for m in models[:8]}
        table = [
            [m, fam, rate_text(by.get((m, fam)))]
            for m in models
            for fam in families
            if by.get((m, fam)) is not None
        ]
        plots.append(
            Plot(
                f"{metric} per task family",
                bar_plot(f"{metric} per task family", families, bars),
                ["model", "family", f"{metric} [95% Wilson]"],
                table,
                note=""
                if len(models) <= 8
                else "The plot shows the first 8 models; the table all of them.",
            )
        )
    return plots


def _rate_dict(rate: Any) -> dict[str, Any] | None:
    if rate is None or not rate.n:
        return None
    return {"rate": rate.rate, "low": rate.low, "high": rate.high}


def monitor_plots(contents: RunContents) -> list[Plot]:
    plots = []
    for name, record in contents.monitors:
        series: dict[str, list[tuple[float, Any]]] = defaultdict(list)
        table = []
        for probe in record["history"]:
            if not isinstance(probe, dict):
                continue
            for condition in probe.get("conditions", []):
                leak = condition.get("leak")
                if isinstance(leak, dict) and "step" in probe:
                    series[str(condition.get("name"))].append((float(probe["step"]), leak))
                    table.append([str(probe["step"]), str(condition.get("name")), rate_text(leak)])
        threshold = record.get("config", {}).get("threshold")
        stop = record.get("stop_step") if record.get("stopped") else None
        svg = line_plot(
            "leak rate per probe over training steps",
            "optimizer step",
            dict(series),
            hlines={"threshold": threshold} if isinstance(threshold, int | float) else None,
            vline=(float(stop), f"stopped at step {stop}") if stop is not None else None,
        )
        note = str(record.get("stop_reason") or "")
        if record.get("last_clean"):
            note += f" Last clean checkpoint: {record['last_clean']}."
        plots.append(
            Plot(f"Monitor: {name}", svg, ["step", "probe", "leak rate"], table, note.strip())
        )
    return plots


def scan_plots(contents: RunContents) -> list[Plot]:
    plots = []
    for name, report in contents.scans:
        settings = [("before (as published)", report.get("baseline", {}))]
        for canary in report.get("canaries", []):
            label = canary.get("setting", {}).get("name", "canary")
            settings.append((f"after canary {label}", canary.get("probe", {})))
        conditions = list(
            dict.fromkeys(
                str(c.get("name")) for _, probe in settings for c in probe.get("conditions", [])
            )
        )
        bars: dict[str, list[Any]] = {}
        table = []
        for label, probe in settings:
            by = {str(c.get("name")): c.get("leak") for c in probe.get("conditions", [])}
            bars[label] = [by.get(c) for c in conditions]
            table += [[label, c, rate_text(by.get(c))] for c in conditions if c in by]
        svg = bar_plot("leak rate per probe, before / after canary fine-tunes", conditions, bars)
        verdict = f"verdict: {report.get('verdict')} (score {report.get('score')})."
        reasons = " ".join(str(r) for r in report.get("reasons", []))
        plots.append(
            Plot(
                f"Scan: {name}",
                svg,
                ["model", "probe", "leak rate"],
                table,
                f"{verdict} {reasons}".strip(),
            )
        )
    return plots


def audit_plots(contents: RunContents) -> list[Plot]:
    plots = []
    for name, report in contents.audits:
        scores = audit_scores(report, contents.run_dir / name)
        detectors = [s.detector for s in scores]
        truth = any(s.precision is not None for s in scores)
        if truth:
            bars = {
                "precision": [_rate_dict(s.precision) for s in scores],
                "recall": [_rate_dict(s.recall) for s in scores],
            }
            svg = bar_plot("precision / recall per detector", detectors, bars)
        else:
            svg = bar_plot(
                "traces flagged per detector",
                detectors,
                {"flagged": [s.flagged for s in scores]},
                rates=False,
            )
        table = [
            [
                s.detector,
                str(s.flagged),
                "–" if s.poisoned is None else str(s.poisoned),
                rate_text(s.precision),
                rate_text(s.recall),
            ]
            for s in scores
        ]
        note = f"{report.get('traces')} traces audited ({report.get('path')})."
        if not truth:
            note += " No poison ground truth at hand: flagged counts only."
        plots.append(
            Plot(
                f"Audit: {name}",
                svg,
                ["detector", "flagged", "poisoned", "precision", "recall"],
                table,
                note,
            )
        )
    return plots


def all_plots(contents: RunContents) -> dict[str, list[Plot]]:
    """Section title → its plots, in reading order; empty sections left out."""
    sections = {
        "Poison rate sweep": sweep_plots(contents) if contents.rows else [],
        "Supply chain": before_after_plot(contents) if contents.rows else [],
        "Per task family": family_plots(contents) if contents.rows else [],
        "Monitor": monitor_plots(contents),
        "Scan": scan_plots(contents),
        "Audit": audit_plots(contents),
    }
    return {title: plots for title, plots in sections.items() if plots}
