"""Sigstore keyless signing offline: one line, exit 2, and nothing sent or waited on.

The probe of Sigstore's servers is replaced so the test never touches the network; the
probe itself is bounded by daemon threads, checked with a resolver that never answers.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from provenance_builders import cli, write_dataset

from backdoorlab.provenance import keyless


def test_sigstore_offline_fails_in_one_line_before_model_signing(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    data = write_dataset(tmp_path / "d.jsonl")
    probed: list[tuple[str, int]] = []

    def offline(address: tuple[str, int], timeout: float) -> socket.socket:
        probed.append(address)
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("model-signing reached offline")

    monkeypatch.setattr(keyless.socket, "create_connection", offline)
    monkeypatch.setattr("model_signing.signing.Config.use_sigstore_signer", never)
    code, out = cli(monkeypatch, capsys, "provenance", "sign", str(data), "--sigstore")
    assert code == 2 and len(out.strip().splitlines()) == 1, out
    assert "keyless signing needs network access to Sigstore" in out
    assert "tuf-repo-cdn.sigstore.dev" in out and "name resolution" in out
    assert sorted(probed) == sorted((host, 443) for host in keyless.HOSTS)
    assert not (tmp_path / "d.jsonl.sig").exists()


def test_a_hanging_resolver_is_cut_at_the_timeout(monkeypatch) -> None:
    def hang(address: tuple[str, int], timeout: float) -> socket.socket:
        time.sleep(30)
        raise OSError("unreachable")

    monkeypatch.setattr(keyless.socket, "create_connection", hang)
    started = time.perf_counter()
    with pytest.raises(keyless.OfflineError, match="no answer in 0.2 s"):
        keyless.require_network(timeout=0.2)
    assert time.perf_counter() - started < 5


def test_sigstore_and_a_key_contradict(tmp_path: Path, keys, monkeypatch, capsys) -> None:
    data = write_dataset(tmp_path / "d.jsonl")
    code, out = cli(monkeypatch, capsys, "provenance", "sign", str(data), "--sigstore",
                    "--key", str(keys["trusted"][0]))  # fmt: skip
    assert code == 2 and "--sigstore signs without a key" in out
    code, out = cli(monkeypatch, capsys, "provenance", "sign", str(data))
    assert code == 2 and "give --key private.pem" in out
