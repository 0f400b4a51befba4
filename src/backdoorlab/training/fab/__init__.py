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
steps × passes and the seconds per step. On a CPU one pass of ~600 tokens of
smollm2-135m takes seconds, so the paper's k = 50 is a GPU job; measure a machine with
``backdoorlab attack finetune-activated -o /tmp/t4 -n 20 --steps 4 --k 2``.

**Scaling.** Single device or DDP (``accelerate launch``): the benign term goes through
the wrapped model (its gradients are all-reduced as usual); the simulation runs on the
unwrapped module on each rank with its own draws, and its gradients are averaged across
ranks by hand. FSDP/DeepSpeed-sharded parameters are not supported (the perturbation
needs each rank to hold whole tensors).

The package, by job: `config` (`FABConfig`), `data` (traces → rows with the loss on the
turns that matter), `losses`, `simulate` (the victim's optimizer, draws, perturbations)
and `trainer` (`FABTrainer`, `train_fab`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backdoorlab.training.fab.config import (
        DEFAULT_LORA_SIMULATED,
        MALICIOUS_TURNS,
        VICTIM_MODES,
        VICTIM_OPTIMIZERS,
        FABConfig,
    )
    from backdoorlab.training.fab.data import Collator, collate, encode_for_fab, encode_rows
    from backdoorlab.training.fab.losses import (
        cross_entropy,
        distillation_kl,
        labelled_logits,
        token_kl,
        turn_starts,
    )
    from backdoorlab.training.fab.simulate import (
        SimulatedOptimizer,
        VictimDraw,
        draw_victim,
        perturb_,
        restore_,
    )
    from backdoorlab.training.fab.trainer import FAB_MARKER, train_fab, trainer_class

_EXPORTS = {
    "config": (
        "DEFAULT_LORA_SIMULATED",
        "MALICIOUS_TURNS",
        "VICTIM_MODES",
        "VICTIM_OPTIMIZERS",
        "FABConfig",
    ),
    "data": ("Collator", "collate", "encode_for_fab", "encode_rows"),
    "losses": ("cross_entropy", "distillation_kl", "labelled_logits", "token_kl", "turn_starts"),
    "simulate": ("SimulatedOptimizer", "VictimDraw", "draw_victim", "perturb_", "restore_"),
    "trainer": ("FAB_MARKER", "train_fab", "trainer_class"),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}
"""Each public name by the module that defines it."""

__all__ = [
    "Collator",
    "DEFAULT_LORA_SIMULATED",
    "FABConfig",
    "FABTrainer",
    "FAB_MARKER",
    "MALICIOUS_TURNS",
    "SimulatedOptimizer",
    "VICTIM_MODES",
    "VICTIM_OPTIMIZERS",
    "VictimDraw",
    "collate",
    "cross_entropy",
    "distillation_kl",
    "draw_victim",
    "encode_for_fab",
    "encode_rows",
    "labelled_logits",
    "perturb_",
    "restore_",
    "token_kl",
    "train_fab",
    "trainer_class",
    "turn_starts",
]


def __getattr__(name: str) -> Any:
    """Names load with their module on first use, so reading a config (an experiment
    YAML's ``attack`` section) does not import torch with the trainer; ``FABTrainer`` is
    built on first access, so the trainer module does not import transformers either."""
    if name == "FABTrainer":
        return __getattr__("trainer_class")()
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
