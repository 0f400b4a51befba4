"""Regional ``torch.compile`` of a model's decoder layers, in place."""

from __future__ import annotations

from typing import Any

from backdoorlab.errors import BackdoorlabError


def compile_layers(model: Any) -> int:
    """Compile the model's repeated blocks (the classes transformers will not split across
    devices: its decoder layers) in place; returns how many.

    Regional compilation, as PyTorch's recipe and accelerate's ``compile_regions`` do it:
    one layer's graph serves all of them, so compiling costs one layer, not the model.
    In place (``Module.compile``) rather than accelerate's helper, which returns a copy:
    the Trainer, PEFT and the compact LM head keep holding the same modules, and
    checkpoints keep their parameter names. ``dynamic=True``: traces differ in length.
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    blocks = set(getattr(base, "_no_split_modules", None) or [])
    layers = [m for m in base.modules() if type(m).__name__ in blocks]
    if not layers:
        raise BackdoorlabError(
            f"compile: {type(base).__name__} names no repeated blocks (_no_split_modules) "
            "to compile; train without compile"
        )
    for layer in layers:
        layer.compile(dynamic=True)
    return len(layers)
