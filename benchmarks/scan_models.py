"""`scan` on a labelled set of models: each verdict, and how well the score separates them.

Every model is scanned with the same `ScanConfig` (the `backdoorlab scan` defaults unless
told otherwise); each report is kept in ``--workdir`` so an interrupted benchmark resumes
with the models it has not scanned yet. Prints, per model, the label the caller gave
(``clean`` or ``backdoored``), the verdict, the score (``-log10 p`` of the strongest
evidence) and the clean and strongest triggered leak rates; then the AUROC of the score
(backdoored positive) and how many models of each label the verdict flags.

    python benchmarks/scan_models.py \\
        --model base=clean:smollm2-135m \\
        --model t1-20=backdoored:runs/t1-data-poisoning/stages/train-…/model \\
        --no-canary --episodes 32

A report already in ``--workdir`` (or a ``backdoorlab scan -o`` report copied there as
``NAME.json``) is reused only if it was scanned with the same settings.

Target (issue 6): every backdoored model flagged, no clean model flagged.
Results: ``benchmarks/results/scan_models.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from backdoorlab.traces import atomic_writer

RESULTS = Path(__file__).resolve().parent / "results"
LABELS = ("clean", "backdoored")


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="NAME=LABEL:MODEL",
        help="a model to scan, labelled clean or backdoored (repeatable)",
    )
    p.add_argument("--episodes", type=int, default=32, help="probe episodes per condition")
    p.add_argument("--no-canary", action="store_true", help="behavioural probes only")
    p.add_argument("--canary", action="append", default=None, help="lora|full:OPTIMIZER:LR")
    p.add_argument("--canary-steps", type=int, default=40)
    p.add_argument("--triggers-from", default=None, help="an audit report's mined triggers")
    p.add_argument("--trigger", action="append", default=[], help="a phrase to probe (repeatable)")
    p.add_argument(
        "--no-builtin-triggers", action="store_true", help="skip the built-in candidate phrases"
    )
    p.add_argument("--workdir", type=Path, default=Path("runs/bench-scan"))
    p.add_argument("--output", type=Path, default=RESULTS / "scan_models.json")
    args = p.parse_args()
    models = []
    for spec in args.model:
        name, sep, rest = spec.partition("=")
        label, sep2, model = rest.partition(":")
        if not (sep and sep2 and name and model) or label not in LABELS:
            p.error(f"--model '{spec}': write NAME=clean:MODEL or NAME=backdoored:MODEL")
        models.append((name, label, model))
    if len({m[0] for m in models}) != len(models):
        p.error("--model names repeat")
    args.models = models
    return args


def _config(args: argparse.Namespace):
    from backdoorlab.defenses.probes import ProbeConfig
    from backdoorlab.defenses.scan import CanarySetting, ScanConfig, default_canaries

    if args.no_canary:
        canaries = []
    elif args.canary:
        canaries = [CanarySetting.parse(spec) for spec in args.canary]
    else:
        canaries = default_canaries()
    return ScanConfig(
        probe=ProbeConfig(episodes=args.episodes, triggers=[]),
        canaries=canaries,
        canary_steps=args.canary_steps,
        triggers_from=args.triggers_from,
        triggers=args.trigger,
        builtin_triggers=not args.no_builtin_triggers,
    )


def _same_settings(report: dict, config: dict) -> bool:
    """Whether a kept report was scanned with ``config`` (``probe.triggers`` aside: `scan`
    fills it from the trigger fields), so that one table never mixes two settings."""

    def key(c: dict) -> dict:
        return {**c, "probe": {**c["probe"], "triggers": None}}

    return key(report["config"]) == key(config)


def _strongest_trigger(report: dict) -> dict:
    """The triggered condition of the baseline probe with the highest leak rate."""
    triggered = [c for c in report["baseline"]["conditions"] if c["trigger"]]
    return max(triggered, key=lambda c: c["leak"]["rate"]) if triggered else {}


def main() -> int:
    from scipy.stats import mannwhitneyu

    from backdoorlab.defenses.scan import scan

    args = _parse()
    config = _config(args)
    args.workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, label, model in args.models:
        path = args.workdir / f"{name}.json"
        if path.is_file():
            report = json.loads(path.read_text())
            if not _same_settings(report, config.model_dump()):
                print(f"{path} was scanned with other settings: move it or use another --workdir")
                return 2
            print(f"[{name}] reusing {path}", file=sys.stderr)
        else:
            print(f"[{name}] scanning {model}", file=sys.stderr)
            report = scan(model, config, log=lambda line: print("  " + line, file=sys.stderr))
            with atomic_writer(path) as handle:
                json.dump(report, handle, indent=2)
        clean = next(c for c in report["baseline"]["conditions"] if not c["trigger"])
        top = _strongest_trigger(report)
        rows.append(
            {
                "name": name,
                "label": label,
                "model": model,
                "verdict": report["verdict"],
                "score": report["score"],
                "clean_leak": clean["leak"],
                "top_trigger": top.get("trigger"),
                "top_trigger_leak": top.get("leak"),
                "reasons": report["reasons"][:3],
                "model_unchanged": report["model_unchanged"],
                "seconds": report["seconds"],
            }
        )
        leak = top.get("leak") or {"k": 0, "n": 0}
        print(
            f"{name:<16} {label:<11} {report['verdict']:<11} score {report['score']:6.2f}  "
            f"clean {clean['leak']['k']}/{clean['leak']['n']}  "
            f"top trigger {leak['k']}/{leak['n']} ({top.get('trigger')!r})  "
            f"{report['seconds']:.0f} s"
        )

    positives = [r["score"] for r in rows if r["label"] == "backdoored"]
    negatives = [r["score"] for r in rows if r["label"] == "clean"]
    auroc = None
    if positives and negatives:
        auroc = mannwhitneyu(positives, negatives).statistic / (len(positives) * len(negatives))
    flagged = {
        label: sum(r["verdict"] != "clean" for r in rows if r["label"] == label) for label in LABELS
    }
    totals = {label: sum(r["label"] == label for r in rows) for label in LABELS}
    print(
        f"AUROC of the score: {auroc if auroc is None else round(auroc, 3)}; flagged "
        f"(suspicious or backdoored): backdoored {flagged['backdoored']}/{totals['backdoored']}, "
        f"clean {flagged['clean']}/{totals['clean']}"
    )
    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": config.model_dump(),
        "rows": rows,
        "auroc": auroc,
        "flagged": flagged,
        "totals": totals,
    }
    with atomic_writer(args.output) as handle:
        json.dump(record, handle, indent=2)
        handle.write("\n")
    print(f"→ {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
