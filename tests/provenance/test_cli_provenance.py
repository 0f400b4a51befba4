"""``backdoorlab provenance sign/verify/show/bom`` as a user runs them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from provenance_builders import cli, write_dataset, write_tiny_model

from backdoorlab.provenance import attest, write_lineage


def test_sign_then_verify_exit_codes(tmp_path: Path, keys, monkeypatch, capsys) -> None:
    model = write_tiny_model(tmp_path / "model")
    private, public = keys["trusted"]
    code, out = cli(monkeypatch, capsys, "provenance", "sign", str(model), "--key", str(private))
    assert code == 0 and (model / "model.sig").is_file()
    code, out = cli(
        monkeypatch, capsys, "provenance", "verify", str(model), "--public-key", str(public)
    )
    assert code == 0 and "verified" in out
    (model / "config.json").write_text("{}")
    code, out = cli(
        monkeypatch, capsys, "provenance", "verify", str(model), "--public-key", str(public)
    )
    assert code == 1 and f"{model / 'config.json'}: modified" in out
    code, out = cli(
        monkeypatch,
        capsys,
        "provenance",
        "verify",
        str(model),
        "--public-key",
        str(keys["other"][1]),
    )
    assert code == 1 and "not trusted" in out


def test_bad_key_is_one_line_exit_2(tmp_path: Path, monkeypatch, capsys) -> None:
    data = write_dataset(tmp_path / "d.jsonl")
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN EC PRIVATE KEY-----\nnope\n")
    code, out = cli(monkeypatch, capsys, "provenance", "sign", str(data), "--key", str(key))
    assert code == 2 and out.startswith("error: ") and "key.pem" in out
    assert len(out.strip().splitlines()) == 1


def test_show_draws_the_lineage_and_flags_an_edited_input(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    clean = write_dataset(tmp_path / "clean.jsonl")
    write_lineage(clean, "collect", config={"n": 5})
    poisoned = write_dataset(tmp_path / "poisoned.jsonl", n=7)
    write_lineage(poisoned, "poison", inputs={"clean": clean}, config={"rate": 0.1})
    attest(poisoned, "audit", "pass", result={"detectors": ["dataflow"]})
    model = write_tiny_model(tmp_path / "model")
    write_lineage(model, "train", inputs={"data": poisoned, "base_model": "tiny"})
    code, out = cli(monkeypatch, capsys, "provenance", "show", str(model), "--json")
    assert code == 0
    tree = json.loads(out[: out.rindex("}") + 1])
    assert tree["kind"] == "train"
    data = next(i for i in tree["inputs"] if i["name"].startswith("data"))
    assert data["edge"] == "verified" and data["kind"] == "poison"
    unsigned = {"state": "unsigned", "key": None, "keyids": []}
    assert data["verdicts"] == [
        {"kind": "audit", "verdict": "pass", "current": True, "signer": unsigned}
    ]
    assert data["inputs"][0]["kind"] == "collect" and data["inputs"][0]["edge"] == "verified"
    base = next(i for i in tree["inputs"] if i["name"].startswith("base_model"))
    assert base["edge"] == "name only"
    code, out = cli(monkeypatch, capsys, "provenance", "show", str(model))
    assert code == 0 and "collect" in out and "audit: pass (unsigned)" in out
    clean.write_text(clean.read_text() + '{"id": "late"}\n')  # the root edited afterwards
    code, out = cli(monkeypatch, capsys, "provenance", "show", str(model))
    assert code == 1 and "digest differs" in out


def test_bom_lists_the_model_and_its_datasets(tmp_path: Path, monkeypatch, capsys) -> None:
    clean = write_dataset(tmp_path / "clean.jsonl")
    write_lineage(clean, "collect")
    model = write_tiny_model(tmp_path / "run")
    write_lineage(model, "train", inputs={"data": clean})
    out_path = tmp_path / "bom.json"
    code, _ = cli(monkeypatch, capsys, "provenance", "bom", str(model), "-o", str(out_path))
    assert code == 0
    document = json.loads(out_path.read_text())
    assert document["bomFormat"] == "CycloneDX"
    assert document["metadata"]["component"]["type"] == "machine-learning-model"
    (data,) = document["components"]
    assert data["type"] == "data" and data["name"] == "clean.jsonl"
    assert (
        data["hashes"][0]["content"] == __import__("hashlib").sha256(clean.read_bytes()).hexdigest()
    )
    datasets = document["metadata"]["component"]["modelCard"]["modelParameters"]["datasets"]
    assert datasets == [{"ref": data["bom-ref"]}]


def test_bom_of_an_experiment_run_directory_names_its_models(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """`backdoorlab run`'s directory holds a grid of models: the error points at one."""
    model = tmp_path / "run" / "stages" / "train-0123abcd" / "model"
    model.mkdir(parents=True)
    code, err = cli(monkeypatch, capsys, "provenance", "bom", str(tmp_path / "run"))
    assert code == 2
    assert f"an experiment's run directory, 1 model(s): give one of them, e.g. {model}" in err


