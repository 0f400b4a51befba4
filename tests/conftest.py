"""Shared fixtures. Everything runs offline: no hub downloads, ever."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def retail():
    from backdoorlab.envs import make_env

    return make_env("retail", seed=0)


@pytest.fixture(scope="session")
def oracle_results(retail):
    """A few hundred oracle episodes per split, shared by the tests that only read them."""
    from backdoorlab.policies import make_policy
    from backdoorlab.rollout import rollout

    policy = make_policy("oracle")
    return {
        split: rollout(retail, policy, retail.tasks(split, 270, seed=7))
        for split in ("train", "test")
    }
