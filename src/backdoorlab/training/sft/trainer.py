"""`train_sft`: TRL's SFTTrainer with the speed pieces, and the run directory it writes.

A run directory holds ``adapter/`` (LoRA) or ``model/`` (full fine-tuning), optionally
``merged/``, the Trainer's ``checkpoint-*`` folders, ``train_log.jsonl``,
``backdoorlab-inputs.json`` (what it trains on, written before the first step) and
``backdoorlab-train.json`` (config, base model, data hash and summary), written last,
atomically: its presence means the run finished.

An interrupted run resumes from its newest whole checkpoint when started again with the
same inputs (`backdoorlab.training.resume`, `backdoorlab.training.checkpoints`); other
inputs are refused, a finished run is not trained again, and `discard_run` (``train
--fresh``) starts over.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from backdoorlab.config import ConfigError
from backdoorlab.digests import file_sha256  # noqa: F401  (re-exported by training.sft
from backdoorlab.errors import BackdoorlabError
from backdoorlab.faults import armed, fault_point
from backdoorlab.files import finish_model_dir
from backdoorlab.models import RUN_MARKER, bf16_supported
from backdoorlab.trace_files import read_file_traces
from backdoorlab.traces import atomic_writer
from backdoorlab.training.callbacks import fault_callback, run_callbacks, trim_heap_callback
from backdoorlab.training.checkpoints import (
    checkpoint_step,
    finish_from_checkpoint,
    stderr_line,
    trim_log,
)
from backdoorlab.training.memory import release_freed_memory
from backdoorlab.training.padding import is_right_padded
from backdoorlab.training.resume import TRAIN_LOG
from backdoorlab.training.sft.arguments import check_trl_settings, sft_arguments
from backdoorlab.training.sft.attention import training_attention
from backdoorlab.training.sft.compile import compile_layers
from backdoorlab.training.sft.config import SFTRunConfig
from backdoorlab.training.sft.lm_head import add_compact_lm_head, compact_head_wanted
from backdoorlab.training.sft.lora_linear import fused_lora
from backdoorlab.training.sft.precision import frozen_linears_to_bf16
from backdoorlab.training.sft.prefix import (
    attending,
    backbone,
    grouped_kv_attention,
    run_prefix,
    shared_prefix_length,
    suffix_inputs,
)
from backdoorlab.training.sft.resume import plan_run, run_inputs
from backdoorlab.training.sft.rows import pass_tokens, split_rows
from backdoorlab.training.sft.sampler import LengthWindowSampler


@functools.cache
def trainer_class() -> type:  # -> type[BackdoorlabSFTTrainer]
    """The SFTTrainer subclass `train_sft` uses (built, importing trl, on the first call)."""
    from trl import SFTTrainer

    class BackdoorlabSFTTrainer(SFTTrainer):
        """SFTTrainer whose training loss scores only the labelled positions (on devices
        where TRL's fused head would score all of them in fp32); everything else —
        datasets, collator, checkpoints, logging, ``accelerate launch`` — is TRL's."""

        def __init__(  # noqa: ANN204
            self,
            *args,  # noqa: ANN002
            compact_lm_head: bool = False,
            share_prefix: bool = False,
            matmul_attention: bool = False,
            fused_lora: bool = False,
            pass_tokens: int | None = None,
            **kwargs,  # noqa: ANN003
        ):
            super().__init__(*args, **kwargs)
            self.pass_tokens = pass_tokens
            self.compact_lm_head = compact_lm_head
            self.share_prefix = share_prefix
            self.matmul_attention = matmul_attention
            self.fused_lora = fused_lora
            self._assistant_tokens = 0
            self._row_sums: list[torch.Tensor] | None = None  # set while a batch is split
            if compact_lm_head:
                base = (
                    self.model.get_base_model()
                    if hasattr(self.model, "get_base_model")
                    else self.model
                )
                add_compact_lm_head(base)

        def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
            if _internal_call and output_dir and armed():  # a checkpoint, under a crash test
                Path(output_dir).mkdir(parents=True, exist_ok=True)  # what saving does first
                fault_point("train.checkpoint.begin")
            super().save_model(output_dir, _internal_call)
            if _internal_call:
                fault_point("train.checkpoint.weights")

        def _get_train_sampler(self, train_dataset=None):  # noqa: ANN001, ANN202
            dataset = train_dataset if train_dataset is not None else self.train_dataset
            if not hasattr(dataset, "__len__") or "input_ids" not in getattr(
                dataset, "column_names", ()
            ):
                return super()._get_train_sampler(train_dataset)
            lengths = [len(ids) for ids in dataset["input_ids"]]
            return LengthWindowSampler(
                lengths, self.args.per_device_train_batch_size, self.args.seed
            )

        def training_step(self, model, inputs, num_items_in_batch=None):  # noqa: ANN001, ANN201
            """The step, its attention as matmuls on a CPU in half precision (`attention`)
            and its LoRA projections one node each (`lora_linear`)."""
            with contextlib.ExitStack() as stack:
                if self.matmul_attention:
                    stack.enter_context(training_attention(model))
                if self.fused_lora:
                    stack.enter_context(fused_lora(model))
                return self._split_step(model, inputs, num_items_in_batch)

        def _split_step(self, model, inputs, num_items_in_batch):  # noqa: ANN001, ANN202
            """With the compact head, the micro-batch in passes of a few traces (`rows`),
            its shared opening run once (`prefix`): the same optimizer step from a
            fraction of the activation memory and fewer FLOPs."""
            if not self.compact_lm_head or self.accelerator.num_processes != 1:
                return super().training_step(model, inputs, num_items_in_batch)
            shared = shared_prefix_length(inputs) if self.share_prefix else 0
            work = suffix_inputs(inputs, shared) if shared else inputs
            # the opening's activations stay alive through every pass: they count in each
            budget = self.pass_tokens or pass_tokens(bool(self.args.bf16))
            rows = split_rows(work, max(budget - shared, 0))
            if rows is None and not shared:
                return super().training_step(model, inputs, num_items_in_batch)
            if num_items_in_batch is None:  # each trace's loss over the batch's labelled tokens
                num_items_in_batch = (inputs["labels"][:, 1:] != -100).sum()
            prefix = None
            if shared:
                model.train()
                # the prepared model's forward runs under accelerate's autocast; the
                # backbone called directly needs it said
                with self.accelerator.autocast(), self.compute_loss_context_manager():
                    prefix = run_prefix(backbone(model), inputs["input_ids"][0, :shared])
                if prefix is None:  # a cache the opening cannot be shared through
                    work, rows = inputs, split_rows(inputs, budget)
                    if rows is None:
                        return super().training_step(model, inputs, num_items_in_batch)
            rows = rows or [work]
            self._row_sums = [torch.zeros(()) for _ in range(3)]
            grouped = grouped_kv_attention() if prefix is not None else contextlib.nullcontext()
            try:
                with grouped:
                    loss = sum(
                        super(BackdoorlabSFTTrainer, self).training_step(
                            # built as it runs: a pass's cache goes with the pass
                            model,
                            row if prefix is None else attending(row, prefix),
                            num_items_in_batch,
                        )
                        for row in rows
                    )
                    if prefix is not None:
                        prefix.backward()
                labelled, entropy, correct = (float(t) for t in self._row_sums)
            finally:
                self._row_sums = None
            metrics = self._metrics["train"]
            metrics["entropy"].append(entropy / labelled if labelled > 0 else 0.0)
            metrics["mean_token_accuracy"].append(correct / labelled if labelled > 0 else 0.0)
            return loss

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # noqa: ANN001
            if self.model.training and "labels" in inputs:
                # cumulative count of the tokens the loss sees, logged as `num_assistant_tokens`
                labelled = (inputs["labels"][:, 1:] != -100).sum()
                self._assistant_tokens += self.accelerator.gather_for_metrics(labelled).sum().item()
                self._metrics["train"]["num_assistant_tokens"] = [self._assistant_tokens]
            if not self.compact_lm_head or return_outputs or not self.model.training:
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            model_inputs = dict(inputs)
            mask = model_inputs.get("attention_mask")
            if mask is not None and is_right_padded(mask):
                # Causal attention never lets a real token see the right padding after it,
                # and position ids default to 0..T-1, so the mask changes nothing for the
                # labelled tokens; without it SDPA takes its fused causal kernel instead of
                # the masked path (5-8x slower per step on CPU, measured).
                del model_inputs["attention_mask"]
            out = model(**model_inputs, use_cache=False, compact_lm_head=True)
            # Same normalisation as TRL: sum over labelled tokens / tokens of the whole
            # (accumulated, all-rank) batch; the Trainer then leaves the loss unscaled
            denominator = out["num_labelled"] if num_items_in_batch is None else num_items_in_batch
            loss = out["nll_sum"] / torch.as_tensor(denominator).clamp(min=1)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * (self.accelerator.num_processes // self.get_tp_size())

            gather = self.accelerator.gather_for_metrics
            num_valid = gather(out["num_labelled"]).sum()
            entropy = gather(out["entropy_sum"]).sum()
            correct = gather(out["num_correct"]).sum()
            metrics = self._metrics["train"]
            if self._row_sums is not None:  # one pass of a split batch: its batch logs them
                for total, part in zip(self._row_sums, (num_valid, entropy, correct), strict=True):
                    total += part.detach().cpu()
            else:
                metrics["entropy"].append((entropy / num_valid).item() if num_valid > 0 else 0.0)
                metrics["mean_token_accuracy"].append(
                    (correct / num_valid).item() if num_valid > 0 else 0.0
                )
            if "attention_mask" in inputs:
                local = inputs["attention_mask"].sum()
            else:
                local = torch.tensor(
                    inputs["position_ids"].size(1), device=inputs["position_ids"].device
                )
            self._total_train_tokens += gather(local).sum().item() // self._tp_size
            metrics["num_tokens"] = [self._total_train_tokens]
            return loss

    return BackdoorlabSFTTrainer


def train_sft(
    config: SFTRunConfig,
    data: str | Path,
    output_dir: str | Path,
    *,
    callbacks: list[Any] | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Fine-tune ``config.model`` on the traces in ``data``; returns the run summary (on the
    other processes of a multi-process launch, only ``steps`` and ``train_loss``).

    ``output_dir`` may hold an interrupted or finished run of the same inputs: the first
    resumes, the second is returned as it was recorded. A run of other inputs is refused
    (`backdoorlab.training.resume.RunMismatchError`). ``log`` gets a line for each
    checkpoint moved aside (default: standard error).
    """
    try:
        return _train(config, data, output_dir, callbacks=callbacks, log=log)
    finally:
        release_freed_memory()  # the trainer's GBs, before whatever the caller runs next


def _train(
    config: SFTRunConfig,
    data: str | Path,
    output_dir: str | Path,
    *,
    callbacks: list[Any] | None,
    log: Callable[[str], None] | None,
) -> dict[str, Any]:
    from peft import LoraConfig
    from trl import SFTConfig

    from backdoorlab.models import load_for_training
    from backdoorlab.provenance import write_lineage
    from backdoorlab.training.sft.data import (
        tokenized_dataset,
        tokenizer_without_model,
        trainable_traces,
    )

    say = log or stderr_line
    output = Path(output_dir)
    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    check_trl_settings(config, device=device)  # before any compute: the setting named
    use_bf16 = config.bf16 == "true" or (config.bf16 == "auto" and bf16_supported(device))

    traces = read_file_traces(data, say)  # a raw export's LLM calls, as the audit reads them
    if not traces:
        raise BackdoorlabError(f"{data}: no traces to train on")
    inputs = run_inputs(config, data)
    plan = plan_run(config, inputs, output, say)
    if plan.finished is not None:
        say(f"{output}: already finished ({plan.finished.get('steps')} steps); not trained again")
        return plan.finished
    early = tokenizer_without_model(config.model)
    dataset = None
    if early is not None:  # refuse unusable data (and misaligned prompts) before the model loads
        traces = trainable_traces(config, early, traces, data)
        dataset = tokenized_dataset(early, traces, source=str(data))
    model, tokenizer = load_for_training(config.model, device=device)
    if dataset is None:
        traces = trainable_traces(config, tokenizer, traces, data)
        dataset = tokenized_dataset(tokenizer, traces, source=str(data))
    trained_tokens = sum(sum(m) for m in dataset["assistant_masks"])
    if trained_tokens == 0:
        raise BackdoorlabError(f"{data}: no assistant turns to learn from")

    try:
        args = SFTConfig(**sft_arguments(config, output, device=device, bf16=use_bf16))
    except (TypeError, ValueError) as exc:  # a TRL setting's value, checked by TRL
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{config.label}: trl.SFTConfig refused the settings: {reason}") from None
    peft_config = (
        LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=config.lora_target_modules,
            task_type="CAUSAL_LM",
        )
        if config.lora
        else None
    )
    extra = [fault_callback()] if armed() else []
    if device == "cpu":
        extra.append(trim_heap_callback())
    trainer = trainer_class()(
        model=model,
        compact_lm_head=compact_head_wanted(device),
        # compiled layers recompile for the cache's shapes: slower than eager with it;
        # under LoRA dropout the rows would share the opening's dropout mask
        share_prefix=config.share_prefix and not config.compile and config.lora_dropout == 0,
        matmul_attention=config.matmul_attention and not config.compile,
        fused_lora=config.fused_lora and config.lora and not config.compile,
        pass_tokens=config.pass_tokens,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[*run_callbacks(output / TRAIN_LOG), *(callbacks or []), *extra],
    )
    if config.lora and use_bf16 and not config.merge:
        # merged weights are saved from the fp32 base: keep it for them
        frozen_linears_to_bf16(trainer.model.get_base_model())
    if config.compile:
        compile_layers(trainer.model)
    last = plan.resume_from
    if trainer.is_world_process_zero():
        trim_log(output / TRAIN_LOG, checkpoint_step(last))
    started = time.perf_counter()
    if plan.at_end and last is not None:
        training_loss = finish_from_checkpoint(trainer, last)
    else:
        resume = str(last) if last is not None else None
        training_loss = trainer.train(resume_from_checkpoint=resume).training_loss
    seconds = time.perf_counter() - started

    # Under `accelerate launch` / torchrun every process gets here. All of them take part
    # in `save_model` (sharded set-ups need every rank) and in the loss reduction (each
    # rank's `training_loss` covers its own shard only); the main one writes the rest.
    weights_dir = output / ("adapter" if config.lora else "model")
    trainer.save_model(str(weights_dir))
    accelerator = trainer.accelerator
    train_loss = accelerator.reduce(
        torch.tensor(float(training_loss), device=accelerator.device), reduction="mean"
    ).item()
    if not trainer.is_world_process_zero():
        return {"steps": trainer.state.global_step, "train_loss": train_loss}
    tokenizer.save_pretrained(str(weights_dir))
    finish_model_dir(weights_dir)
    if config.lora and config.merge:
        merged = trainer.model.merge_and_unload()
        merged.save_pretrained(str(output / "merged"), safe_serialization=True)
        tokenizer.save_pretrained(str(output / "merged"))
        finish_model_dir(output / "merged")

    summary = {
        "config": config.model_dump(),
        "base_model": config.model,
        "weights": weights_dir.name,
        "data": str(data),
        "data_sha256": inputs.data_sha256["data"],
        "traces": len(traces),
        "assistant_tokens_per_epoch": trained_tokens,
        "tokens_per_epoch": sum(len(ids) for ids in dataset["input_ids"]),
        "steps": trainer.state.global_step,
        "train_loss": train_loss,
        "seconds": round(seconds, 1),
        "tokens_seen": trainer.state.num_input_tokens_seen,
        "tokens_per_s": round(trainer.state.num_input_tokens_seen / max(seconds, 1e-9), 1),
        "device": device,
        "processes": accelerator.num_processes,
        "bf16": use_bf16,
        "resumed_from": str(last) if last else None,
    }
    for callback in callbacks or []:
        # a callback with a result of its own (the LeakMonitor) adds it to the run record
        if callable(getattr(callback, "run_summary", None)):
            summary.update(callback.run_summary())
    fault_point("train.finish")
    with atomic_writer(output / RUN_MARKER) as handle:
        json.dump(summary, handle, indent=2)
    write_lineage(
        output,
        "train",
        inputs={"data": data, "base_model": config.model},
        config=config.model_dump(),
    )
    return summary
