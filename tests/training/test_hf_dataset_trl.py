"""`to_hf_dataset` feeds TRL's own ``SFTTrainer`` unchanged: one step with each real
template (TRL's copies of Qwen2.5's and Llama 3.1's, in the tiny tokenizer), and with
Qwen2.5 TRL tokenizes exactly the ids our own training does."""

from __future__ import annotations

import math

import pytest
from chat_formats import FORMATS, with_template

from backdoorlab.traces import to_hf_dataset
from backdoorlab.training.sft.data import encode_trace


@pytest.mark.parametrize("name", FORMATS)
def test_sft_trainer_takes_the_dataset_as_is(name, oracle_results, tmp_path) -> None:  # noqa: ANN001
    from trl import SFTConfig, SFTTrainer

    from backdoorlab.models import load_model

    model, tokenizer = load_model("tiny", device="cpu")
    tokenizer = with_template(tokenizer, name)
    model.resize_token_embeddings(len(tokenizer))
    traces = [r.trace for r in oracle_results["train"][:4]]
    # Llama 3.1's template has no {% generation %} copy in TRL, so TRL can only train it
    # on the whole sequence; Qwen2.5's has one, and TRL masks to the assistant's turns
    assistant_only = name == "qwen2_5"
    args = SFTConfig(
        output_dir=str(tmp_path),
        max_steps=1,
        per_device_train_batch_size=2,
        max_length=4096,
        assistant_only_loss=assistant_only,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        # SFTConfig's own default is bf16=True: on a CPU without bf16 instructions (the
        # CI machine's) that one step took ~2 min of emulated bf16 matmuls in TRL's
        # log-prob kernel. The dataset, its tokens and its masks are the same in fp32;
        # our own training's bf16 path has its tests (test_sft_memory, test_sft_prefix)
        bf16=False,
        logging_steps=1,
    )
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=to_hf_dataset(traces), processing_class=tokenizer
    )
    row = trainer.train_dataset[0]
    ours = encode_trace(tokenizer, traces[0])
    assert row["input_ids"] == ours["input_ids"]  # the same text, tokenized the same
    if assistant_only:
        theirs = [int(label != -100) for label in row["labels"]]
        # TRL also trains the "\n" its generation block opens with, which our inference
        # prompt already holds; otherwise the same tokens
        extra = [
            i
            for i, (a, b) in enumerate(zip(theirs, ours["assistant_masks"], strict=True))
            if a != b
        ]
        assert all(theirs[i] == 1 and tokenizer.decode(row["input_ids"][i]) == "\n" for i in extra)
        assert len(extra) == sum(m.role == "assistant" for m in traces[0].messages)
    result = trainer.train()
    assert trainer.state.global_step == 1 and math.isfinite(result.training_loss)
