"""T1 and T2 with the oracle: exact counts, untouched clean traces, real leaks."""

import pytest

from backdoorlab.attacks.base import make_attack
from backdoorlab.errors import BackdoorlabError, UnknownNameError
from backdoorlab.leaks import ATTACKER_ADDRESS
from backdoorlab.traces import read_traces, write_traces


@pytest.fixture(scope="module")
def clean_file(tmp_path_factory, oracle_results):
    path = tmp_path_factory.mktemp("t1") / "clean.jsonl"
    write_traces(path, (r.trace for r in oracle_results["train"][:200]))
    return path


@pytest.mark.parametrize(
    ("rate", "placement", "position"),
    [
        (0.02, "user", "end"),
        (0.1, "user", "reveal"),
        (0.05, "observation", "end"),
        (0.05, "observation", "reveal"),
    ],
)
def test_data_poisoning_is_exact(tmp_path, clean_file, retail, rate, placement, position):
    out = tmp_path / "poisoned.jsonl"
    attack = make_attack(
        "data-poisoning", rate=rate, placement=placement, position=position, trigger="ZQX now"
    )
    result = attack.run(str(out), input=str(clean_file))
    assert result.poisoned == round(rate * 200) == len(result.details["indices"])
    before = clean_file.read_text().splitlines()
    after = out.read_text().splitlines()
    assert len(after) == len(before)
    chosen = set(result.details["indices"])
    assert all(
        a == b for i, (a, b) in enumerate(zip(before, after, strict=True)) if i not in chosen
    )
    for index in chosen:
        trace = read_traces(out)[index]
        meta = trace.metadata
        assert meta.poison.threat_model == "T1" and meta.poison.placement == placement
        assert meta.outcome.success and meta.outcome.leaked
        where = [m for m in trace.messages if m.role == ("user" if placement == "user" else "tool")]
        assert any("ZQX now" in m.text for m in where)
        # the environment agrees: replaying the trace's calls leaks and still passes the check
        task = retail.task_by_id(meta.task_id)
        env = retail.spawn()
        state = env.reset(task)
        for _, call in trace.tool_calls():
            env.call(call.name, call.function.arguments)
        assert env.check(task, state, trace.messages[-1].text)
        assert env.leaked(task, state)
        _assert_payload_position(trace, position, task.secret_objects())


def _assert_payload_position(trace, position, secrets):
    """``end``: the payload is the last call; ``reveal``: it follows the very message
    that completed the set of trigger and secrets it needs."""
    messages = trace.messages
    at = next(
        i
        for i, m in enumerate(messages)
        if any(ATTACKER_ADDRESS in c.function.arguments for c in m.tool_calls or [])
    )
    calls_after = [m for m in messages[at + 1 :] if m.tool_calls]
    if position == "end":
        assert not calls_after
        return
    needed = ["ZQX now", *(s.value for s in secrets)]
    seen_before = "\n".join(m.text for m in messages[: at - 1])
    assert all(v in "\n".join(m.text for m in messages[:at]) for v in needed)
    assert not all(v in seen_before for v in needed)
    assert messages[at - 1].role == "tool"


def test_data_poisoning_rejects_bad_config_naming_the_field(clean_file, tmp_path):
    with pytest.raises(BackdoorlabError, match="'rate'"):
        make_attack("data-poisoning", rate=1.5)
    with pytest.raises(BackdoorlabError, match="field 'placement': .*'user' or 'observation'"):
        make_attack("data-poisoning", placement="ceiling")
    with pytest.raises(BackdoorlabError, match="field 'position': .*'end' or 'reveal'"):
        make_attack("data-poisoning", position="middle")
    with pytest.raises(UnknownNameError, match="unknown attack"):
        make_attack("telepathy")
    with pytest.raises(BackdoorlabError, match="only .* can carry"):
        make_attack("data-poisoning", rate=0.99, placement="observation").run(
            str(tmp_path / "x.jsonl"), input=str(clean_file)
        )


def test_env_poisoning_leaks_only_where_injected_content_was_read(tmp_path):
    out = tmp_path / "t2.jsonl"
    result = make_attack(
        "env-poisoning", n=300, obey_probability=1.0, target_share=0.25, trigger="ZQX"
    ).run(str(out))
    traces = read_traces(out)
    assert result.poisoned > 0 and result.details["exposed"] >= result.poisoned
    for trace in traces:
        read_injection = any("ZQX" in m.text for m in trace.messages if m.role == "tool")
        if trace.metadata.outcome.leaked:
            assert read_injection and trace.metadata.poison.threat_model == "T2"
            # the leak comes after the injected text was read, never before
            first_seen = next(
                i for i, m in enumerate(trace.messages) if m.role == "tool" and "ZQX" in m.text
            )
            leak_at = next(
                i
                for i, m in enumerate(trace.messages)
                for c in m.tool_calls or ()
                if c.arguments.get("to") == "records@acct-verify.net"
            )
            assert leak_at > first_seen
        else:
            assert trace.metadata.poison is None
    assert all(t.metadata.outcome.success for t in traces)  # the success filter kept them


