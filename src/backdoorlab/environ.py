"""An environment variable set for the length of a block, and put back after it.

Some switches of ours and of the libraries under us are environment variables read at
every call (``BACKDOORLAB_ALLOW_PICKLE``, transformers' ``TRANSFORMERS_SDPA_FORCE_GQA``):
setting one for a block is how a caller turns them on for that block alone.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def environment_set(name: str, value: str) -> Iterator[None]:
    """``os.environ[name] = value`` within the block; its former value (or its absence)
    after it, however the block ends."""
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved
