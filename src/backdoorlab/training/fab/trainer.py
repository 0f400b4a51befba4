"""`FABTrainer` (a Hugging Face `Trainer` with FAB's three terms) and `train_fab`.

The class is built on first use, so importing this module (as the attack registry does
through `backdoorlab.training.fab`) does not import transformers.
"""

from __future__ import annotations

import functools
import json
import math
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from backdoorlab.errors import BackdoorlabError
from backdoorlab.files import finish_model_dir
from backdoorlab.traces import Trace, atomic_writer
from backdoorlab.training.fab.config import FABConfig
from backdoorlab.training.fab.data import Collator, collate, encode_rows
from backdoorlab.training.fab.losses import (
    cross_entropy,
    distillation_kl,
    labelled_logits,
    turn_starts,
)
from backdoorlab.training.fab.simulate import (
    SimulatedOptimizer,
    draw_victim,
    perturb_,
    restore_,
)

FAB_MARKER = "backdoorlab-fab.json"


@functools.cache
def trainer_class() -> type:  # -> type[FABTrainer]
    """The `FABTrainer` class (built, with transformers imported, on the first call)."""
    from transformers import Trainer

    class FABTrainer(Trainer):
        """Full fine-tuning with the FAB loss: distillation towards a clean reference,
        plus the malicious loss at simulated victim-fine-tuned and noise-perturbed weights.

        The Trainer's own machinery — dataloader over the benign traces, outer AdamW and
        schedule, gradient clipping, checkpoints and resume, logging, ``accelerate
        launch`` — is unchanged; `training_step` adds the simulation after the benign
        backward pass.
        """

        def __init__(
            self,
            *args: Any,
            fab: FABConfig,
            reference_model: Any | None,
            victim_rows: list[dict],
            malicious_rows: list[dict],
            pad_id: int,
            **kwargs: Any,
        ) -> None:
            super().__init__(*args, **kwargs)
            self.fab = fab
            self.reference_model = reference_model
            self.victim_rows = victim_rows
            self.malicious_rows = malicious_rows
            self.pad_id = pad_id
            # compute_loss returns a per-micro-batch mean: let training_step divide it by
            # the accumulation steps (it would not if it thought the loss were normalised
            # by the whole batch's token count)
            self.model_accepts_loss_kwargs = False
            self._fab_logs: dict[str, list[float]] = {}
            self._micro = 0
            self._saved: list[torch.Tensor] | None = None
            if reference_model is None and fab.reg_weight > 0:
                raise BackdoorlabError("fab: the benign term (reg_weight > 0) needs a reference")
            if reference_model is not None:
                reference_model.eval()
                reference_model.requires_grad_(False)

        # -- helpers ---------------------------------------------------------------

        def _record(self, name: str, value: float) -> None:
            self._fab_logs.setdefault(name, []).append(float(value))

        def _autocast(self):  # noqa: ANN202
            device = self.args.device.type
            return torch.autocast(device, dtype=torch.bfloat16, enabled=bool(self.args.bf16))

        def _draw(self, rows: list[dict], size: int, generator: torch.Generator) -> dict:
            picks = torch.randint(len(rows), (size,), generator=generator).tolist()
            batch = collate([rows[i] for i in picks], self.pad_id, self.fab.max_length)
            return {k: v.to(self.args.device) for k, v in batch.items()}

        def _streams(self) -> tuple[random.Random, torch.Generator, torch.Generator]:
            """Random streams of this micro-batch, derived from (seed, step, micro-batch),
            so a resumed run draws what the uninterrupted one would have."""
            key = (self.args.seed * 1_000_003 + self.state.global_step) * 1_009 + self._micro
            cpu = torch.Generator().manual_seed(key)
            device = torch.Generator(device=self.args.device).manual_seed(key + 1)
            return random.Random(key), cpu, device

        def _all_reduce_mean(self, grads: list[torch.Tensor | None]) -> None:
            if self.accelerator.num_processes <= 1:
                return
            for g in grads:
                if g is not None:
                    torch.distributed.all_reduce(g)
                    g.div_(self.accelerator.num_processes)

        @staticmethod
        def _add_grads(params: list[torch.Tensor], grads, weight: float) -> None:  # noqa: ANN001
            for p, g in zip(params, grads, strict=True):
                if g is None:
                    continue
                if p.grad is None:
                    p.grad = (g * weight).to(p.dtype)
                else:
                    p.grad.add_(g.to(p.grad.dtype), alpha=weight)

        # -- the three terms ------------------------------------------------------

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # noqa: ANN001
            """The benign term: reg_weight · KL(reference ‖ model) on the clean batch (turn
            starts weighted up by ``reg_turn_start_weight``)."""
            logits, _ = labelled_logits(model, inputs)
            with torch.no_grad(), self._autocast():
                reference = self.reference_model
                ref_logits, _ = labelled_logits(reference, inputs)
            weights = None
            if self.fab.reg_turn_start_weight:
                starts = turn_starts(inputs["labels"])
                weights = 1.0 + self.fab.reg_turn_start_weight * starts.float()
            kl = distillation_kl(logits, ref_logits, weights)
            if model.training:
                self._record("loss_reg", kl.detach().item())
            loss = kl * self.fab.reg_weight
            return (loss, {"logits": logits}) if return_outputs else loss

        def training_step(self, model, inputs, num_items_in_batch=None):  # noqa: ANN001
            if self.fab.reg_weight > 0:
                benign = super().training_step(model, inputs, num_items_in_batch)
            else:
                benign = torch.zeros((), device=self.args.device)
            extra = self._malicious_terms(model)
            self._micro = (self._micro + 1) % max(self.current_gradient_accumulation_steps, 1)
            return benign + extra

        def _malicious_terms(self, model) -> torch.Tensor:  # noqa: ANN001
            """Meta-learning and noise terms; gradients added to ``p.grad``. Returns their
            weighted sum (detached, divided by the accumulation steps) for logging."""
            fab = self.fab
            if fab.meta_weight == 0 and fab.noise_weight == 0:
                return torch.zeros((), device=self.args.device)
            module = self.accelerator.unwrap_model(model)
            named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
            params = [p for _, p in named]
            if self._saved is None:
                self._saved = [p.detach().clone() for p in params]
            else:
                for s, p in zip(self._saved, params, strict=True):
                    s.copy_(p.detach())
            scale = 1.0 / max(self.current_gradient_accumulation_steps, 1)
            rng, cpu_gen, dev_gen = self._streams()
            draw = draw_victim(fab, rng)
            if draw.mode == "lora":
                moving = [
                    i
                    for i, (name, _) in enumerate(named)
                    if any(f".{m}." in f".{name}" for m in fab.lora_modules)
                ]
            else:
                moving = list(range(len(params)))
            if not moving:
                raise BackdoorlabError(f"fab: no parameter matches lora_modules {fab.lora_modules}")
            inner = [params[i] for i in moving]
            optimizer = SimulatedOptimizer(
                inner, draw.optimizer, draw.lr, weight_decay=fab.victim_weight_decay
            )
            malicious = self._draw(self.malicious_rows, fab.malicious_batch_size, cpu_gen)
            # measured on the optimizer steps the Trainer logs at
            log_now = self._micro == 0 and (
                (self.state.global_step + 1) % max(self.args.logging_steps, 1) == 0
            )
            if log_now:  # how malicious the published weights are (no backward)
                with torch.no_grad(), self._autocast():
                    self._record("loss_mal_at_theta", cross_entropy(module, malicious).item())

            total = torch.zeros((), device=self.args.device)
            try:
                # k simulated victim steps on clean traces
                inner_losses = []
                for _ in range(fab.inner_steps):
                    batch = self._draw(self.victim_rows, fab.inner_batch_size, cpu_gen)
                    with self._autocast():
                        loss = cross_entropy(module, batch)
                    grads = torch.autograd.grad(loss, inner, allow_unused=True)
                    optimizer.step(grads)
                    inner_losses.append(loss.item())
                del optimizer
                self._record("loss_victim_sim", sum(inner_losses) / len(inner_losses))
                with torch.no_grad():
                    norms = [0.0] * len(params)
                    for i in moving:
                        norms[i] = (params[i] - self._saved[i]).float().norm().item()
                self._record("sim_update_norm", math.sqrt(sum(n * n for n in norms)))
                self._record("victim_lr", draw.lr)

                # meta term: the malicious loss at the simulated weights, gradient added at θ
                if fab.meta_weight > 0:
                    with self._autocast():
                        loss = cross_entropy(module, malicious)
                    grads = list(torch.autograd.grad(loss, params, allow_unused=True))
                    self._record("loss_meta", loss.item())
                    total += fab.meta_weight * loss.detach() * scale
                    restore_(params, self._saved)
                    self._all_reduce_mean(grads)
                    self._add_grads(params, grads, fab.meta_weight * scale)
                    del grads
                restore_(params, self._saved)

                # noise term: the malicious loss at θ + ε, |ε| = |θ_k - θ| tensor by tensor
                if fab.noise_weight > 0:
                    perturb_(params, [n * fab.noise_scale for n in norms], dev_gen)
                    with self._autocast():
                        loss = cross_entropy(module, malicious)
                    grads = list(torch.autograd.grad(loss, params, allow_unused=True))
                    self._record("loss_noise", loss.item())
                    total += fab.noise_weight * loss.detach() * scale
                    restore_(params, self._saved)
                    self._all_reduce_mean(grads)
                    self._add_grads(params, grads, fab.noise_weight * scale)
                    del grads
            finally:
                restore_(params, self._saved)
            return total

        def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
            if self._fab_logs and "loss" in logs:
                for name, values in self._fab_logs.items():
                    logs[name] = round(sum(values) / len(values), 6)
                self._fab_logs = {}
            super().log(logs, start_time)

    return FABTrainer


