"""The ``eval`` report: TSR, FTR and ASR from the clean and triggered conditions."""

import pytest

from backdoorlab.evaluation import EvalConfig, evaluate
from backdoorlab.policies import make_policy


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


def test_bad_placement_is_a_clear_error(retail):
    from backdoorlab.errors import BackdoorlabError

    with pytest.raises(BackdoorlabError, match="placement must be one of"):
        evaluate(retail, make_policy("oracle"), EvalConfig(n=2, trigger="x", placement="sky"))


@pytest.mark.parametrize("trigger", ["", "   "])
def test_an_empty_trigger_is_refused_not_an_evaluation_without_asr(cli, trigger):
    """As the attacks' ``trigger``: an empty phrase would drop the triggered condition."""
    with pytest.raises(Exception, match="trigger.*must not be empty"):
        EvalConfig(n=2, trigger=trigger)
    code, err = cli("eval", "--model", "oracle", "-n", "2", "--trigger", trigger)
    assert code == 2
    assert err.strip().splitlines() == [
        "error: evaluation config: field 'trigger': must not be empty"
    ]
