"""Fixtures for the scan tests (helpers live in `scan_helpers`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    from backdoorlab.models import resolve_model_dir

    target = tmp_path / "model-under-scan"
    shutil.copytree(resolve_model_dir("tiny"), target)
    return target