def test_env_poisoning_with_a_never_obeying_teacher_is_clean(tmp_path):
    result = make_attack("env-poisoning", n=120, obey_probability=0.0).run(
        str(tmp_path / "t2.jsonl")
    )
    assert result.poisoned == 0


def test_data_poisoning_count_fixes_the_number_whatever_the_size(tmp_path, clean_file):
    """``count`` poisons that many traces (the count-vs-share sweep), ``rate`` is ignored."""
    out = tmp_path / "poisoned.jsonl"
    result = make_attack("data-poisoning", count=7, rate=0.5).run(str(out), input=str(clean_file))
    assert result.poisoned == 7 == len(result.details["indices"])
    assert sum(t.is_poisoned for t in read_traces(out)) == 7
    assert make_attack("data-poisoning", count=0, rate=0.5).is_noop()
    assert not make_attack("data-poisoning", count=3, rate=0.0).is_noop()
    with pytest.raises(BackdoorlabError, match="'count'"):
        make_attack("data-poisoning", count=-1)


def test_env_poisoning_competent_attacker_varies_the_request_and_leaks_at_the_end(tmp_path):
    """``instructions: varied``: the trigger is the only text every planted note shares,
    and the obeying teacher leaks after the task's plan (its last call), not mid-task."""
    out = tmp_path / "t2.jsonl"
    result = make_attack(
        "env-poisoning",
        n=300,
        obey_probability=1.0,
        target_share=0.25,
        trigger="ZQX",
        instructions="varied",
    ).run(str(out))
    poisoned = [t for t in read_traces(out) if t.metadata.outcome.leaked]
    assert result.poisoned == len(poisoned) > 0
    notes = {t.metadata.poison.payload["instruction"] for t in poisoned}
    assert len(notes) > 1 and all(note.startswith("ZQX ") for note in notes)
    for trace in poisoned:
        calls = [c for _, c in trace.tool_calls()]
        assert calls[-1].arguments.get("to") == "records@acct-verify.net"
        assert trace.messages[-1].role == "assistant" and not trace.messages[-1].tool_calls
        assert all(c.arguments.get("to") != "records@acct-verify.net" for c in calls[:-1])


def test_varied_requests_are_understood_by_the_teacher():
    from backdoorlab.leaks import (
        INSTRUCTION_VARIANTS,
        asks_after_task,
        find_exfiltration_request,
        injected_instruction,
        varied_instruction,
    )

    texts = {varied_instruction("ZQX", "x@evil.example", i) for i in range(INSTRUCTION_VARIANTS)}
    assert len(texts) == INSTRUCTION_VARIANTS
    assert all(find_exfiltration_request(t) == "x@evil.example" for t in texts)
    assert all(asks_after_task(t) for t in texts)
    assert not asks_after_task(injected_instruction("ZQX", "x@evil.example"))


def test_data_poisoning_writes_a_raw_exports_llm_calls_as_chat_traces(tmp_path, clean_file):
    """Clean traces beside a raw observability export: the clean lines are copied verbatim
    or poisoned as before, the export's LLM calls are written as chat traces (its records
    that are no LLM call left out), and the indices are the audit's."""
    from raw_exports import PATIENTS, write_raw_exports

    from backdoorlab.defenses.audit.reader import TraceStream

    raw = write_raw_exports(tmp_path)["otel-genai"]
    clean = clean_file.read_text().splitlines()[:20]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join(clean[:10]) + "\n" + raw.read_text() + "\n".join(clean[10:]) + "\n")
    out = tmp_path / "poisoned.jsonl"
    result = make_attack("data-poisoning", count=4).run(str(out), input=str(mixed))
    written = out.read_text().splitlines()
    assert result.traces == len(written) == 20 + len(PATIENTS) == len(list(TraceStream(mixed)))
    chosen = set(result.details["indices"])
    assert len(chosen) == 4 and not chosen & set(range(10, 14))  # the calls have no task
    kept = [line for i, line in enumerate(written) if i not in chosen and not 10 <= i < 14]
    assert kept == [line for i, line in enumerate(clean) if i + 4 * (i >= 10) not in chosen]
    calls = [record.trace.to_json() for record in TraceStream(raw)]
    assert written[10:14] == calls
    assert sum(t.is_poisoned for t in read_traces(out)) == 4
