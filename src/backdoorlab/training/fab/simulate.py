"""The simulated victim: its optimizer, its random draw, and the weight perturbations.

Everything here edits tensors in place without autograd, so the simulation needs no
second model: perturb, forward/backward, restore (bit for bit) on the model itself.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from backdoorlab.errors import BackdoorlabError
from backdoorlab.training.fab.config import VICTIM_OPTIMIZERS, FABConfig


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
    """One victim from the configured distribution; the learning rate log-uniform."""
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
