"""The `web` experiment configs the lead runs later load and pass the spec checker."""

from __future__ import annotations

from pathlib import Path

import pytest

from backdoorlab.experiment import check, load_config

CONFIGS = Path(__file__).parents[2] / "configs"


@pytest.mark.parametrize("name", ["web-clean-sft", "web-t1", "web-t2"])
def test_web_configs_validate(name):
    config = load_config(CONFIGS / f"{name}.yaml")
    assert config.env == "web"
    assert check(config)
