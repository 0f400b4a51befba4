"""Detector options (``audit --option DETECTOR.NAME=VALUE``) are checked before any work.

Before issue 21, ``dataflow.nonsense=3`` (dataflow takes no options) and every
``trigger-mining.*`` option (the detector read them under another key) were silently
ignored, and so were the options of a detector that does not run (``outliers.*``
without ``--detectors outliers``), bad values included.
"""

from __future__ import annotations

import pytest

from backdoorlab.config import ConfigError
from backdoorlab.defenses.audit import audit
from backdoorlab.defenses.audit.command import audit_command
from backdoorlab.defenses.audit.registry import AuditOptions, check_options
from backdoorlab.defenses.audit.trigger_mining import MiningConfig, TriggerMiningDetector
from backdoorlab.errors import BackdoorlabError


@pytest.fixture
def traces(tmp_path):
    from backdoorlab.envs import make_env
    from backdoorlab.policies import make_policy
    from backdoorlab.rollout import rollout
    from backdoorlab.traces import write_traces

    env = make_env("retail", seed=0)
    path = tmp_path / "t.jsonl"
    write_traces(
        path, [r.trace for r in rollout(env, make_policy("oracle"), env.tasks("train", 3))]
    )
    return path


@pytest.mark.parametrize(
    ("detectors", "options", "message"),
    [
        (None, ["dataflow.nonsense=3"], "dataflow: unknown option 'nonsense' \\(known: trusted\\)"),
        (None, ["trigger-mining.alpha=5"], "field 'alpha': Input should be less than or equal"),
        (None, ["trigger-mining.alpah=0.1"], "trigger-mining: unknown option 'alpah' \\(known:"),
        (
            None,
            ["outliers.nonsense=1", "outliers.other=2"],
            "outliers: unknown options 'nonsense', 'other'",
        ),
        (None, ["outliers.expected_rate=5"], "field 'expected_rate': Input should be less than 1"),
        (None, ["outliers.expected_rate=0.1"], "outliers: options given .* does not run"),
        ("dataflow", ["judge.batch_size=4"], "judge: options given .* does not run"),
        ("judge", ["judge.batch_size=0"], "field 'batch_size'"),
        ("judge", ["judge.device=gpu"], "field 'device': unknown device 'gpu'"),
        ("outliers", ["outliers.expected_rate=0.9"], "field 'expected_rate': 1.5 x expected_rate"),
        ("outliers", ["outliers.layer=1e9"], "field 'layer'"),
        ("dataflow", ["trigger-mining.flag_severity=severe"], "field 'flag_severity'"),
    ],
)
def test_bad_options_fail_before_any_work(traces, monkeypatch, detectors, options, message):
    def no_audit(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the audit ran")

    monkeypatch.setattr("backdoorlab.defenses.audit.command.audit", no_audit)
    with pytest.raises(ConfigError, match=message) as caught:
        audit_command(traces, detectors=detectors, options=options)
    assert "\n" not in str(caught.value)


def test_trigger_mining_options_reach_the_detector(traces) -> None:
    options = AuditOptions(extra={"trigger-mining": {"alpha": 0.5, "max_triggers": 2}})
    detector = TriggerMiningDetector(options)
    assert (detector.config.alpha, detector.config.max_triggers) == (0.5, 2)
    assert audit(traces, ["trigger-mining"], options=options).traces == 3


def test_the_python_api_checks_options_as_the_command_does(traces) -> None:
    with pytest.raises(ConfigError, match="dataflow: unknown option 'x'"):
        audit(traces, ["dataflow"], options=AuditOptions(extra={"dataflow": {"x": 1}}))
    with pytest.raises(BackdoorlabError, match="unknown detector 'trigger_mining'"):
        check_options({"trigger_mining": MiningConfig()})
    check_options({"trigger-mining": MiningConfig(), "dataflow": {}})  # an instance, or nothing
