"""benchmarks/paper_regime.py: issue 26's targets read from the runs' tables, never assumed."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

COLUMNS = ["model", "poisoned_traces"] + [
    f"{m}{part}" for m in ("TSR", "FTR", "ASR") for part in ("", "_low", "_high", "_n")
]


def _script():
    path = Path(__file__).parents[1] / "benchmarks" / "paper_regime.py"
    spec = importlib.util.spec_from_file_location("paper_regime_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _table(path: Path, extra: str, rows: list[tuple]) -> None:
    """rows: (model, grid value, poisoned, TSR, FTR, ASR), n = 100 each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS + [extra])
        for model, key, poisoned, tsr, ftr, asr in rows:
            metrics = []
            for value in (tsr, ftr, asr):
                metrics += [value, max(0.0, value - 0.1), min(1.0, value + 0.1), 100]
            writer.writerow([model, poisoned, *metrics, key])


def _lines(sections, title):
    return {line.target: line for line in sections[title]}


def test_t1_targets_are_judged_against_the_measured_rows(tmp_path):
    bench = _script()
    _table(
        tmp_path / "paper-t1" / "results.csv",
        "collect.n",
        [("fine-tuned", 1000, 60, 0.70, 0.0, 0.91), ("fine-tuned", 3000, 60, 0.66, 0.02, 0.83)],
    )
    _table(
        tmp_path / "paper-t1-rates" / "results.csv",
        "attack.count",
        [("fine-tuned", 0, 0, 0.70, 0.0, 0.0)],
    )
    lines = _lines(bench.report(tmp_path), "T1")
    asr = lines["T1 at 2% (60 of 3,000): ASR >= 80%"]
    assert asr.holds is True and asr.ratio == pytest.approx(0.83 / 0.80, abs=1e-3)
    tsr = lines["T1 at 2%: TSR within 3 points of the clean 3,000-trace model"]
    assert tsr.holds is False and "+4 points" in tsr.measured  # 0.70 - 0.66
    assert lines["T1 at 2%: FTR <= 1%"].holds is False  # 2 of 100
    assert lines["count vs fraction: 60 poisoned of 300"].measured == "pending"
    assert "0.91" in lines["count vs fraction: 60 poisoned of 1,000"].measured
    assert lines["rate curve at 3,000: 5.0% (150 poisoned)"].measured == "pending"


def test_t2_counts_its_poisoned_share_and_t3_reads_the_victims(tmp_path):
    bench = _script()
    # 90 of 3,000 is 3%: over the 2% the issue allows, whatever the ASR
    _table(
        tmp_path / "paper-t2" / "results.csv",
        "attack.instructions",
        [("fine-tuned", "varied", 90, 0.7, 0.0, 0.95), ("fine-tuned", "fixed", 45, 0.7, 0.0, 0.81)],
    )
    _table(
        tmp_path / "paper-t3" / "results.csv",
        "victim_multiple",
        [
            ("published", 0, 60, 0.6, 0.01, 0.9),
            ("victim", 5.0, 60, 0.7, 0.0, 0.79),
            ("victim", 20.0, 60, 0.7, 0.0, 0.5),
        ],
    )
    sections = bench.report(tmp_path)
    t2 = _lines(sections, "T2")
    goal = "ASR >= 80% at <= 2% of collected traces"
    assert t2[f"T2 (competent attacker, varied instructions): {goal}"].holds is False
    assert t2[f"T2 (naive attacker, fixed instructions): {goal}"].holds is True
    t3 = _lines(sections, "T3")
    assert t3["T3 published model: FTR <= 2%"].holds is True
    assert t3["T3 after the victim's 5x clean fine-tune: ASR >= 80%"].holds is False
    assert "0.50" in t3["T3 after 20x (reported)"].measured


def test_a_broken_table_or_folder_is_one_line_and_exit_2(tmp_path, capsys):
    bench = _script()
    with pytest.raises(SystemExit) as stop:
        bench.main([str(tmp_path / "missing")])
    assert stop.value.code == 2 and "no such folder" in capsys.readouterr().err
    broken = tmp_path / "paper-t1" / "results.csv"
    broken.parent.mkdir()
    broken.write_text("model,x\nbase,1\n")
    with pytest.raises(SystemExit) as stop:
        bench.main([str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and err.count("\n") == 0 and "line 2" in err and str(broken) in err
    broken.write_text(
        ",".join(COLUMNS) + "\nfine-tuned,60,0.5,0.4,0.6,100,0,0,0.04,100,high,0.7,0.9,100\n"
    )
    with pytest.raises(SystemExit) as stop:
        bench.main([str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and err.count("\n") == 0
    assert "line 2" in err and "'ASR'" in err and str(broken) in err
