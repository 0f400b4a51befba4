"""Micro-batches of similar length in a random order: little padding, no bias."""

from __future__ import annotations

import torch


class LengthWindowSampler(torch.utils.data.Sampler):
    """Random order, but each micro-batch holds traces of similar length.

    Every epoch the traces are shuffled, cut into windows of ``window`` traces, sorted by
    length inside each window, cut into micro-batches, and the window's micro-batches are
    shuffled again. Windows are small (16 micro-batches), so the data order stays random at
    the scale of an optimizer step while padding drops from ~16% of the tokens (random
    batches of 4 retail traces) to ~3-6%. Deterministic in (seed, epoch), so a resumed run
    skips exactly the batches it had already seen.
    """

    def __init__(self, lengths: list[int], batch_size: int, seed: int, window_batches: int = 16):
        self.lengths = lengths
        self.batch_size = batch_size
        self.window = batch_size * window_batches
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):  # noqa: ANN204
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.lengths), generator=generator).tolist()
        out: list[int] = []
        for start in range(0, len(order), self.window):
            window = sorted(order[start : start + self.window], key=lambda i: -self.lengths[i])
            batches = [
                window[i : i + self.batch_size] for i in range(0, len(window), self.batch_size)
            ]
            # only the dataset's very last batch can be short: keep it last
            tail = [batches.pop()] if len(batches[-1]) < self.batch_size else []
            for b in torch.randperm(len(batches), generator=generator).tolist():
                out.extend(batches[b])
            for batch in tail:
                out.extend(batch)
        return iter(out)
