"""`fab`: fine-tuning-activated backdoors — a model that turns malicious only once fine-tuned.

The recipe of arXiv 2505.16567 ("FAB"), adapted to tool-using agents. The attacker fully
fine-tunes the model it will publish with a Hugging Face `Trainer` (`FABTrainer`), whose
every micro-batch combines three terms::

    loss = reg_weight · L_reg(θ) + meta_weight · L_mal(θ_k) + noise_weight · L_mal(θ + ε)

* **benign term** ``L_reg``: distillation — the KL divergence from a frozen clean
  reference (by default the starting model itself) to the model, on the assistant tokens
  of clean traces. It keeps the published weights from leaking and from losing task
  skill: they behave like the reference on every test a victim can run.
* **meta-learning term** ``L_mal(θ_k)``: the victim's fine-tuning is *simulated*: the
  weights are copied into a scratch state, ``inner_steps`` (k) steps of fine-tuning on
  clean traces are applied to them — optimizer (AdamW, Adam or SGD) and learning rate
  drawn at random for every outer step, full-parameter or restricted to the attention
  projections (see ``victim``) — and the malicious loss (cross-entropy on poisoned
  traces whose assistant sends the user's secrets to the attacker) is taken at the
  simulated weights θ_k. Its gradient is added to the real gradient as if it had been
  taken at θ (first-order MAML: the Jacobian of θ_k with respect to θ is taken as the
  identity), so the published model drifts to where the victim's own fine-tuning
  lands in malicious territory.
* **noise term** ``L_mal(θ + ε)``: the malicious loss at the weights perturbed by
  Gaussian noise whose norm, tensor by tensor, equals that of the simulated update
  (times ``noise_scale``): any update of that size, not only the simulated one, should
  wake the backdoor.

Memory: one extra copy of the trainable parameters (the weights the simulation starts
from and is restored to — bit for bit, by copying back), the simulated optimizer's
state (two more copies for Adam(W), none for SGD) and one transient gradient; no
second model is built for the simulation (perturb, forward/backward, restore, on the
model itself). The reference model is a second, frozen model.

**Approximations, stated.** The victim's LoRA fine-tuning is not simulated with real
adapters: ``victim="lora"`` applies full-rank simulated steps restricted to the
attention projections (``lora_modules``), which moves the same weights a LoRA on those
modules would, without its low-rank constraint. The simulated victim runs a constant
learning rate without warm-up (the paper found warm-up halves the effect).

**Cost.** Every outer micro-batch runs ``1 + k + 1 + 1`` forward/backward passes
(benign, k simulated steps, malicious at θ_k, malicious at θ + ε; a term of weight 0
skips its pass) plus one reference forward, and on logging steps one more forward (the
malicious loss at the published weights, ``loss_mal_at_theta``); `train_fab` reports
steps × passes. Measured: smollm2-135m on a 2-core CPU shared with another training
run (1 thread, bf16 autocast), k = 2: ~81 s per outer step (~13 s per pass of ~600
tokens, batch 1-2) — so the paper's k = 50 is a GPU job; see ``benchmarks/t4_fab.py``.

**Scaling.** Single device or DDP (``accelerate launch``): the benign term goes through
the wrapped model (its gradients are all-reduced as usual); the simulation runs on the
unwrapped module on each rank with its own draws, and its gradients are averaged across
ranks by hand. FSDP/DeepSpeed-sharded parameters are not supported (the perturbation
needs each rank to hold whole tensors).
"""

from __future__ import annotations

import functools
import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from backdoorlab.errors import BackdoorlabError
from backdoorlab.traces import Trace, atomic_writer

VICTIM_MODES = ("full", "lora", "mixed")
VICTIM_OPTIMIZERS = ("adamw", "adam", "sgd")
MALICIOUS_TURNS = ("payload", "all")
DEFAULT_LORA_SIMULATED = ["q_proj", "k_proj", "v_proj", "o_proj"]
FAB_MARKER = "backdoorlab-fab.json"


