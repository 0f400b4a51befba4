"""Tests for `backdoorlab.training.sft` and `.data` on the ``tiny`` model (CPU, ~seconds each).

What is pinned down: the assistant-only loss mask token by token, the labels TRL builds from
it (the ``<|im_end|>`` closing an assistant turn stays a label even though it is also the pad
token), training/inference rendering agreement, that the trainer's loss is the token-weighted
NLL over the whole accumulated batch (``num_items_in_batch``) and matches the model's own
full-logits loss, LoRA training + checkpoint + resume, full fine-tuning, and config errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from backdoorlab.chat import IM_END, assistant_text, render
from backdoorlab.errors import BackdoorlabError
from backdoorlab.models import RUN_MARKER, load_for_inference, load_model
from backdoorlab.traces import Trace, read_traces, write_traces
from backdoorlab.training.sft import (
    SFTRunConfig,
    compile_layers,
    encode_trace,
    sft_config_fields,
    train_sft,
)


@pytest.fixture(scope="module")
def traces(traces_file: Path) -> list[Trace]:
    return read_traces(traces_file)


@pytest.fixture(scope="module")
def tokenizer():
    return load_model("tiny", device="cpu")[1]


def _config(**kwargs) -> SFTRunConfig:  # noqa: ANN003
    defaults = {
        "model": "tiny",
        "batch_size": 2,
        "grad_accum": 1,
        "logging_steps": 1,
        "save_steps": 1000,
    }
    return SFTRunConfig(**{**defaults, **kwargs})


def _runs(mask: list[int]) -> list[tuple[int, int]]:
    """[start, end) of each run of ones."""
    runs, start = [], None
    for i, bit in enumerate([*mask, 0]):
        if bit and start is None:
            start = i
        elif not bit and start is not None:
            runs.append((start, i))
            start = None
    return runs


# --------------------------------------------------------------------------- data


def test_mask_covers_exactly_the_assistant_turns(traces: list[Trace], tokenizer) -> None:  # noqa: ANN001
    for trace in traces:
        encoded = encode_trace(tokenizer, trace)
        ids, mask = encoded["input_ids"], encoded["assistant_masks"]
        assert len(ids) == len(mask) and set(mask) <= {0, 1}
        # token by token, the ids spell the rendered transcript
        pieces = [tokenizer.decode([i]) for i in ids]
        assert "".join(pieces) == render(trace.messages, trace.tools)
        # each run of mask-1 tokens is one assistant turn: its content/tool calls + <|im_end|>
        turns = [m for m in trace.messages if m.role == "assistant"]
        runs = _runs(mask)
        assert len(runs) == len(turns) > 0
        for (start, end), message in zip(runs, turns, strict=True):
            assert "".join(pieces[start:end]) == assistant_text(message) + IM_END
            assert ids[end - 1] == tokenizer.convert_tokens_to_ids(IM_END)
            # and what surrounds it is the (untrained) turn header and newline
            assert "".join(pieces[:start]).endswith("<|im_start|>assistant\n")
            assert end == len(ids) or pieces[end] == "\n"
        # every other token is masked out, including every user/tool/system <|im_end|>
        im_end = tokenizer.convert_tokens_to_ids(IM_END)
        trained_ends = sum(1 for i, m in zip(ids, mask, strict=True) if i == im_end and m)
        assert trained_ends == len(turns)
        assert sum(mask) == sum(end - start for start, end in runs)


def test_training_prefix_equals_inference_prompt(traces: list[Trace], tokenizer) -> None:  # noqa: ANN001
    for trace in traces:
        encoded = encode_trace(tokenizer, trace)
        starts = [start for start, _ in _runs(encoded["assistant_masks"])]
        turn_indices = [i for i, m in enumerate(trace.messages) if m.role == "assistant"]
        for start, i in zip(starts, turn_indices, strict=True):
            prompt = render(trace.messages[:i], trace.tools, add_generation_prompt=True)
            prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            assert encoded["input_ids"][:start] == prompt_ids


# --------------------------------------------------------------------------- trainer


def _probe(check):  # noqa: ANN001, ANN202
    """A Trainer callback that checks the real (collated) batches before the first step."""
    from transformers import TrainerCallback

    class Probe(TrainerCallback):
        def on_train_begin(self, args, state, control, train_dataloader=None, model=None, **kw):  # noqa: ANN001
            check(train_dataloader, model, args)

    return Probe()


def test_collated_labels_and_loss_normalisation(
    traces_file: Path,
    traces: list[Trace],
    tokenizer,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    encoded = {
        tuple(e["input_ids"]): e["assistant_masks"]
        for e in (encode_trace(tokenizer, t) for t in traces)
    }
    seen: dict[str, float] = {}

    def check(dataloader, model, args) -> None:  # noqa: ANN001
        nll, labelled = 0.0, 0
        for batch, _ in zip(dataloader, range(args.gradient_accumulation_steps), strict=False):
            ids, labels, attention = batch["input_ids"], batch["labels"], batch["attention_mask"]
            for row in range(ids.shape[0]):
                length = int(attention[row].sum())
                assert (
                    attention[row, :length].all() and not attention[row, length:].any()
                )  # right padding
                real = tuple(ids[row, :length].tolist())
                mask = torch.tensor(encoded[real])
                expected = torch.where(mask.bool(), ids[row, :length], torch.tensor(-100))
                assert torch.equal(labels[row, :length], expected)
                assert (labels[row, length:] == -100).all()  # padding (= <|im_end|>) never a label
                # the <|im_end|> closing each assistant turn is a label
                ends = [end - 1 for _, end in _runs(mask.tolist())]
                assert all(labels[row, e] == tokenizer.convert_tokens_to_ids(IM_END) for e in ends)
            with torch.no_grad():
                # the model's own full-logits loss (with the padding mask) ...
                reference = model(input_ids=ids, attention_mask=attention, labels=labels).loss
                # ... equals the trainer's fast path (labelled rows only, no padding mask)
                fast = model(input_ids=ids, labels=labels, compact_lm_head=True)
            n = int((labels[:, 1:] != -100).sum())
            assert int(fast["num_labelled"]) == n
            torch.testing.assert_close(fast["nll_sum"] / n, reference, rtol=1e-4, atol=1e-4)
            nll += float(reference) * n
            labelled += n
        seen["expected_loss"] = nll / labelled

    config = _config(max_steps=1, grad_accum=2, bf16="false", learning_rate=1e-3)
    summary = train_sft(config, traces_file, tmp_path / "run", callbacks=[_probe(check)])
    log = [
        json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()
    ]
    # the logged loss of step 1 (before any update) is the token-weighted mean over both
    # micro-batches: sum of NLL / labelled tokens of the whole step, not a mean of means
    assert log[0]["loss"] == pytest.approx(seen["expected_loss"], rel=1e-4)
    assert log[0]["num_assistant_tokens"] > 0
    assert summary["steps"] == 1


def test_lora_trains_checkpoints_and_resumes(traces_file: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = train_sft(_config(max_steps=2, save_steps=2, learning_rate=1e-2), traces_file, run)
    assert first["steps"] == 2 and first["resumed_from"] is None
    assert (run / "checkpoint-2").is_dir() and (run / RUN_MARKER).is_file()
    adapter = load_file(run / "adapter" / "adapter_model.safetensors")
    lora_b = [t for name, t in adapter.items() if "lora_B" in name]
    assert lora_b and all(t.abs().sum() > 0 for t in lora_b)  # B starts at zero

    base, tokenizer = load_for_inference("tiny", device="cpu")
    tuned, _ = load_for_inference(str(run), device="cpu")
    ids = tokenizer("<|im_start|>user\nhello<|im_end|>\n", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert not torch.allclose(base(ids).logits, tuned(ids).logits)

    second = train_sft(_config(max_steps=3, save_steps=2, learning_rate=1e-2), traces_file, run)
    assert (
        second["resumed_from"] is not None and Path(second["resumed_from"]).name == "checkpoint-2"
    )
    assert second["steps"] == 3
    assert json.loads((run / RUN_MARKER).read_text())["steps"] == 3


def test_full_fine_tuning_saves_model(traces_file: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    summary = train_sft(_config(lora=False, max_steps=1, learning_rate=1e-4), traces_file, run)
    assert summary["weights"] == "model" and summary["steps"] == 1
    assert (run / "model" / "config.json").is_file()
    assert list((run / "model").glob("*.safetensors"))
    model, _ = load_for_inference(str(run), device="cpu")
    assert model is not None


def test_full_fine_tuning_of_a_lora_run(traces_file: Path, tmp_path: Path) -> None:
    """A LoRA run directory is a model like any other, for full fine-tuning too (scan's full
    canary on a LoRA-trained model): its merged weights must all be trainable again."""
    lora_run = tmp_path / "lora"
    train_sft(_config(max_steps=1, learning_rate=1e-2), traces_file, lora_run)
    start, _ = load_for_inference(str(lora_run), device="cpu", dtype="float32")
    run = tmp_path / "full"
    cfg = _config(
        model=str(lora_run), lora=False, max_steps=1, learning_rate=1e-3, warmup_ratio=0.0
    )
    assert train_sft(cfg, traces_file, run)["steps"] == 1
    tuned, _ = load_for_inference(str(run), device="cpu", dtype="float32")
    before = dict(start.named_parameters())
    assert all(
        not torch.equal(before[name], p) for name, p in tuned.named_parameters() if "proj" in name
    )


def test_compile_layers_in_place() -> None:
    """Every decoder layer is compiled in place (compilation itself waits for the first
    call: too slow for the suite); parameter names, hence checkpoints, are unchanged."""
    model, _ = load_model("tiny", device="cpu")
    names = [name for name, _ in model.named_parameters()]
    assert compile_layers(model) == model.config.num_hidden_layers
    assert all(layer._compiled_call_impl is not None for layer in model.model.layers)
    assert [name for name, _ in model.named_parameters()] == names
    with pytest.raises(BackdoorlabError, match="no repeated blocks"):
        compile_layers(torch.nn.Linear(2, 2))


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lora_r", 0),
        ("learning_rate", 0.0),
        ("batch_size", 0),
        ("grad_accum", 0),
        ("max_length", 8),
        ("bf16", "maybe"),
    ],
)
def test_bad_config_names_the_field(
    field: str, value: object, traces_file: Path, tmp_path: Path
) -> None:
    with pytest.raises(BackdoorlabError, match=field):
        train_sft(_config(**{field: value}), traces_file, tmp_path / "run")


def test_no_traces_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    write_traces(empty, [])
    with pytest.raises(BackdoorlabError, match="no traces"):
        train_sft(_config(max_steps=1), empty, tmp_path / "run")


def test_a_raw_exports_llm_calls_are_the_training_data(
    tmp_path: Path,
    monkeypatch,
    capsys,  # noqa: ANN001
) -> None:
    """A raw observability export trains on its LLM calls, as chat traces in the audit's
    order, its records that are no LLM call skipped and said in the audit's one line
    (before, the first of them refused the data). Stopped once the data is read."""
    from raw_exports import write_raw_exports

    from backdoorlab.defenses.audit.reader import TraceStream
    from backdoorlab.training.sft import data

    class Read(Exception):
        """The data is what this test is about: no training."""

    path = write_raw_exports(tmp_path)["langsmith"]
    given: list[list[Trace]] = []

    def read(config, tokenizer, traces, source, *args):  # noqa: ANN001, ANN002, ANN202
        given.append(traces)
        raise Read

    monkeypatch.setattr(data, "trainable_traces", read)
    with pytest.raises(Read):
        train_sft(_config(max_steps=1), path, tmp_path / "run")
    stream = TraceStream(path)
    calls = [record.trace.model_dump() for record in stream]
    assert [t.model_dump() for t in given[0]] == calls and len(calls) == 4
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("skipped")]
    assert said == [
        "skipped 4 records that hold no LLM call's messages (LangSmith chain runs: 2,"
        " LangSmith tool runs: 2)"
    ]
    assert dict(stream.skipped) == {"LangSmith chain runs": 2, "LangSmith tool runs": 2}


# --------------------------------------------------------------------------- TRL's names


def test_trl_names_load_and_typos_are_named() -> None:
    # an experiment-style mapping in TRL's words: aliases become our fields, any other
    # SFTConfig setting lands in `trl`
    config = SFTRunConfig.load(
        {"num_train_epochs": 1, "warmup_steps": 2, "per_device_train_batch_size": 8},
        where="exp.yaml",
    )
    assert config.epochs == 1 and config.batch_size == 8
    assert config.trl == {"warmup_steps": 2}
    with pytest.raises(BackdoorlabError, match="'lr'"):
        SFTRunConfig.load({"lr": 1})
    with pytest.raises(BackdoorlabError, match="'trl.nope'.*not a trl.SFTConfig setting"):
        SFTRunConfig(trl={"nope": 1})
    with pytest.raises(BackdoorlabError, match="'trl.num_train_epochs'.*set 'epochs'"):
        SFTRunConfig(trl={"num_train_epochs": 3})
    with pytest.raises(BackdoorlabError, match="'trl.output_dir'"):
        SFTRunConfig(trl={"output_dir": "elsewhere"})
    # TRL's boolean bf16 is ours as a string
    assert SFTRunConfig(bf16=True).bf16 == "true"


def test_kept_sft_config_names_are_trls_own() -> None:
    """The list a config check reads instead of importing trl is the one trl has, for
    the versions it names; when they are not the installed ones, trl itself is read."""
    from backdoorlab.training.sft import trl_fields

    if trl_fields.installed_versions() == trl_fields.VERSIONS:
        assert trl_fields.read_fields() == trl_fields.FIELDS
    else:
        assert sft_config_fields() == trl_fields.read_fields()


def test_learning_rate_defaults_by_mode() -> None:
    assert SFTRunConfig().learning_rate == 1e-3  # LoRA
    assert SFTRunConfig(lora=False).learning_rate == 5e-5  # full fine-tuning
    assert SFTRunConfig(lora=False, learning_rate=1e-4).learning_rate == 1e-4


def test_trl_settings_merge_and_leave_old_dumps_alone() -> None:
    plain = SFTRunConfig()
    assert "trl" not in plain.model_dump()  # stage-cache digests of old configs unchanged
    config = plain.updated({"report_to": "none", "trl": {"warmup_steps": 2}})
    config = config.updated({"warmup_steps": 5})
    assert config.trl == {"report_to": "none", "warmup_steps": 5}
    assert SFTRunConfig(**config.model_dump()) == config


def test_trl_settings_reach_sft_config(tmp_path: Path) -> None:
    from trl import SFTConfig

    from backdoorlab.training.sft.arguments import sft_arguments

    config = _config(epochs=1, trl={"warmup_steps": 3, "save_total_limit": 5})
    args = SFTConfig(**sft_arguments(config, tmp_path, device="cpu", bf16=False))
    assert args.warmup_steps == 3 and args.save_total_limit == 5  # over our defaults
    assert args.num_train_epochs == 1 and args.per_device_train_batch_size == 2
    assert args.output_dir == str(tmp_path) and args.use_cpu


def test_cli_set_reaches_the_config(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    import backdoorlab.training.sft as sft
    from backdoorlab.cli import main

    seen: list[SFTRunConfig] = []

    def fake_train(config, data, output, callbacks=None):  # noqa: ANN001, ANN202
        seen.append(config)
        raise BackdoorlabError("stopped before training")

    monkeypatch.setattr(sft, "train_sft", fake_train)

    def run(*extra: str) -> tuple[int, str]:
        argv = ["backdoorlab", "train", "--data", "t.jsonl", "-o", str(tmp_path / "r")]
        monkeypatch.setattr("sys.argv", [*argv, *extra])
        with pytest.raises(SystemExit) as exit_:
            main()
        return exit_.value.code, capsys.readouterr().err

    # --set wins over the options; TRL names are aliases or pass through to SFTConfig
    run("--lr", "1e-4", "--set", "learning_rate=2e-4", "--set", "lora_dropout=0.1")
    run("--full", "--set", "num_train_epochs=3", "--set", "report_to=[wandb]")
    first, second = seen
    assert first.learning_rate == 2e-4 and first.lora_dropout == 0.1
    assert second.epochs == 3 and second.trl == {"report_to": ["wandb"]}
    assert second.learning_rate == 5e-5  # full fine-tuning's default still applies
    code, err = run("--set", "nope=1")
    assert code == 2 and "'nope'" in err and len(err.strip().splitlines()) == 1


def test_a_reporter_whose_package_is_missing_is_refused_before_training(monkeypatch) -> None:
    """The trainer builds one callback per ``report_to`` name, and the callback of a
    package that is not installed raises then: the check names it first."""
    from backdoorlab.training.sft.arguments import TRLSettingError, check_trl_settings

    monkeypatch.setattr(
        "transformers.integrations.integration_utils.get_available_reporting_integrations",
        lambda: [],
    )
    config = SFTRunConfig(model="tiny", trl={"report_to": ["tensorboard"]})
    with pytest.raises(TRLSettingError, match="tensorboard's package is not installed"):
        check_trl_settings(config, device="cpu")
    check_trl_settings(config.model_copy(update={"trl": {"report_to": "none"}}), device="cpu")
