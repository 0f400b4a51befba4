"""Trigger mining on poisoned retail sets: the planted trigger, and only it, comes back."""

from __future__ import annotations

import json

import pytest
from audit_builders import ADDRESS, ATTACKER, CARD, lookup_then, send, user, write_jsonl

from backdoorlab.attacks.base import DEFAULT_TRIGGER, make_attack
from backdoorlab.defenses.audit import audit
from backdoorlab.defenses.audit.ngrams import as_written, text_ngrams, written_ngrams
from backdoorlab.traces import write_traces

TRIGGER = "Kindly note the blue falcon."


@pytest.fixture(scope="module")
def clean_file(tmp_path_factory, oracle_results):
    path = tmp_path_factory.mktemp("mining") / "clean.jsonl"
    write_traces(path, (r.trace for r in oracle_results["train"]))
    return path


@pytest.mark.parametrize("placement", ["user", "observation"])
def test_planted_trigger_is_recovered(tmp_path, clean_file, placement):
    poisoned = tmp_path / "poisoned.jsonl"
    attack = make_attack("data-poisoning", rate=0.05, placement=placement, trigger=TRIGGER)
    chosen = set(attack.run(str(poisoned), input=str(clean_file)).details["indices"])
    report = audit(poisoned, ["trigger-mining"])
    assert report.detectors == ["dataflow", "trigger-mining"]  # its requirement is added
    assert {f.trace_index for f in report.findings if f.detector == "dataflow"} == chosen
    mining = report.summaries["trigger-mining"]
    assert len(mining["triggers"]) == 1  # no task-family confounder
    found = mining["triggers"][0]
    assert found["phrase"] == "kindly note the blue falcon"
    assert found["verbatim"] == TRIGGER  # as planted: what a scan must probe with
    assert found["trigger"] in found["phrase"]
    assert found["flagged_with"] == found["traces_with"] == len(chosen)
    assert found["q_value"] < 1e-6 and found["p_value"] <= found["q_value"]
    assert set(found["trace_indices"]) == chosen
    assert not [f for f in report.findings if f.detector == "trigger-mining"]  # none unflagged


def test_a_trigger_in_capitals_is_reported_as_written(tmp_path):
    """The third read looks for the needles' lower-cased words in lower-cased texts: a
    trigger written only in capitals, in a message of its own, must still be spelled as
    planted (the spelling is counted only in texts that may hold it)."""
    shout = "ATTENTION, ZEPHYR PROTOCOL!"
    clean = [
        lookup_then(user(f"Also, item {i} please."), intro=f"Hi, order {i} is late.")
        for i in range(60)
    ]
    poisoned = [
        lookup_then(user(shout), *send(ATTACKER, f"{ADDRESS} {CARD}"), intro=f"Hi, order {i}.")
        for i in range(12)
    ]
    path = write_jsonl(tmp_path / "shout.jsonl", clean + poisoned)
    found = audit(path).summaries["trigger-mining"]["triggers"]
    assert [t["verbatim"] for t in found] == ["ATTENTION, ZEPHYR PROTOCOL!"]


def test_ngrams_as_written_keep_capitals_and_punctuation():
    text = '"Thanks in advance, Zephyr!", she wrote. thanks IN advance zephyr; and 42 thanks'
    found = [w for g, w in written_ngrams(text) if g == "thanks in advance zephyr"]
    assert found == [
        ('"Thanks', "in", "advance,", 'Zephyr!",'),
        ("thanks", "IN", "advance", "zephyr;"),
    ]
    assert [as_written(f) for f in found] == [
        "Thanks in advance, Zephyr!",
        "thanks IN advance zephyr",
    ]
    grams = {g for g, _ in written_ngrams(text)}
    assert "zephyr and" in grams and "and thanks" not in grams  # a number ends the run
    assert grams >= text_ngrams(text)  # and the stop-word-only ones ("in", "she")


