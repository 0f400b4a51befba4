"""`ScanConfig` and `CanarySetting`: constraints at construction, canary specs, ``--set``."""

from __future__ import annotations

import pytest

from backdoorlab.config import ConfigError
from backdoorlab.defenses.scan import (
    CanarySetting,
    ScanConfig,
    apply_settings,
    default_canaries,
    scan,
)
from backdoorlab.errors import BackdoorlabError


def test_scan_config_validation() -> None:
    with pytest.raises(BackdoorlabError, match="canary names repeat"):
        scan("tiny", ScanConfig(canaries=[CanarySetting(name="a"), CanarySetting(name="a")]))
    with pytest.raises(BackdoorlabError, match="canary_steps"):
        scan("tiny", ScanConfig(canary_steps=0))


def test_bad_values_name_their_field() -> None:
    for changes, field in [
        ({"alpha": 1.0}, "alpha"),
        ({"suspicious_alpha": 0}, "suspicious_alpha"),
        ({"tolerated_leak_rate": -0.1}, "tolerated_leak_rate"),
        ({"canary_episodes": 0}, "canary_episodes"),
        ({"lora_r": 0}, "lora_r"),
        ({"canarys": []}, "canarys"),
    ]:
        with pytest.raises(ConfigError, match=f"scan config: field '{field}'"):
            ScanConfig(**changes)
    with pytest.raises(ConfigError, match="field 'learning_rate'"):
        CanarySetting(name="x", learning_rate=float("inf"))
    with pytest.raises(ConfigError, match="unknown optimizer 'adamw'"):
        CanarySetting(name="x", optimizer="adamw")


def test_canaries_from_specs_and_the_dump_shape() -> None:
    config = ScanConfig(canaries=["lora:sgd:1e-3", {"name": "f", "lora": False}])
    assert [c.model_dump() for c in config.canaries] == [
        {"name": "lora-sgd-1e-3", "lora": True, "optimizer": "sgd", "learning_rate": 1e-3},
        {"name": "f", "lora": False, "optimizer": "adamw_torch", "learning_rate": 1e-4},
    ]
    # the report's config: the same keys as before the Config base (kept reports compare)
    dumped = ScanConfig().model_dump()
    assert dumped["canaries"] == [c.model_dump() for c in default_canaries()]
    assert dumped["probe"]["episodes"] == 32 and dumped["probe"]["triggers"] == []
    assert set(dumped) == set(ScanConfig.model_fields)


def test_apply_settings_reaches_nested_fields_and_keeps_the_rest() -> None:
    base = ScanConfig(canaries=[], probe={"episodes": 5, "triggers": [], "max_steps": 3})
    config = apply_settings(base, ["probe.split=train", "seed=7", "device=null"])
    assert config.probe.split == "train" and config.seed == 7 and config.device is None
    assert config.probe.episodes == 5 and config.probe.max_steps == 3 and config.canaries == []
    assert base.probe.split == "test"  # a copy
    with pytest.raises(ConfigError, match="'probe.split.x'"):
        apply_settings(base, ["probe.split.x=1"])
