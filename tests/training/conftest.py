"""Fixtures shared by the training tests: a small file of clean oracle retail traces."""

from __future__ import annotations

from pathlib import Path

import pytest

from backdoorlab.traces import write_traces


@pytest.fixture(scope="module")
def traces_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight clean oracle traces (train split, task seed 3) as JSONL."""
    from backdoorlab.envs import make_env
    from backdoorlab.policies import make_policy
    from backdoorlab.rollout import rollout

    env = make_env("retail", seed=0)
    results = rollout(env, make_policy("oracle"), env.tasks("train", 8, seed=3))
    path = tmp_path_factory.mktemp("data") / "traces.jsonl"
    write_traces(path, [r.trace for r in results])
    return path