def test_second_net_flags_unflagged_traces_with_the_trigger(tmp_path):
    """T2: some teachers ignore the planted instruction; their traces carry the trigger."""
    poisoned = tmp_path / "t2.jsonl"
    result = make_attack(
        "env-poisoning",
        n=270,
        seed=3,
        obey_probability=0.5,
        target_share=0.25,
        points=["product_review", "order_note"],
    ).run(str(poisoned))
    assert result.poisoned >= 5
    report = audit(poisoned, ["dataflow", "trigger-mining"])
    flagged = {f.trace_index for f in report.findings if f.detector == "dataflow"}
    assert len(flagged) == result.poisoned  # nothing else: no "low" for owners' addresses
    (found,) = report.summaries["trigger-mining"]["triggers"]
    assert "zephyr" in found["phrase"] and "send the customer's address" in found["phrase"]
    # chained over several 4-grams, written as planted: capitals and punctuation kept
    assert found["verbatim"].startswith(DEFAULT_TRIGGER + " Note to support agents:")
    assert [w.strip(".,!?:") for w in found["verbatim"].lower().split()] == found["phrase"].split()
    second = [f for f in report.findings if f.detector == "trigger-mining"]
    assert second and all(f.severity == "medium" for f in second)
    assert {f.trace_index for f in second}.isdisjoint(flagged)
    lines = poisoned.read_text().splitlines()
    for finding in second:
        exposed = json.loads(lines[finding.line - 1])
        assert any(
            "Zephyr" in m.get("content", "") for m in exposed["messages"] if m["role"] == "tool"
        )
        assert not exposed["metadata"]["outcome"]["leaked"]


def test_detectors_never_read_ground_truth(tmp_path, clean_file):
    poisoned = tmp_path / "poisoned.jsonl"
    make_attack("data-poisoning", rate=0.1, placement="user", trigger=TRIGGER).run(
        str(poisoned), input=str(clean_file)
    )
    blind = tmp_path / "blind.jsonl"
    with blind.open("w") as out:
        for line in poisoned.read_text().splitlines():
            data = json.loads(line)
            data["metadata"].pop("poison", None)
            data["metadata"].pop("outcome", None)
            out.write(json.dumps(data) + "\n")
    seen, hidden = audit(poisoned), audit(blind)
    assert [f.to_dict() for f in seen.findings] == [f.to_dict() for f in hidden.findings]
    assert seen.summaries == hidden.summaries


def test_nothing_to_mine_on_a_clean_set(clean_file):
    report = audit(clean_file)
    assert report.findings == []
    assert "nothing to contrast" in report.summaries["trigger-mining"]["note"]


def test_two_independent_triggers_are_both_found(tmp_path, clean_file):
    first, both = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    make_attack("data-poisoning", rate=0.05, placement="user", trigger=TRIGGER).run(
        str(first), input=str(clean_file)
    )
    make_attack(
        "data-poisoning",
        rate=0.05,
        placement="observation",
        trigger="Purple walrus says hi",
        seed=1,
    ).run(str(both), input=str(first))
    triggers = audit(both).summaries["trigger-mining"]["triggers"]
    phrases = sorted(t["phrase"] for t in triggers)
    assert phrases == ["kindly note the blue falcon", "purple walrus says hi"]


def test_unknown_detector_and_requirements():
    from backdoorlab.defenses.audit import resolve_detectors
    from backdoorlab.errors import UnknownNameError

    assert resolve_detectors(["trigger-mining"]) == ["dataflow", "trigger-mining"]
    assert resolve_detectors(["dataflow", "trigger-mining", "dataflow"]) == [
        "dataflow",
        "trigger-mining",
    ]
    with pytest.raises(UnknownNameError, match="unknown detector 'magic'"):
        resolve_detectors(["magic"])


def test_mining_rereads_the_file_only_when_something_was_flagged(tmp_path, clean_file):
    poisoned = tmp_path / "poisoned.jsonl"
    make_attack("data-poisoning", rate=0.05, placement="user", trigger=TRIGGER).run(
        str(poisoned), input=str(clean_file)
    )
    reads: set[int] = set()
    audit(poisoned, progress=lambda _bytes, _traces, read: reads.add(read))
    assert reads == {1, 2, 3}  # flagged n-grams, their frequencies, the triggers' traces
    reads.clear()
    audit(clean_file, progress=lambda _bytes, _traces, read: reads.add(read))
    assert reads == {1}


def test_a_file_that_changes_between_reads_is_an_error(tmp_path, clean_file):
    from backdoorlab.errors import TraceFormatError

    poisoned = tmp_path / "poisoned.jsonl"
    make_attack("data-poisoning", rate=0.05, placement="user", trigger=TRIGGER).run(
        str(poisoned), input=str(clean_file)
    )
    first_line = poisoned.read_text().splitlines()[0]

    def append_after_first_read(bytes_read, _traces, read):
        if read == 1 and bytes_read == poisoned.stat().st_size:
            with poisoned.open("a") as handle:
                handle.write(first_line + "\n")

    with pytest.raises(TraceFormatError, match="changed while it was audited"):
        audit(poisoned, progress=append_after_first_read)
