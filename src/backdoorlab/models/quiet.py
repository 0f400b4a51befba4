"""Keeping Hugging Face's progress bars and warnings off the terminal while a model loads.

The CLI shows its own rich spinners and one-line messages; transformers' tqdm bars and
load-time warnings would garble them. Every place that loads a model (the built-in
caches here, the defenses' embedders and judges) uses this one switch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from rich.status import Status

T = TypeVar("T")

__all__ = ["quiet_transformers"]


@contextlib.contextmanager
def quiet_transformers(status: Status | None = None) -> Iterator[None]:
    """No tqdm bars and no warnings (errors only) from transformers inside the block.

    The GGUF de-quantizer uses a bare ``tqdm`` that ignores transformers' switch, so it is
    swapped for a loop that reports "tensor i/n" on the rich ``status`` when one is given.
    """
    from transformers.utils import logging as hf_logging

    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:  # nothing to silence where GGUF support is absent
        gguf_utils = None

    def report(iterable: Iterable[T], desc: str | None = None, **_: object) -> Iterator[T]:
        items = list(iterable)
        label = (desc or "Working").rstrip(". ")
        for index, item in enumerate(items, 1):
            if status is not None:
                status.update(f"{label}: {index}/{len(items)}")
            yield item

    was_enabled = hf_logging.is_progress_bar_enabled()
    verbosity = hf_logging.get_verbosity()
    original_tqdm = getattr(gguf_utils, "tqdm", None)
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    if original_tqdm is not None:
        gguf_utils.tqdm = report
    try:
        yield
    finally:
        if original_tqdm is not None:
            gguf_utils.tqdm = original_tqdm
        hf_logging.set_verbosity(verbosity)
        if was_enabled:
            hf_logging.enable_progress_bar()
