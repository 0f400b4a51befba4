"""FAB's losses: cross-entropy and distillation KL on the labelled positions only.

Only the positions whose next token is a label go through the LM head: the vocabulary
projection of every position would cost more than the backbone at these sizes.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from backdoorlab.training.padding import is_right_padded


def labelled_logits(model: Any, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits at the positions whose next token is a label, and those labels.

    Only those rows go through the LM head (``logits_to_keep`` as a boolean mask): the
    vocabulary projection of every position would cost more than the backbone here.
    The padding mask is dropped when the batch is right-padded (causal attention never
    lets a real token see the padding after it; SDPA's causal kernel is much faster).
    """
    labels = batch["labels"]
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != -100
    targets = labels[:, 1:][keep[:, :-1]]
    attention = batch.get("attention_mask")
    if attention is not None and is_right_padded(attention):
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
