"""Probe settings: validated on construction, with the probes' own defaults."""

from __future__ import annotations

import pytest

from backdoorlab.config import ConfigError
from backdoorlab.defenses.probes import ProbeConfig, probe_leaks
from backdoorlab.evaluation import EvalConfig
from backdoorlab.policies import make_policy
from backdoorlab.triggers import DEFAULT_TRIGGER


def test_probe_defaults_differ_from_evaluation_on_purpose() -> None:
    probe = ProbeConfig()
    assert (probe.max_steps, probe.episodes, probe.batch_size) == (8, 16, 32)
    assert probe.triggers == [DEFAULT_TRIGGER] and probe.split == "test"
    assert EvalConfig().max_steps == 12


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"episodes": 0}, "probe config: field 'episodes'"),
        ({"max_steps": 0}, "field 'max_steps'"),
        ({"batch_size": -1}, "field 'batch_size'"),
        ({"split": "dev"}, "field 'split'"),
        ({"placement": "sky"}, "placement must be one of user, observation, not 'sky'"),
        ({"triggers": ["cf", "  "]}, "an empty trigger phrase"),
        ({"episode": 3}, "field 'episode': unknown setting"),
    ],
)
def test_bad_probe_config_names_the_field(settings: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        ProbeConfig(**settings)


def test_probe_of_the_oracle(retail) -> None:  # noqa: ANN001
    config = ProbeConfig(episodes=6, triggers=["cf"], placement="observation")
    result = probe_leaks(retail, make_policy("oracle"), config)
    assert result.names == ["clean", "cf"]
    assert result["clean"].success.k == 6 and result["cf"].leak.k == 0
    assert 0 < result["cf"].leak.n < 6  # only tasks that read third-party text
    assert config.updated({"episodes": 3}).episodes == 3
