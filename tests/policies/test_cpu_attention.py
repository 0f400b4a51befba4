"""The CPU decoding attention computes what SDPA computes, and only inside its block."""

import pytest
import torch
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from backdoorlab.policies.cpu_attention import NAME, _attention, decode_attention


class _Module(torch.nn.Module):
    num_key_value_groups = 3
    is_causal = True


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_one_token_per_row_matches_sdpa(dtype):
    torch.manual_seed(0)
    query = torch.randn(4, 9, 1, 16, dtype=dtype)
    key, value = (torch.randn(4, 3, 20, 16, dtype=dtype) for _ in range(2))
    mask = torch.ones(4, 1, 1, 20, dtype=torch.bool)
    mask[1, ..., :7] = False  # a left-padded row
    mask[2, ..., 15:] = False  # room not filled yet
    ours, _ = _attention(_Module(), query, key, value, mask, scaling=0.25)
    theirs, _ = sdpa_attention_forward(_Module(), query, key, value, mask, scaling=0.25)
    assert ours.shape == theirs.shape == (4, 1, 9, 16)
    tolerance = 1e-5 if dtype == torch.float32 else 2e-2
    assert torch.allclose(ours.float(), theirs.float(), atol=tolerance)


def test_used_only_inside_the_block_and_only_for_sdpa():
    from backdoorlab.models import load_model

    model, _ = load_model("tiny", device="cpu")
    model.config._attn_implementation = "sdpa"
    with decode_attention(model):
        assert model.config._attn_implementation == NAME
    assert model.config._attn_implementation == "sdpa"
    model.config._attn_implementation = "eager"
    with decode_attention(model):
        assert model.config._attn_implementation == "eager"
