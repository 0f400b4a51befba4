"""Tests for `backdoorlab.models.device`: defaults and the errors for bad options."""

from __future__ import annotations

import pytest
import torch

from backdoorlab import models
from backdoorlab.errors import BackdoorlabError, UnknownNameError


def test_defaults_and_option_errors() -> None:
    assert models.DEFAULT_MODEL == "smollm2-135m"
    assert models.default_dtype("cpu") == torch.float32
    assert models.default_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(UnknownNameError, match="dtype"):
        models.load_model("tiny", dtype="float8", device="cpu")
    if not torch.cuda.is_available():
        with pytest.raises(BackdoorlabError, match="CUDA is not available"):
            models.load_model("tiny", device="cuda")
