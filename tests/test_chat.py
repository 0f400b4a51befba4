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


def test_plain_text_is_a_final_answer():
    parsed = parse_assistant_output("Your order is on its way.<|im_end|>junk")
    assert not parsed.invalid
    assert parsed.message.text == "Your order is on its way."
    assert not parsed.message.tool_calls


# A Qwen2.5-style template that renders tools: the "model's own format" path.
QWEN_LIKE = (
    "{%- if tools %}<|im_start|>system\n{{ messages[0].content }}\n<tools>"
    "{%- for t in tools %}{{ t.function.name }};{%- endfor %}</tools><|im_end|>\n"
    "{%- endif %}"
    "{%- for m in messages %}{%- if m.role == 'system' %}{%- if not tools %}"
    "<|im_start|>system\n{{ m.content }}<|im_end|>\n{%- endif %}"
    "{%- elif m.role == 'assistant' %}<|im_start|>assistant\n{{ m.content }}"
    '{%- for c in m.tool_calls or [] %}<tool_call>{"name": "{{ c.function.name }}", '
    '"arguments": {{ c.function.arguments | tojson }}}</tool_call>{%- endfor %}<|im_end|>\n'
    "{%- else %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}<|im_start|>assistant\n{%- endif %}"
)


class _TemplateTokenizer:
    """Just enough of a tokenizer to exercise the template path without a model."""

    chat_template = QWEN_LIKE

    def apply_chat_template(
        self, conversation, tools=None, tokenize=False, add_generation_prompt=False
    ):
        import jinja2

        env = jinja2.Environment()
        env.filters["tojson"] = lambda v: __import__("json").dumps(v)
        return env.from_string(self.chat_template).render(
            messages=conversation, tools=tools, add_generation_prompt=add_generation_prompt
        )


def test_model_own_template_is_used_when_it_renders_tools(oracle_results):
    from backdoorlab.chat import has_tool_template

    trace = oracle_results["train"][1].trace
    tok = _TemplateTokenizer()
    assert has_tool_template(tok)
    segments = render_segments(trace.messages, trace.tools, tokenizer=tok)
    text = "".join(s.text for s in segments)
    assert "<tools>find_user_by_email;" in text
    assert text == tok.apply_chat_template(
        [
            __import__("backdoorlab.chat", fromlist=["x"])._template_message(m)
            for m in trace.messages
        ],
        tools=trace.tools,
    )
    trainable = [s.text for s in segments if s.trainable]
    assert len(trainable) == sum(m.role == "assistant" for m in trace.messages)
    # each trainable piece follows exactly the inference prompt for that turn, and parses back
    assistant_indices = [i for i, m in enumerate(trace.messages) if m.role == "assistant"]
    for piece, index in zip(trainable, assistant_indices, strict=True):
        prompt = render(
            trace.messages[:index], trace.tools, add_generation_prompt=True, tokenizer=tok
        )
        assert text.startswith(prompt + piece)
        parsed = parse_assistant_output(piece)
        want = trace.messages[index]
        assert [(c.name, c.arguments) for c in parsed.message.tool_calls or ()] == [
            (c.name, c.arguments) for c in want.tool_calls or ()
        ]


def test_bare_json_tool_call_is_parsed():
    parsed = parse_assistant_output('{"name": "get_order", "parameters": {"order_id": "O1"}}')
    assert not parsed.invalid
    assert parsed.message.tool_calls[0].arguments == {"order_id": "O1"}