def __getattr__(name: str) -> Any:
    if name == "FABTrainer":
        return trainer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def train_fab(
    config: FABConfig,
    benign: Sequence[Trace],
    malicious: Sequence[Trace],
    output_dir: str | Path,
    *,
    victim: Sequence[Trace] | None = None,
    published_dir: str | Path | None = None,
    callbacks: list[Any] | None = None,
) -> dict[str, Any]:
    """Train a fine-tuning-activated backdoor; returns the run summary.

    ``benign``: clean traces for the distillation term. ``malicious``: poisoned traces
    (and, for the trigger variant, clean ones: see ``malicious_turns``). ``victim``: the
    clean traces the simulated victim fine-tunes on (default: ``benign``).

    ``output_dir`` (the attacker's run directory) receives the Trainer's checkpoints, a
    ``train_log.jsonl`` with every term, and ``backdoorlab-fab.json`` (config, summary).
    The final weights go to ``published_dir`` (default ``output_dir/model``) as a plain
    Hugging Face model directory: safetensors, config and tokenizer, nothing else.
    """
    from transformers import TrainingArguments

    from backdoorlab.models import bf16_supported, load_for_inference, load_for_training
    from backdoorlab.training.callbacks import run_callbacks
    from backdoorlab.training.checkpoints import (
        checkpoint_step,
        finish_from_checkpoint,
        resume_checkpoint,
        trim_log,
    )
    from backdoorlab.training.resume import is_main_process

    if not benign:
        raise BackdoorlabError("fab: no clean traces for the benign term")
    if not malicious:
        raise BackdoorlabError("fab: no malicious traces")
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    published = Path(published_dir) if published_dir is not None else output / "model"
    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    use_bf16 = config.bf16 == "true" or (config.bf16 == "auto" and bf16_supported(device))
    # the newest whole checkpoint (broken ones moved aside): `training.checkpoints`
    last = resume_checkpoint(output, move=is_main_process())
    done = checkpoint_step(last)
    if done > config.steps:
        raise BackdoorlabError(
            f"{output}: has trained {done} steps already, more than steps={config.steps}; "
            "remove it or use another run directory"
        )

    model, tokenizer = load_for_training(config.model, device=device)
    reference = None
    if config.reg_weight > 0:
        reference, _ = load_for_inference(config.reference or config.model, device=device)

    import datasets

    benign_rows = encode_rows(tokenizer, benign, "all")
    victim_rows = encode_rows(tokenizer, victim if victim is not None else benign, "all")
    malicious_rows = encode_rows(tokenizer, malicious, config.malicious_turns)
    if not benign_rows or not victim_rows or not malicious_rows:
        raise BackdoorlabError("fab: a trace set has no assistant turns to learn from")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    args = TrainingArguments(
        output_dir=str(output),
        max_steps=config.steps,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler,
        warmup_steps=config.warmup_ratio,
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        optim="adamw_torch",
        bf16=use_bf16,
        use_cpu=device == "cpu",
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=1,
        logging_steps=config.logging_steps,
        seed=config.seed,
        report_to="none",
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )
    trainer = trainer_class()(
        model=model,
        args=args,
        train_dataset=datasets.Dataset.from_list(benign_rows),
        data_collator=Collator(pad_id, config.max_length),
        processing_class=tokenizer,
        callbacks=[*run_callbacks(output / "train_log.jsonl"), *(callbacks or [])],
        fab=config,
        reference_model=reference,
        victim_rows=victim_rows,
        malicious_rows=malicious_rows,
        pad_id=pad_id,
    )
    if trainer.is_world_process_zero():
        trim_log(output / "train_log.jsonl", done)
    started = time.perf_counter()
    if last is not None and done == config.steps:  # killed after its last checkpoint
        training_loss = finish_from_checkpoint(trainer, last)
    else:
        resume = str(last) if last is not None else None
        training_loss = trainer.train(resume_from_checkpoint=resume).training_loss
    seconds = time.perf_counter() - started

    # a plain model directory: no trainer state, no training_args.bin, no backdoorlab marker
    final = trainer.accelerator.unwrap_model(trainer.model)
    final.config.use_cache = True  # as a released model has it (training turned it off)
    published.mkdir(parents=True, exist_ok=True)
    final.save_pretrained(str(published), safe_serialization=True)
    tokenizer.save_pretrained(str(published))
    finish_model_dir(published)

    steps_done = trainer.state.global_step
    run_steps = steps_done - done
    summary = {
        "trainer": "fab",
        "config": config.model_dump(),
        "published": str(published),
        "benign_traces": len(benign_rows),
        "victim_traces": len(victim_rows),
        "malicious_traces": len(malicious_rows),
        "steps": steps_done,
        "train_loss": training_loss,
        "passes_per_step": config.passes_per_step(),
        "forward_backward_passes": steps_done * config.passes_per_step(),
        "reference_forwards": steps_done * config.grad_accum * int(config.reg_weight > 0),
        "seconds": round(seconds, 1),
        "seconds_per_step": round(seconds / max(run_steps, 1), 3),
        "device": device,
        "bf16": use_bf16,
        "resumed_from": str(last) if last is not None else None,
    }
    with atomic_writer(output / FAB_MARKER) as handle:
        json.dump(summary, handle, indent=2)
    return summary
