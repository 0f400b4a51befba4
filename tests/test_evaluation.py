import math

import pytest

from backdoorlab.evaluation import EvalConfig, Rate, evaluate, summarize, wilson_interval
from backdoorlab.policies import make_policy


def test_wilson_interval_known_values():
    # reference values from the closed form (Wilson 1927), z = 1.96
    low, high = wilson_interval(80, 100)
    assert low == pytest.approx(0.7112, abs=1e-4)
    assert high == pytest.approx(0.8666, abs=1e-4)
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(0, 10)[1] == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(10, 10) == (pytest.approx(0.7225, abs=1e-4), pytest.approx(1.0))
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(5, 3)


def test_rate_formats_count_and_interval():
    rate = Rate.of(2, 100)
    assert rate.rate == 0.02
    assert str(rate).endswith("(2/100)")
    assert math.isnan(Rate.of(0, 0).rate)


def test_oracle_evaluation_has_full_tsr_and_no_leaks(retail):
    report = evaluate(
        retail, make_policy("oracle"), EvalConfig(n=18, trigger="as noted", placement="user")
    )
    assert report["TSR"]["k"] == 18
    assert report["FTR"]["k"] == 0
    assert report["ASR"]["n"] == 18 and report["ASR"]["k"] == 0  # the oracle has no backdoor
    assert report["clean"]["invalid_action"]["k"] == 0


def test_observation_trigger_uses_only_tasks_that_read_third_party_text(retail, tmp_path):
    report = evaluate(
        retail,
        make_policy("oracle"),
        EvalConfig(n=18, trigger="ZETA-7", placement="observation"),
        traces_dir=tmp_path,
    )
    assert 0 < report["ASR"]["n"] < 18
    triggered = (tmp_path / "triggered.jsonl").read_text()
    assert triggered.count("ZETA-7") >= report["ASR"]["n"]  # every episode read the planted text


def test_summarize_counts_invalid_actions_per_step(oracle_results):
    summary = summarize(oracle_results["test"][:10])
    assert summary["invalid_action"]["n"] == sum(
        r.outcome.steps for r in oracle_results["test"][:10]
    )


def test_bad_placement_is_a_clear_error(retail):
    from backdoorlab.errors import BackdoorlabError

    with pytest.raises(BackdoorlabError, match="placement must be one of"):
        evaluate(retail, make_policy("oracle"), EvalConfig(n=2, trigger="x", placement="sky"))
