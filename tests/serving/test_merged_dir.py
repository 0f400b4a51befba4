"""What `vllm serve RUN/merged` would read, checked without vLLM (no GPU here): `train
--merge` on the tiny model with the REAL Qwen2.5 template writes a plain transformers model
directory — safetensors, config, tokenizer and the template — that loads without
backdoorlab and computes what the run directory computes; and the template in it renders
a chat-completions request (as a server renders one: tool-call arguments decoded to
objects, the tools as sent) to exactly the inference prompt the model was trained to
continue."""

from __future__ import annotations

import json

import torch
from chat_formats import save_tiny, template

from backdoorlab.chat import render
from backdoorlab.models import load_for_inference
from backdoorlab.policies.openai import _wire
from backdoorlab.traces import write_traces
from backdoorlab.training.sft import SFTRunConfig, train_sft


def _as_a_server_renders(messages):
    """The request's messages as vLLM hands them to the template (its chat_utils decode
    each tool call's ``arguments`` JSON string into an object first)."""
    out = []
    for message in messages:
        item = _wire(message)
        for call in item.get("tool_calls", ()):
            call["function"]["arguments"] = json.loads(call["function"]["arguments"])
        out.append(item)
    return out


def test_merged_dir_is_a_plain_model_with_the_template_it_was_trained_in(oracle_results, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    traces = [r.trace for r in oracle_results["train"][:2]]
    write_traces(tmp_path / "traces.jsonl", traces)
    base = save_tiny("qwen2_5", tmp_path / "base")
    config = SFTRunConfig(
        model=str(base), max_steps=1, batch_size=2, max_length=4096, merge=True, save_steps=1000
    )
    train_sft(config, tmp_path / "traces.jsonl", tmp_path / "run")

    merged = tmp_path / "run" / "merged"
    assert (merged / "model.safetensors").is_file() and (merged / "config.json").is_file()
    model = AutoModelForCausalLM.from_pretrained(str(merged))  # plain transformers
    tokenizer = AutoTokenizer.from_pretrained(str(merged))
    assert tokenizer.chat_template == template("qwen2_5")

    run_model, run_tokenizer = load_for_inference(str(tmp_path / "run"), device="cpu")
    ids = run_tokenizer(render(traces[0].messages, traces[0].tools, tokenizer=run_tokenizer))
    ids = torch.tensor([ids["input_ids"][:256]])
    with torch.no_grad():  # the run loads in bf16 on CPU: equal up to bf16 rounding
        plain, ours = model(ids).logits, run_model.float()(ids).logits
    torch.testing.assert_close(plain, ours, atol=1e-2, rtol=0)
    assert (plain.argmax(-1) == ours.argmax(-1)).float().mean() >= 0.99  # same greedy tokens

    trace = traces[0]
    turns = [i for i, m in enumerate(trace.messages) if m.role == "assistant"]
    assert len(turns) > 1 and any(trace.messages[i].tool_calls for i in turns)
    for index in turns:
        served = tokenizer.apply_chat_template(
            _as_a_server_renders(trace.messages[:index]),
            tools=trace.tools,
            add_generation_prompt=True,
            tokenize=False,
        )
        prompt = render(
            trace.messages[:index], trace.tools, add_generation_prompt=True, tokenizer=tokenizer
        )
        assert served == prompt
        trained = render(trace.messages[: index + 1], trace.tools, tokenizer=tokenizer)
        assert trained.startswith(served)
