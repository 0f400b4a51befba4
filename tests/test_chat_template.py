"""The model's own chat format with REAL templates (TRL's copies of Qwen2.5's and Llama
3.1's, written into the tiny tokenizer): detection, training text, assistant masks, the
prompt-prefix check and the response parsers."""

from __future__ import annotations

import pytest
from chat_formats import FORMATS, template, tiny_tokenizer

from backdoorlab.chat import has_tool_template, parse_completion, render
from backdoorlab.chat_template import (
    ChatFormatError,
    template_format,
    template_messages,
)
from backdoorlab.training.sft.data import encode_trace


@pytest.fixture(scope="module")
def tokenizers():
    return {name: tiny_tokenizer(name) for name in FORMATS}


@pytest.fixture(scope="module")
def traces(oracle_results):
    return [r.trace for r in oracle_results["train"][:20]]


def _runs(mask: list[int]) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, bit in enumerate([*mask, 0]):
        if bit and start is None:
            start = i
        elif not bit and start is not None:
            runs.append((start, i))
            start = None
    return runs


def test_templates_that_render_tools_are_recognised(tokenizers) -> None:  # noqa: ANN001
    from backdoorlab.models import load_tokenizer

    assert not has_tool_template(load_tokenizer("tiny"))  # SmolLM2's ChatML knows no tools
    qwen, llama = template_format(tokenizers["qwen2_5"]), template_format(tokenizers["llama3_1"])
    assert qwen is not None and llama is not None
    assert (qwen.name, qwen.end_of_turn) == ("qwen2_5", "<|im_end|>")
    assert (llama.name, llama.end_of_turn) == ("llama3_1", "<|eot_id|>")
    # TRL ships a {% generation %} copy of Qwen2.5's template, none of Llama 3.1's
    assert qwen.training_template is not None and llama.training_template is None
    assert qwen.response_template is not None and llama.response_template is not None


def test_training_text_is_the_templates_own_render(tokenizers, traces) -> None:  # noqa: ANN001
    trace = traces[1]
    for name, tok in tokenizers.items():
        text = render(trace.messages, trace.tools, tokenizer=tok)
        assert text == tok.apply_chat_template(
            template_messages(trace.messages), tools=trace.tools, tokenize=False
        )
        call = next(c for m in trace.messages for c in m.tool_calls or ())
        key = "arguments" if name == "qwen2_5" else "parameters"
        # arguments are objects, not a JSON string encoded twice
        assert f'"{key}": {{"' in text and '\\"' not in text.split(call.name, 1)[1][:40]
        assert '"name": "find_user_by_email"' in text  # the tools' JSON schemas


@pytest.mark.parametrize("name", FORMATS)
def test_masks_cover_exactly_the_assistant_turns(tokenizers, traces, name) -> None:  # noqa: ANN001
    tok = tokenizers[name]
    end = template_format(tok).end_of_turn
    for trace in traces:
        encoded = encode_trace(tok, trace)
        ids, mask = encoded["input_ids"], encoded["assistant_masks"]
        indices = [i for i, m in enumerate(trace.messages) if m.role == "assistant"]
        runs = _runs(mask)
        assert len(runs) == len(indices) > 0
        for (start, stop), index in zip(runs, indices, strict=True):
            prompt = render(
                trace.messages[:index], trace.tools, add_generation_prompt=True, tokenizer=tok
            )
            upto = render(trace.messages[: index + 1], trace.tools, tokenizer=tok)
            # the trained tokens start where the inference prompt's tokens end ...
            assert ids[:start] == tok(prompt, add_special_tokens=False)["input_ids"]
            # ... and spell exactly what the turn adds to the conversation
            assert tok.decode(ids[start:stop]) == upto[len(prompt) :]
            assert tok.decode(ids[start:stop]).rstrip("\n").endswith(end)


def test_qwen_masks_are_trls_minus_the_prompts_newline(tokenizers, traces) -> None:  # noqa: ANN001
    tok = tokenizers["qwen2_5"]
    training = template_format(tok).training_template
    for trace in traces[:5]:
        trl_out = tok.apply_chat_template(
            template_messages(trace.messages),
            tools=trace.tools,
            chat_template=training,
            tokenize=True,
            return_dict=True,
            return_assistant_tokens_mask=True,
        )
        ours = encode_trace(tok, trace)
        assert ours["input_ids"] == list(trl_out["input_ids"])
        theirs = _runs(list(trl_out["assistant_masks"]))
        # TRL's generation block opens on the "\n" after "assistant", which the
        # inference prompt already holds: ours starts one token later, ends the same
        assert [(a + 1, b) for a, b in theirs] == _runs(ours["assistant_masks"])
        assert all(tok.decode(ours["input_ids"][a]) == "\n" for a, _ in theirs)


