"""Pathological input costs time in proportion to its size, or is refused in one line.

``show`` highlighted secret shapes with regexes that rescanned a long run of word
characters from every position (200k characters: 114 s); ``train`` tokenized a one-line
50 MB trace whole (73 s, 4 GB), trained 0 steps on it and reported success.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from rich.console import Console

from backdoorlab.cli import main

RUNS = {
    "word characters": "a" * 200_000,  # the e-mail shape's local part, unbounded before
    "street addresses": "1 A" * 70_000,  # the address shape's street, unbounded before
    "dotted words": "a." * 100_000,
    "digits": "1" * 200_000,
    "at signs": "a@" * 100_000,
}


@pytest.mark.parametrize("kind", RUNS)
def test_show_is_linear_on_long_runs(kind: str) -> None:
    from backdoorlab.report.viewer import show_trace
    from backdoorlab.traces import Trace

    text = RUNS[kind]
    trace = Trace.model_validate(
        {
            "messages": [
                {"role": "user", "content": text},
                {"role": "tool", "name": "lookup", "content": json.dumps({"note": text})},
            ]
        }
    )
    started = time.process_time()
    show_trace(trace, Console(file=io.StringIO(), width=120))
    assert time.process_time() - started < 2.0  # ~0.3 s; quadratic, it took minutes


def test_secret_shapes_still_found() -> None:
    from backdoorlab.report.viewer import highlight_secrets

    text = (
        "mail jo.doe+x@mail.example.com, card 4111 1111 1111 1111, call (555) 123-4567, "
        "ship to 12 Main St., Springfield, IL 62704"
    )
    spans = {text[s.start : s.end] for s in highlight_secrets(text).spans}
    assert spans == {
        "jo.doe+x@mail.example.com",
        "4111 1111 1111 1111",
        "(555) 123-4567",
        "12 Main St., Springfield, IL 62704",
    }


def _huge_trace(chars: int) -> dict:
    """One trace whose user message alone is longer than any max_length."""
    words = " ".join(f"word{i % 1000}" for i in range(chars // 8))
    return {
        "messages": [{"role": "user", "content": words}, {"role": "assistant", "content": "ok"}]
    }


def _no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the huge trace is tokenized whole or training starts."""
    from backdoorlab.training.sft import data, trainer

    real = data.encode_trace

    def encode(tokenizer, trace):  # noqa: ANN001, ANN202
        assert len(trace.messages[0].text) < 100_000, "the huge trace was tokenized whole"
        return real(tokenizer, trace)

    monkeypatch.setattr(data, "encode_trace", encode)
    monkeypatch.setattr(trainer, "trainer_class", lambda: pytest.fail("training started"))


def test_train_refuses_a_trace_that_cannot_fit(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    big = tmp_path / "big.jsonl"
    big.write_text(json.dumps(_huge_trace(3_000_000)) + "\n")  # ~3 MB, one line
    _no_training(monkeypatch)
    argv = ["train", "--data", str(big), "-o", str(tmp_path / "run"), "--model", "tiny"]
    monkeypatch.setattr("sys.argv", ["backdoorlab", *argv, "--max-steps", "1"])
    started = time.process_time()
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert time.process_time() - started < 30  # the model's load; no tokenizing of 3 MB
    line = err.strip()
    assert len(line.splitlines()) == 1 and str(big) in line
    assert "no trace has an assistant turn within its first 1024 tokens" in line


def test_train_leaves_out_the_traces_that_cannot_fit(
    tmp_path: Path, traces_file: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # noqa: ANN001
    from backdoorlab.training.sft import SFTRunConfig, data, train_sft

    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(traces_file.read_text() + json.dumps(_huge_trace(300_000)) + "\n")
    real = data.encode_trace
    seen: list[int] = []

    def encode(tokenizer, trace):  # noqa: ANN001, ANN202
        seen.append(len(trace.messages[0].text))
        return real(tokenizer, trace)

    monkeypatch.setattr(data, "encode_trace", encode)
    config = SFTRunConfig(model="tiny", max_steps=1, batch_size=2, bf16="false")
    summary = train_sft(config, mixed, tmp_path / "run")
    assert summary["steps"] == 1 and summary["traces"] == 8
    assert len(seen) == 8 and max(seen) < 100_000
    err = capsys.readouterr().err
    assert "1 of 9 traces have no assistant turn within their first 1024 tokens" in err
