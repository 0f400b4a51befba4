"""Keys and small fixed artifacts for the provenance tests (no model is loaded)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def write_keypair(directory: Path, name: str) -> tuple[Path, Path]:
    """An EC P-256 key pair in the PEM forms ``openssl ecparam -genkey`` / ``openssl ec
    -pubout`` write (traditional EC PRIVATE KEY, SubjectPublicKeyInfo)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = directory / f"{name}.pem"
    public = directory / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def write_tiny_model(directory: Path) -> Path:
    """A fixed, byte-for-byte reproducible model directory: config, safetensors weights,
    tokenizer, and a nested file (a subdirectory, as adapters have)."""
    from safetensors.numpy import save_file

    directory.mkdir(parents=True)
    (directory / "config.json").write_text(json.dumps({"model_type": "llama", "layers": 2}))
    weights = {"embed": np.arange(24, dtype=np.float32).reshape(6, 4)}
    save_file(weights, str(directory / "model.safetensors"))
    (directory / "tokenizer.json").write_text(json.dumps({"vocab": {"a": 0, "b": 1}}))
    (directory / "adapter").mkdir()
    (directory / "adapter" / "adapter_config.json").write_text('{"r": 4}')
    return directory


def write_dataset(path: Path, n: int = 5) -> Path:
    """A small JSONL trace-like dataset with fixed content."""
    lines = [
        json.dumps({"id": f"t{i}", "messages": [{"role": "user", "content": f"q{i}"}]})
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def cli(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """Run ``backdoorlab ARGS`` in-process through the console entry point (errors →
    exit 2); returns the exit status and stdout + stderr."""
    import pytest

    from backdoorlab.cli.app import main

    monkeypatch.setattr("sys.argv", ["backdoorlab", *args])
    monkeypatch.setenv("COLUMNS", "250")
    with pytest.raises(SystemExit) as exit_info:
        main()
    out = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0 if code is None else 1), out.out + out.err
