"""Tests for `backdoorlab.models.quiet`: bars and warnings off inside, as before after."""

from __future__ import annotations

from transformers import modeling_gguf_pytorch_utils as gguf_utils
from transformers.utils import logging as hf_logging

from backdoorlab.models import quiet_transformers


class _Status:
    def __init__(self) -> None:
        self.updates: list[str] = []

    def update(self, text: str) -> None:
        self.updates.append(text)


def test_quiet_transformers_silences_and_restores() -> None:
    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    original_tqdm = gguf_utils.tqdm
    status = _Status()
    with quiet_transformers(status):  # type: ignore[arg-type]
        assert not hf_logging.is_progress_bar_enabled()
        assert hf_logging.get_verbosity() == hf_logging.ERROR
        assert list(gguf_utils.tqdm(range(3), desc="Converting...")) == [0, 1, 2]
    assert status.updates == ["Converting: 1/3", "Converting: 2/3", "Converting: 3/3"]
    assert hf_logging.get_verbosity() == verbosity
    assert hf_logging.is_progress_bar_enabled() == bars
    assert gguf_utils.tqdm is original_tqdm
