"""Fixtures for the model tests: offline, with the ``tiny`` model built once per session.

Nothing here de-quantizes the real 135M model except the ``slow`` tests, which run only
with ``BACKDOORLAB_SLOW=1``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backdoorlab import models


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory holding the built ``tiny`` model, shared by the session."""
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BACKDOORLAB_CACHE", str(root))
        mp.setenv("HF_HUB_OFFLINE", "1")
        models.resolve_model_dir(models.TINY_MODEL)
    return root


@pytest.fixture
def use_tiny_cache(tiny_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BACKDOORLAB_CACHE", str(tiny_cache))
    return tiny_cache


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("BACKDOORLAB_CACHE", str(root))
    return root
