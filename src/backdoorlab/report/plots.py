"""The report's plots: matplotlib figures rendered to inline SVG, each with its table.

Every plot carries the numbers it draws as a table (``Plot.columns``/``Plot.rows``), so
a reader can quote a value without reading it off an axis, and a screen reader gets
the same facts. Figures are built with ``matplotlib.figure.Figure`` directly (no
pyplot state), text stays text in the SVG (``svg.fonttype: none``: searchable, small)
and ids are salted with a constant, so the same run gives the same file.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

METRIC_COLORS = {"ASR": "#c0392b", "TSR": "#2471a3", "FTR": "#d68910"}
PALETTE = ("#2471a3", "#c0392b", "#d68910", "#229954", "#7d3c98", "#616a6b", "#17a589", "#a04000")
RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "backdoorlab-report",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass
class Plot:
    """One figure of the report and the numbers it shows."""

    title: str
    svg: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""


def rate_text(rate: Any) -> str:
    """``26.0% [18.4%, 35.4%] 26/100`` from a Rate or its dict; ``–`` when absent."""
    if rate is None:
        return "–"
    get = rate.get if isinstance(rate, dict) else lambda key: getattr(rate, key, None)
    value, low, high = get("rate"), get("low"), get("high")
    if value is None or value != value:  # NaN: no episodes
        return "n/a"
    k, n = get("k"), get("n")
    count = f" {k}/{n}" if k is not None else (f" n={n}" if n is not None else "")
    return f"{value:.1%} [{low:.1%}, {high:.1%}]{count}"


def figure(width: float = 6.4, height: float = 3.2) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def to_svg(fig: Any) -> str:
    """The figure as an ``<svg>`` element (XML prolog and DOCTYPE dropped)."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _errors(values: Sequence[Any], lows: Sequence[Any], highs: Sequence[Any]) -> list[list[float]]:
    """Asymmetric error bars (below, above) from values and interval bounds."""
    return [
        [max(0.0, v - lo) for v, lo in zip(values, lows, strict=True)],
        [max(0.0, hi - v) for v, hi in zip(values, highs, strict=True)],
    ]


def line_plot(
    title: str,
    xlabel: str,
    series: dict[str, list[tuple[float, Any]]],
    *,
    percent_x: bool = False,
    hlines: dict[str, float] | None = None,
    vline: tuple[float, str] | None = None,
    colors: dict[str, str] | None = None,
) -> str:
    """Rates (dicts with rate/low/high) against x, one line per series, intervals as
    error bars; ``hlines`` (label → y) dotted, ``vline`` (x, label) dashed."""
    import matplotlib

    with matplotlib.rc_context(RC):
        fig = figure()
        ax = fig.add_subplot()
        for i, (name, points) in enumerate(series.items()):
            points = sorted(points, key=lambda p: p[0])
            xs = [p[0] for p in points]
            ys = [p[1]["rate"] for p in points]
            err = _errors(ys, [p[1]["low"] for p in points], [p[1]["high"] for p in points])
            color = (colors or {}).get(name, PALETTE[i % len(PALETTE)])
            ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=name, color=color)
        for j, (name, y) in enumerate((hlines or {}).items()):
            color = (colors or {}).get(name, PALETTE[(j + 5) % len(PALETTE)])
            ax.axhline(y, linestyle=":", color=color, label=name)
        if vline is not None:
            ax.axvline(vline[0], linestyle="--", color="#555", label=vline[1])
        _rate_axis(ax)
        if percent_x:
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        if ax.get_legend_handles_labels()[0]:  # nothing drawn: no empty legend, no warning
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return to_svg(fig)


def bar_plot(
    title: str,
    groups: list[str],
    bars: dict[str, list[Any]],
    *,
    colors: dict[str, str] | None = None,
    rates: bool = True,
) -> str:
    """Grouped bars: one group per ``groups`` entry, one bar per ``bars`` key; a bar's
    value is a rate dict (with its interval as an error bar) or, without ``rates``, a
    number; None leaves the bar out."""
    import matplotlib

    with matplotlib.rc_context(RC):
        fig = figure(max(6.4, 0.9 * len(groups) * max(1, len(bars)) ** 0.5 + 2), 3.2)
        ax = fig.add_subplot()
        width = 0.8 / max(1, len(bars))
        for i, (name, values) in enumerate(bars.items()):
            xs, ys, lows, highs = [], [], [], []
            for g, value in enumerate(values):
                if value is None:
                    continue
                xs.append(g - 0.4 + width * (i + 0.5))
                ys.append(value["rate"] if rates else value)
                lows.append(value["low"] if rates else ys[-1])
                highs.append(value["high"] if rates else ys[-1])
            color = (colors or {}).get(name, PALETTE[i % len(PALETTE)])
            err = _errors(ys, lows, highs) if rates else None
            ax.bar(xs, ys, width, yerr=err, capsize=2, label=name, color=color)
        ax.set_xticks(range(len(groups)), groups, rotation=20 if len(groups) > 4 else 0)
        if rates:
            _rate_axis(ax)
        ax.set_title(title)
        if len(bars) > 1:
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return to_svg(fig)


def _rate_axis(ax: Any) -> None:
    from matplotlib.ticker import PercentFormatter

    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(axis="y", alpha=0.3)
