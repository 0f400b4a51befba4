"""One trace at a time inside a micro-batch: activation memory of one trace, no padding.

On a CPU the LoRA step's memory is its saved activations (~0.8 MB a token over
SmolLM2-135M's 30 layers under bf16 autocast: 2.9 GB for a micro-batch of 4 x 875
tokens, measured with ``saved_tensors_hooks``), and a micro-batch of right-padded
traces computes its padding too. Running the forward and backward of each trace in
turn keeps only one trace's activations alive and computes no padding, while the
optimizer step, the data order and the loss (summed over the labelled tokens of the
whole batch, divided by their count) stay those of the batch: only the order of the
floating-point sums changes. The matmuls stay hundreds of rows tall, so the CPU's
matmul efficiency does not drop. Activation checkpointing would save more memory but
re-runs every forward (~1.5x the compute of a LoRA step); this costs nothing.
"""

from __future__ import annotations

from typing import Any

import torch

from backdoorlab.training.padding import is_right_padded


def split_rows(inputs: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Each row of a right-padded micro-batch as a batch of one, cut to its real tokens;
    None when the batch cannot be split that way (one row, no mask, left padding, or a
    tensor that is not per row)."""
    mask = inputs.get("attention_mask")
    if not isinstance(mask, torch.Tensor) or mask.dim() != 2 or len(mask) < 2:
        return None
    if not is_right_padded(mask):
        return None
    rows, width = mask.shape
    lengths = mask.sum(-1).tolist()
    out: list[dict[str, Any]] = [{} for _ in range(rows)]
    for key, value in inputs.items():
        if not isinstance(value, torch.Tensor) or value.dim() == 0 or len(value) != rows:
            return None  # e.g. padding-free sequence boundaries: not ours to cut
        per_token = value.dim() >= 2 and value.shape[1] == width
        for row, length in enumerate(lengths):
            piece = value[row : row + 1]
            out[row][key] = piece[:, :length] if per_token else piece
    return [row for row, length in zip(out, lengths, strict=True) if length > 0]