def test_show_draws_an_input_named_twice_once(tmp_path: Path, monkeypatch, capsys) -> None:
    """A chain of files each naming the next twice was drawn 2^depth times (40 deep: a
    hang); an artifact reached again is now named, marked, and not walked again."""
    files = [write_dataset(tmp_path / f"f{i}.jsonl", n=i + 1) for i in range(40)]
    write_lineage(files[-1], "collect")
    for here, below in zip(reversed(files[:-1]), reversed(files[1:]), strict=True):
        write_lineage(here, "poison", inputs={"a": below, "b": below})
    code, out = cli(monkeypatch, capsys, "provenance", "show", str(files[0]), "--json")
    assert code == 0
    tree = json.loads(out[: out.rindex("}") + 1])
    first, again = tree["inputs"]
    assert first["repeated"] is False and first["inputs"]
    assert again["repeated"] is True and again["inputs"] == [] and again["edge"] == "verified"


def test_show_an_input_it_cannot_read_is_a_broken_edge(tmp_path: Path, monkeypatch, capsys):
    """A lineage is data: a ``file:`` URI urlparse refuses, a name too long for the file
    system and a directory whose files cannot be read were tracebacks."""
    data = write_dataset(tmp_path / "d.jsonl")
    write_lineage(data, "poison")
    record = json.loads((tmp_path / "d.jsonl.intoto.json").read_text())
    dependencies = record["predicate"]["buildDefinition"]["resolvedDependencies"]
    for n, uri in enumerate(["file://[::1/x", "file:///" + "a" * 5000, "file:///proc/self"]):
        dependencies.insert(0, {"name": f"in{n}", "uri": uri, "digest": {"sha256": "00"}})
    (tmp_path / "d.jsonl.intoto.json").write_text(json.dumps(record))
    code, out = cli(monkeypatch, capsys, "provenance", "show", str(data), "--json")
    assert code == 1
    tree = json.loads(out[: out.rindex("}") + 1])
    edges = {i["name"].split(":")[0]: i["edge"] for i in tree["inputs"]}
    assert edges["in0"] == edges["in1"] == "unreadable"
    assert edges["in2"] in ("unreadable", "missing")  # no /proc: missing
    code, out = cli(monkeypatch, capsys, "provenance", "show", str(data))
    assert code == 1 and out.count("unreadable") >= 2


