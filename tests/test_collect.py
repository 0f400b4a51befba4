"""`collect_traces`: every outcome counted, the kept traces written atomically."""

from __future__ import annotations

import pytest

from backdoorlab.collect import KEEP, collect_traces, succeeded
from backdoorlab.policies import make_policy
from backdoorlab.traces import read_traces


def test_collect_keeps_and_writes(retail, tmp_path) -> None:
    tasks = retail.tasks("train", 12, seed=0)
    ticks: list[tuple[int, int]] = []
    everything = collect_traces(
        retail, make_policy("oracle"), tasks, output=tmp_path / "all.jsonl",
        progress=lambda done, total: ticks.append((done, total)),
    )  # fmt: skip
    assert len(everything.outcomes) == everything.written == 12
    assert ticks[-1] == (12, 12) and len(ticks) == 12
    assert [t.metadata.task_id for t in read_traces(tmp_path / "all.jsonl")] == [
        t.id for t in tasks
    ]
    # a step limit too short for some tasks: the success filter drops their traces
    short = collect_traces(
        retail, make_policy("oracle"), tasks, keep=succeeded, max_steps=3,
        output=tmp_path / "ok.jsonl",
    )  # fmt: skip
    assert len(short.outcomes) == 12
    assert short.written == sum(o.success for o in short.outcomes) < 12
    assert len(read_traces(tmp_path / "ok.jsonl")) == short.written
    assert KEEP["success"] is succeeded and KEEP["all"] is None


def test_collect_without_output_writes_nothing(retail, tmp_path) -> None:
    result = collect_traces(retail, make_policy("oracle"), retail.tasks("train", 3, seed=1))
    assert result.path is None and result.written == 3 and not list(tmp_path.iterdir())


def test_a_failed_collection_leaves_the_old_file(retail, tmp_path) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_text("old\n")

    def boom(result) -> bool:  # noqa: ANN001
        raise RuntimeError("policy crashed")

    with pytest.raises(RuntimeError):
        collect_traces(
            retail, make_policy("oracle"), retail.tasks("train", 2, seed=0), output=path,
            keep=boom,
        )  # fmt: skip
    assert path.read_text() == "old\n" and list(tmp_path.iterdir()) == [path]