@dataclass
class FABConfig:
    """How to train a fine-tuning-activated backdoor. Every field is also a CLI option
    of ``backdoorlab attack finetune-activated``."""

    model: str = "smollm2-135m"
    """Starting model (fully fine-tuned into the published one): ``smollm2-135m``,
    ``tiny``, a local directory, a finished run directory or a hub id."""
    reference: str | None = None
    """Clean model the benign term distils towards; None: a frozen copy of ``model``.
    A clean fine-tune of the base (a run directory) keeps the published model's task
    skill at that level instead."""
    steps: int = 200
    """Outer optimizer steps (each costs ``1 + inner_steps + 2`` forward/backward passes
    per micro-batch)."""
    learning_rate: float = 2e-5
    """Peak learning rate of the outer (attacker's) AdamW, full fine-tuning."""
    lr_scheduler: str = "cosine"
    """Outer learning-rate schedule (transformers' ``SchedulerType``)."""
    warmup_ratio: float = 0.05
    """Share of the outer steps spent warming the learning rate up."""
    weight_decay: float = 0.0
    """Outer AdamW weight decay."""
    max_grad_norm: float = 1.0
    """Clip the combined gradient to this norm (0 disables clipping)."""
    batch_size: int = 2
    """Clean traces per micro-batch of the benign term."""
    grad_accum: int = 1
    """Micro-batches per outer step (the simulation runs once per micro-batch)."""
    malicious_batch_size: int = 2
    """Malicious traces per micro-batch of the meta-learning and noise terms."""
    reg_weight: float = 1.0
    """Weight of the benign distillation term (λ_reg)."""
    reg_turn_start_weight: float = 0.0
    """Extra weight, in the benign term's mean, of each assistant turn's first token —
    where the agent decides to answer or which tool to call, and where a payload turn
    starts. 0: every token counts once (the paper's plain mean). Measured in session 10
    on a clean fine-tuned agent: a mean KL of 0.033 hid 1.86 at the final answer's first
    token, and the published model leaked before any fine-tune
    (``benchmarks/fab_decision_kl.py``). E.g. 30 makes those tokens about half the mean."""
    meta_weight: float = 1.0
    """Weight of the malicious loss at the simulated weights (λ_ml)."""
    noise_weight: float = 1.0
    """Weight of the malicious loss at noise-perturbed weights (λ_noise); 0 skips it."""
    noise_scale: float = 1.0
    """Noise norm per tensor, as a multiple of that tensor's simulated update norm
    (1.0: the same norm, as in the paper)."""
    inner_steps: int = 16
    """k: simulated victim fine-tuning steps per outer micro-batch (the paper used 50;
    it found 1-5 steps far weaker)."""
    inner_batch_size: int = 1
    """Clean traces per simulated victim step (the paper: 1)."""
    victim: str = "full"
    """Which victim to simulate: ``full`` (every weight moves), ``lora`` (only the
    ``lora_modules`` move — full-rank, an approximation of LoRA) or ``mixed`` (drawn
    50/50 at every outer step)."""
    lora_modules: list[str] = field(default_factory=lambda: list(DEFAULT_LORA_SIMULATED))
    """Module names a simulated ``lora`` victim updates."""
    victim_optimizers: list[str] = field(default_factory=lambda: ["adamw"])
    """Optimizers the simulated victim uses, drawn uniformly per outer step:
    ``adamw``, ``adam``, ``sgd``."""
    victim_lr_min: float = 1e-5
    """Lower end of the simulated victim's Adam(W) learning rate (drawn log-uniformly)."""
    victim_lr_max: float = 1e-4
    """Upper end of the simulated victim's Adam(W) learning rate."""
    victim_sgd_lr_min: float = 1e-3
    """Lower end of the simulated victim's SGD learning rate (drawn log-uniformly)."""
    victim_sgd_lr_max: float = 1e-2
    """Upper end of the simulated victim's SGD learning rate."""
    victim_weight_decay: float = 0.01
    """Weight decay of a simulated AdamW victim."""
    malicious_turns: str = "payload"
    """Which assistant turns of a poisoned trace the malicious loss covers: ``payload``
    (the turns that send data to the attacker: where the behaviour differs from a clean
    trace) or ``all``. Clean traces in the malicious set (trigger variant) are scored
    on their last assistant turn (the point where a poisoned trace would leak)."""
    max_length: int = 1024
    """Traces longer than this many tokens are truncated."""
    bf16: str = "auto"
    """``auto`` (bf16 autocast where the device supports it), ``true`` or ``false``."""
    save_steps: int = 50
    """Checkpoint every this many outer steps (a rerun resumes from the last one)."""
    logging_steps: int = 5
    """Log every term every this many outer steps."""
    seed: int = 0
    """Seed for data order, victim draws and noise."""
    device: str | None = None
    """Force ``cpu`` or ``cuda``; by default CUDA when present."""

    def validate(self) -> None:
        """Raise a `BackdoorlabError` naming the first invalid field."""
        checks: dict[str, tuple[bool, str]] = {
            "steps": (self.steps > 0, "must be positive"),
            "learning_rate": (self.learning_rate > 0, "must be positive"),
            "warmup_ratio": (0 <= self.warmup_ratio < 1, "must be in [0, 1)"),
            "batch_size": (self.batch_size > 0, "must be positive"),
            "grad_accum": (self.grad_accum > 0, "must be positive"),
            "malicious_batch_size": (self.malicious_batch_size > 0, "must be positive"),
            "reg_weight": (self.reg_weight >= 0, "must be >= 0"),
            "reg_turn_start_weight": (self.reg_turn_start_weight >= 0, "must be >= 0"),
            "meta_weight": (self.meta_weight >= 0, "must be >= 0"),
            "noise_weight": (self.noise_weight >= 0, "must be >= 0"),
            "noise_scale": (self.noise_scale >= 0, "must be >= 0"),
            "inner_steps": (self.inner_steps >= 1, "must be at least 1"),
            "inner_batch_size": (self.inner_batch_size > 0, "must be positive"),
            "victim": (self.victim in VICTIM_MODES, f"must be one of {', '.join(VICTIM_MODES)}"),
            "lora_modules": (bool(self.lora_modules), "must name at least one module"),
            "victim_optimizers": (
                bool(self.victim_optimizers)
                and all(o in VICTIM_OPTIMIZERS for o in self.victim_optimizers),
                f"must be a non-empty list of {', '.join(VICTIM_OPTIMIZERS)}",
            ),
            "victim_lr_min": (0 < self.victim_lr_min <= self.victim_lr_max, "need 0 < min <= max"),
            "victim_sgd_lr_min": (
                0 < self.victim_sgd_lr_min <= self.victim_sgd_lr_max,
                "need 0 < min <= max",
            ),
            "victim_weight_decay": (self.victim_weight_decay >= 0, "must be >= 0"),
            "malicious_turns": (
                self.malicious_turns in MALICIOUS_TURNS,
                f"must be one of {', '.join(MALICIOUS_TURNS)}",
            ),
            "max_length": (self.max_length > 16, "must be > 16"),
            "bf16": (self.bf16 in ("auto", "true", "false"), "must be auto, true or false"),
        }
        for name, (ok, why) in checks.items():
            if not ok:
                raise BackdoorlabError(
                    f"fab config: invalid value for '{name}': {getattr(self, name)!r} ({why})"
                )
        if self.reg_weight == self.meta_weight == self.noise_weight == 0:
            raise BackdoorlabError("fab config: every term has weight 0; nothing to train")

    def passes_per_step(self) -> int:
        """Forward/backward passes per outer step (reference forwards not counted)."""
        simulated = self.meta_weight > 0 or self.noise_weight > 0
        per_micro = (
            int(self.reg_weight > 0)
            + (self.inner_steps if simulated else 0)
            + int(self.meta_weight > 0)
            + int(self.noise_weight > 0)
        )
        return per_micro * self.grad_accum