def test_a_template_whose_prompt_is_not_a_prefix_is_refused_by_name(traces) -> None:  # noqa: ANN001
    # the generation prompt opens a thought the full render never has
    odd = template("qwen2_5").replace(
        "{{- '<|im_start|>assistant\\n' }}", "{{- '<|im_start|>assistant\\n<think>' }}"
    )
    assert odd != template("qwen2_5")
    tok = tiny_tokenizer("qwen2_5", odd)
    tok.name_or_path = "acme/odd-7b"
    with pytest.raises(ChatFormatError, match="chat template of acme/odd-7b: assistant turn 1"):
        encode_trace(tok, traces[0])


def test_a_token_merged_across_the_prompt_boundary_is_refused(traces) -> None:  # noqa: ANN001
    from backdoorlab.models import load_tokenizer

    # Llama 3.1's template with SmolLM2's own pre-tokenizer: "\n\n" at the end of the
    # prompt is one token, "\n\n{" in the training text splits differently
    tok = tiny_tokenizer("llama3_1")
    tok.backend_tokenizer.pre_tokenizer = load_tokenizer("tiny").backend_tokenizer.pre_tokenizer
    with pytest.raises(ChatFormatError, match="llama3_1: assistant turn 1's inference prompt"):
        encode_trace(tok, traces[0])


@pytest.mark.parametrize("name", FORMATS)
def test_replies_go_through_transformers_response_parser(tokenizers, traces, name) -> None:  # noqa: ANN001
    tok = tokenizers[name]
    trace = traces[1]
    index = next(i for i, m in enumerate(trace.messages) if m.tool_calls)
    prompt = render(trace.messages[:index], trace.tools, add_generation_prompt=True, tokenizer=tok)
    reply = render(trace.messages[: index + 1], trace.tools, tokenizer=tok)[len(prompt) :]
    parsed = parse_completion(reply, tokenizer=tok, prompt=prompt, tools=trace.tools)
    want = trace.messages[index].tool_calls[0]
    assert not parsed.invalid
    assert [(c.name, c.arguments) for c in parsed.message.tool_calls] == [
        (want.name, want.arguments)
    ]
    final = parse_completion(
        "Done." + template_format(tok).end_of_turn, tokenizer=tok, prompt=prompt
    )
    assert not final.invalid and final.message.text == "Done." and not final.message.tool_calls


def test_malformed_calls_are_invalid_actions_not_exceptions(tokenizers) -> None:  # noqa: ANN001
    qwen, llama = tokenizers["qwen2_5"], tokenizers["llama3_1"]
    prompt_q = "<|im_start|>assistant\n"
    bad = {
        qwen: [
            '<tool_call>\n{"name": "get_order", "arguments": {oops\n</tool_call><|im_end|>',
            '<tool_call>\n{"arguments": {}}\n</tool_call><|im_end|>',  # no name
            '<tool_call>\n{"name": "get_order", "argu',  # cut off
        ],
        llama: ['{"name": "get_order", "parameters": {oops<|eot_id|>'],
    }
    prompts = {qwen: prompt_q, llama: "<|start_header_id|>assistant<|end_header_id|>\n\n"}
    for tok, replies in bad.items():
        for reply in replies:
            parsed = parse_completion(reply, tokenizer=tok, prompt=prompts[tok])
            assert parsed.invalid and parsed.error, reply


def test_a_trace_the_template_refuses_is_one_line_naming_it(tokenizers, traces) -> None:  # noqa: ANN001
    trace = traces[1].model_copy(deep=True)
    message = next(m for m in trace.messages if m.tool_calls)
    message.tool_calls = [message.tool_calls[0], message.tool_calls[0]]  # two calls at once
    with pytest.raises(ChatFormatError, match="llama3_1 refuses the trace: .*single tool-call"):
        encode_trace(tokenizers["llama3_1"], trace)
    encode_trace(tokenizers["qwen2_5"], trace)  # Qwen2.5 takes parallel calls


def test_a_reply_the_template_could_not_render_again_is_invalid(tokenizers) -> None:  # noqa: ANN001
    llama = tokenizers["llama3_1"]
    call = '{"name": "get_order", "parameters": {"order_id": "O1"}}<|eot_id|>'
    prompt = "<|start_header_id|>assistant<|end_header_id|>\n\n"
    assert not parse_completion(call, tokenizer=llama, prompt=prompt).invalid
    twice = parse_completion(call + call, tokenizer=llama, prompt=prompt)
    assert twice.invalid and "single tool-call" in twice.error
