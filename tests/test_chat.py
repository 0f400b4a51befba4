from backdoorlab.chat import parse_assistant_output, render, render_segments


def test_render_parse_round_trip_of_every_assistant_turn(oracle_results):
    for result in oracle_results["train"][:40]:
        for message in result.trace.messages:
            if message.role != "assistant":
                continue
            text = render([message])
            body = text.split("<|im_start|>assistant\n", 1)[1]
            parsed = parse_assistant_output(body)
            assert not parsed.invalid
            assert parsed.message.text == message.text
            got = [(c.name, c.arguments) for c in parsed.message.tool_calls or ()]
            assert got == [(c.name, c.arguments) for c in message.tool_calls or ()]


def test_only_assistant_segments_are_trainable(oracle_results):
    trace = oracle_results["train"][0].trace
    segments = render_segments(trace.messages, trace.tools)
    assert "".join(s.text for s in segments) == render(trace.messages, trace.tools)
    trainable = [s.text for s in segments if s.trainable]
    assert len(trainable) == sum(m.role == "assistant" for m in trace.messages)
    assert all(t.endswith("<|im_end|>") for t in trainable)


def test_unparseable_tool_call_is_invalid_not_an_exception():
    parsed = parse_assistant_output(
        '<tool_call>{"name": "get_order", "arguments": {oops</tool_call>'
    )
    assert parsed.invalid and "not valid JSON" in parsed.error
    parsed = parse_assistant_output('<tool_call>{"arguments": {}}</tool_call>')
    assert parsed.invalid
    huge = '{"name": "get_order", "arguments": {"order_id": ' + "9" * 5000 + "}}"
    parsed = parse_assistant_output(f"<tool_call>{huge}</tool_call>")  # ValueError in json
    assert parsed.invalid and "not valid JSON (a number or nesting too large)" in parsed.error
    assert not parse_assistant_output(huge).message.tool_calls  # a bare call: read as text


def test_plain_text_is_a_final_answer():
    parsed = parse_assistant_output("Your order is on its way.<|im_end|>junk")
    assert not parsed.invalid
    assert parsed.message.text == "Your order is on its way."
    assert not parsed.message.tool_calls


def test_bare_json_tool_call_is_parsed():
    parsed = parse_assistant_output('{"name": "get_order", "parameters": {"order_id": "O1"}}')
    assert not parsed.invalid
    assert parsed.message.tool_calls[0].arguments == {"order_id": "O1"}