def test_show_reads_only_the_bytes_an_input_s_size_promises(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """A lineage naming a kernel pseudo-file (size 0, endless or waiting content:
    ``/proc/kmsg`` hung ``provenance show`` for good) or a named pipe (a read waits for a
    writer) is an unreadable or missing edge at once."""
    data = write_dataset(tmp_path / "d.jsonl")
    write_lineage(data, "poison")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    proc = Path("/proc/self/status")
    inside = tmp_path / "dir"
    inside.mkdir()
    (inside / "status").symlink_to(proc)
    record = json.loads((tmp_path / "d.jsonl.intoto.json").read_text())
    dependencies = record["predicate"]["buildDefinition"]["resolvedDependencies"]
    for n, uri in enumerate([pipe.as_uri(), inside.as_uri(), proc.as_uri()]):
        dependencies.insert(0, {"name": f"in{n}", "uri": uri, "digest": {"sha256": "00"}})
    (tmp_path / "d.jsonl.intoto.json").write_text(json.dumps(record))
    code, out = cli(monkeypatch, capsys, "provenance", "show", str(data), "--json")
    assert code == 1
    tree = json.loads(out[: out.rindex("}") + 1])
    edges = {i["name"].split(":")[0]: i for i in tree["inputs"]}
    assert edges["in0"]["edge"] == "missing"  # not a file or directory: never opened
    if proc.is_file():  # Linux
        for name in ("in1", "in2"):
            assert edges[name]["edge"] == "unreadable"
            assert "longer than its size" in edges[name]["name"]


def test_artifact_sha256_is_file_sha256_of_a_regular_file(tmp_path: Path) -> None:
    from backdoorlab.digests import artifact_sha256, file_sha256

    for size in (0, 1, (1 << 20) + 7):
        path = tmp_path / f"f{size}"
        path.write_bytes(os.urandom(size))
        assert artifact_sha256(path) == file_sha256(path)
    with pytest.raises(OSError, match="a directory"):
        artifact_sha256(tmp_path)


def test_show_prints_a_lineage_s_words_inert(tmp_path: Path, monkeypatch, capsys) -> None:
    """A stage kind from a lineage file reached the terminal raw (ESC ]0; retitles the
    window, ESC [2J clears it)."""
    data = write_dataset(tmp_path / "d.jsonl")
    write_lineage(data, "\x1b]0;pwned\x07\x1b[2Jpoison")
    verdict = attest(data, "audit", "pass")
    record = json.loads(verdict.read_text())
    record["predicate"] |= {"kind": "audit\x1b[31m", "verdict": "pass\x1b[2J"}
    verdict.write_text(json.dumps(record))
    code, out = cli(monkeypatch, capsys, "provenance", "show", str(data))
    assert code == 0 and "\x1b" not in out and "\\x1b]0;pwned" in out


def test_sign_refuses_a_named_pipe_and_keeps_the_old_signature(
    tmp_path: Path, keys, monkeypatch, capsys
) -> None:
    """model-signing raised a ValueError traceback on a FIFO in the directory, after the
    old signature had been deleted."""
    import os

    model = write_tiny_model(tmp_path / "model")
    private, public = keys["trusted"]
    assert cli(monkeypatch, capsys, "provenance", "sign", str(model), "--key", str(private))[0] == 0
    os.mkfifo(model / "pipe")
    code, out = cli(monkeypatch, capsys, "provenance", "sign", str(model), "--key", str(private))
    assert code == 2 and "pipe: not a regular file" in out and len(out.strip().splitlines()) == 1
    assert (model / "model.sig").is_file()


@pytest.mark.parametrize("option", ["--key", "--public-key", "--cert-chain"])
def test_a_key_that_is_not_a_key_file_is_one_line(
    tmp_path: Path, keys, monkeypatch, capsys, option: str
) -> None:
    """/dev/zero as a key was read until memory ran out; a chain file that is missing, a
    directory or no certificate was a traceback from model-signing."""
    import os

    data = write_dataset(tmp_path / "d.jsonl")
    command = "sign" if option == "--key" else "verify"
    os.mkfifo(tmp_path / "pipe.pem")  # opening it waited for a writer, forever
    bad_keys = ("/dev/zero", str(tmp_path / "pipe.pem"), str(tmp_path), str(tmp_path / "none.pem"))
    for bad in (*bad_keys, str(data)):
        code, out = cli(monkeypatch, capsys, "provenance", command, str(data), option, bad)
        assert code == 2 and out.startswith("error: ") and len(out.strip().splitlines()) == 1
