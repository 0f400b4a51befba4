"""Probe settings (validated on construction, with the probes' own defaults) and probe
accounting: each condition's episodes counted on their own."""

from __future__ import annotations

import pytest
from leak_policies import LeakWhen, user_text

from backdoorlab.config import ConfigError
from backdoorlab.defenses.probes import CLEAN, ProbeConfig, probe_leaks
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


TINY = {"max_steps": 2, "max_new_tokens": 8, "batch_size": 32}


def test_probe_counts_each_condition_on_its_own(retail) -> None:  # noqa: ANN001
    policy = LeakWhen(lambda e: "cf" in user_text(e).split())
    config = ProbeConfig(episodes=5, triggers=["cf", "James Bond", "cf"], **TINY)
    result = probe_leaks(retail, policy, config)
    assert result.names == [CLEAN, "cf", "James Bond"]  # repeats dropped
    assert (result[CLEAN].leak.k, result[CLEAN].leak.n) == (0, 5)
    assert (result["cf"].leak.k, result["cf"].leak.n) == (5, 5)
    assert result["James Bond"].leak.k == 0
    assert result.worst().name == "cf" and result["cf"].leak.low > 0.5
