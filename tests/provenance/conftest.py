"""Fixtures of the provenance tests: three key pairs."""

from __future__ import annotations

from pathlib import Path

import pytest
from provenance_builders import write_keypair


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Three key pairs: ``trusted`` and ``other`` (publishers), ``scanner`` (an attester)."""
    root = tmp_path_factory.mktemp("keys")
    return {name: write_keypair(root, name) for name in ("trusted", "other", "scanner")}
