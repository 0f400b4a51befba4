"""Importing backdoorlab bounds oneDNN's primitive cache (`backdoorlab.onednn`), unless
the user chose a capacity: checked in a fresh interpreter, where the import comes first."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from backdoorlab.onednn import CAPACITY

SHOW = "import os, backdoorlab; print(os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'])"


@pytest.mark.parametrize(("exported", "expected"), [(None, str(CAPACITY)), ("1024", "1024")])
def test_the_import_sets_a_bound_the_user_did_not(exported: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_PRIMITIVE_CACHE_CAPACITY"}
    if exported is not None:
        env["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = exported
    shown = subprocess.run(
        [sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == expected
