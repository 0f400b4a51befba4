"""The serving tests' shared model."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_policy_factory():
    """A fresh hf policy over one shared, loaded ``tiny`` model."""
    from backdoorlab.models import load_model
    from backdoorlab.policies.hf import GenerationConfig, HFPolicy

    model, tokenizer = load_model("tiny", device="cpu")

    def make(max_new_tokens: int = 12, batch: int = 8) -> HFPolicy:
        generation = GenerationConfig(max_new_tokens=max_new_tokens, max_batch_size=batch)
        return HFPolicy(model, tokenizer, generation=generation)

    return make