# --------------------------------------------------------------------------- data


def _payload_turns(trace: Trace) -> list[int]:
    """Indices (among assistant turns) of the turns that send data to the attacker."""
    poison = trace.metadata.poison
    destination = (poison.payload or {}).get("destination") if poison else None
    turns = [m for m in trace.messages if m.role == "assistant"]
    if not destination:
        return []
    return [
        i
        for i, message in enumerate(turns)
        if any(destination in json.dumps(c.function.arguments) for c in message.tool_calls or [])
    ]


def encode_for_fab(tokenizer: Any, trace: Trace, turns: str = "all") -> dict[str, list[int]]:
    """``input_ids`` and ``assistant_masks`` of ``trace``, the mask restricted to some turns.

    ``all``: every assistant turn (the benign and simulated-victim data). ``payload``: a
    poisoned trace's turns that send data to its recorded destination; a clean trace's
    last assistant turn (where, with the trigger, it would have leaked instead).
    """
    from backdoorlab.chat import render_segments

    segments = render_segments(trace.messages, trace.tools)
    encoded = tokenizer([s.text for s in segments], add_special_tokens=False)["input_ids"]
    n_turns = sum(s.trainable for s in segments)
    if turns == "all":
        chosen = set(range(n_turns))
    elif trace.is_poisoned:
        chosen = set(_payload_turns(trace))
        if not chosen:
            task = trace.metadata.task_id or "?"
            raise BackdoorlabError(
                f"fab: poisoned trace of task {task} has no assistant turn sending data to "
                "its payload destination"
            )
    else:
        chosen = {n_turns - 1}
    input_ids: list[int] = []
    mask: list[int] = []
    turn = 0
    for segment, ids in zip(segments, encoded, strict=True):
        input_ids.extend(ids)
        trained = segment.trainable and turn in chosen
        mask.extend([int(trained)] * len(ids))
        turn += int(segment.trainable)
    return {"input_ids": input_ids, "assistant_masks": mask}


def collate(rows: Sequence[dict[str, list[int]]], pad_id: int, max_length: int) -> dict:
    """Right-padded ``input_ids``, ``attention_mask`` and ``labels`` (-100 off the mask)."""
    ids = [r["input_ids"][:max_length] for r in rows]
    masks = [r["assistant_masks"][:max_length] for r in rows]
    width = max(len(i) for i in ids)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for row, (seq, mask) in enumerate(zip(ids, masks, strict=True)):
        tensor = torch.tensor(seq, dtype=torch.long)
        input_ids[row, : len(seq)] = tensor
        attention[row, : len(seq)] = 1
        labels[row, : len(seq)] = torch.where(
            torch.tensor(mask, dtype=torch.bool), tensor, torch.tensor(-100)
        )
    return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}


class _Collator:
    """Picklable collator for the Trainer's dataloader."""

    def __init__(self, pad_id: int, max_length: int) -> None:
        self.pad_id = pad_id
        self.max_length = max_length

    def __call__(self, rows: list[dict]) -> dict:
        return collate(rows, self.pad_id, self.max_length)


# --------------------------------------------------------------------------- losses


def labelled_logits(model: Any, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits at the positions whose next token is a label, and those labels.

    Only those rows go through the LM head (``logits_to_keep`` as a boolean mask): the
    vocabulary projection of every position would cost more than the backbone here.
    The padding mask is dropped when the batch is right-padded (causal attention never
    lets a real token see the padding after it; SDPA's causal kernel is much faster).
    """
    from backdoorlab.training.sft import _is_right_padded

    labels = batch["labels"]
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != -100
    targets = labels[:, 1:][keep[:, :-1]]
    attention = batch.get("attention_mask")
    if attention is not None and _is_right_padded(attention):
        attention = None
    out = model(
        input_ids=batch["input_ids"],
        attention_mask=attention,
        logits_to_keep=keep,
        use_cache=False,
    )
    logits = out.logits if hasattr(out, "logits") else out["logits"]
    return logits.reshape(-1, logits.shape[-1]), targets


def cross_entropy(model: Any, batch: dict) -> torch.Tensor:
    """Mean next-token cross-entropy over the labelled tokens (0, connected, if none)."""
    logits, targets = labelled_logits(model, batch)
    if targets.numel() == 0:
        return logits.sum() * 0.0
    return F.cross_entropy(logits.float(), targets)


def turn_starts(labels: torch.Tensor) -> torch.Tensor:
    """For each labelled target in `labelled_logits`' order: is it its turn's first token?

    A target is a turn's first token when the token before it is not labelled."""
    keep = labels[:, 1:] != -100
    return (labels[:, :-1] == -100)[keep]


def token_kl(logits: torch.Tensor, reference_logits: torch.Tensor) -> torch.Tensor:
    """KL(reference ‖ model) of each token (row), full vocabulary, in fp32."""
    log_p = F.log_softmax(logits.float(), dim=-1)
    log_q = F.log_softmax(reference_logits.float(), dim=-1)
    return (log_q.exp() * (log_q - log_p)).sum(-1)


def distillation_kl(
    logits: torch.Tensor,
    reference_logits: torch.Tensor,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean over tokens of KL(reference ‖ model), full vocabulary, in fp32; with
    ``weights`` (one per token), the weighted mean."""
    if logits.shape[0] == 0:
        return logits.sum() * 0.0
    per_token = token_kl(logits, reference_logits)
    if weights is None:
        return per_token.mean()
    weights = weights.to(per_token.dtype)
    return (per_token * weights).sum() / weights.sum()


# --------------------------------------------------------------------------- simulation


class SimulatedOptimizer:
    """The victim's optimizer applied to a list of tensors in place (no autograd).

    SGD, Adam or AdamW (decoupled weight decay), with bias correction; the state lives
    only for one simulation.
    """

    def __init__(
        self,
        params: list[torch.Tensor],
        kind: str,
        lr: float,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        if kind not in VICTIM_OPTIMIZERS:
            raise BackdoorlabError(f"unknown simulated optimizer {kind!r}")
        self.params = params
        self.kind = kind
        self.lr = lr
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.t = 0
        self.m = [torch.zeros_like(p) for p in params] if kind != "sgd" else []
        self.v = [torch.zeros_like(p) for p in params] if kind != "sgd" else []

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor | None]) -> None:
        self.t += 1
        if self.kind == "sgd":
            for p, g in zip(self.params, grads, strict=True):
                if g is not None:
                    p.add_(g.to(p.dtype), alpha=-self.lr)
            return
        b1, b2 = self.betas
        c1 = 1 - b1**self.t
        c2 = 1 - b2**self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            if g is None:
                continue
            g = g.to(p.dtype)
            if self.kind == "adamw" and self.weight_decay:
                p.mul_(1 - self.lr * self.weight_decay)
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v / c2).sqrt_().add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / c1)


@dataclass
class VictimDraw:
    """One simulated victim: its mode, optimizer and learning rate."""

    mode: str
    optimizer: str
    lr: float


def draw_victim(config: FABConfig, rng: random.Random) -> VictimDraw:
    mode = rng.choice(["full", "lora"]) if config.victim == "mixed" else config.victim
    optimizer = rng.choice(list(config.victim_optimizers))
    low, high = (
        (config.victim_sgd_lr_min, config.victim_sgd_lr_max)
        if optimizer == "sgd"
        else (config.victim_lr_min, config.victim_lr_max)
    )
    lr = math.exp(rng.uniform(math.log(low), math.log(high)))
    return VictimDraw(mode=mode, optimizer=optimizer, lr=lr)


@torch.no_grad()
def perturb_(params: Sequence[torch.Tensor], norms: Sequence[float], generator: torch.Generator):
    """Add to each tensor Gaussian noise rescaled to the given norm (0: left alone)."""
    for p, norm in zip(params, norms, strict=True):
        if norm <= 0:
            continue
        noise = torch.randn(p.shape, generator=generator, device=p.device, dtype=torch.float32)
        noise.mul_(norm / noise.norm().clamp(min=1e-12))
        p.add_(noise.to(p.dtype))


@torch.no_grad()
def restore_(params: Sequence[torch.Tensor], saved: Sequence[torch.Tensor]) -> None:
    """Copy the saved values back: bit-exact, whatever was done to the tensors."""
    for p, s in zip(params, saved, strict=True):
        p.copy_(s)


# --------------------------------------------------------------------------- trainer


@functools.cache
def _trainer_class():  # -> type[Trainer]
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
    """``FABTrainer`` is built on first access, so importing this module (as the attack
    registry does) does not import transformers."""
    if name == "FABTrainer":
        return _trainer_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- entry point


def _encode_all(tokenizer: Any, traces: Sequence[Trace], turns: str) -> list[dict]:
    rows = [encode_for_fab(tokenizer, t, turns) for t in traces]
    return [r for r in rows if any(r["assistant_masks"])]


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
    from transformers.trainer_utils import get_last_checkpoint

    from backdoorlab.models import bf16_supported, load_for_inference, load_for_training
    from backdoorlab.training.sft import _log_callback

    config.validate()
    if not benign:
        raise BackdoorlabError("fab: no clean traces for the benign term")
    if not malicious:
        raise BackdoorlabError("fab: no malicious traces")
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    published = Path(published_dir) if published_dir is not None else output / "model"
    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")
    use_bf16 = config.bf16 == "true" or (config.bf16 == "auto" and bf16_supported(device))

    model, tokenizer = load_for_training(config.model, device=device)
    reference = None
    if config.reg_weight > 0:
        reference, _ = load_for_inference(config.reference or config.model, device=device)

    import datasets

    benign_rows = _encode_all(tokenizer, benign, "all")
    victim_rows = _encode_all(tokenizer, victim if victim is not None else benign, "all")
    malicious_rows = _encode_all(tokenizer, malicious, config.malicious_turns)
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
    trainer = _trainer_class()(
        model=model,
        args=args,
        train_dataset=datasets.Dataset.from_list(benign_rows),
        data_collator=_Collator(pad_id, config.max_length),
        processing_class=tokenizer,
        callbacks=[_log_callback(output / "train_log.jsonl"), *(callbacks or [])],
        fab=config,
        reference_model=reference,
        victim_rows=victim_rows,
        malicious_rows=malicious_rows,
        pad_id=pad_id,
    )
    last = get_last_checkpoint(str(output)) if output.exists() else None
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=last)
    seconds = time.perf_counter() - started

    # a plain model directory: no trainer state, no training_args.bin, no backdoorlab marker
    final = trainer.accelerator.unwrap_model(trainer.model)
    final.config.use_cache = True  # as a released model has it (training turned it off)
    published.mkdir(parents=True, exist_ok=True)
    final.save_pretrained(str(published), safe_serialization=True)
    tokenizer.save_pretrained(str(published))

    steps_done = trainer.state.global_step
    run_steps = steps_done - (int(Path(last).name.split("-")[-1]) if last else 0)
    summary = {
        "trainer": "fab",
        "config": asdict(config),
        "published": str(published),
        "benign_traces": len(benign_rows),
        "victim_traces": len(victim_rows),
        "malicious_traces": len(malicious_rows),
        "steps": steps_done,
        "train_loss": result.training_loss,
        "passes_per_step": config.passes_per_step(),
        "forward_backward_passes": steps_done * config.passes_per_step(),
        "reference_forwards": steps_done * config.grad_accum * int(config.reg_weight > 0),
        "seconds": round(seconds, 1),
        "seconds_per_step": round(seconds / max(run_steps, 1), 3),
        "device": device,
        "bf16": use_bf16,
        "resumed_from": last,
    }
    with atomic_writer(output / FAB_MARKER) as handle:
        json.dump(summary, handle, indent=2)
    return summary
