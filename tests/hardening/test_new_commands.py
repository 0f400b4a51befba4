"""The second wave's commands under hostile input: serve, export, view, report,
provenance sign/verify/show/bom, guard replay, and the --policy openai options of eval,
collect and scan.

Every case runs the real command line (`backdoorlab.cli.main`, as the console script
does) and must end with exit status 2 and exactly one line on stderr naming the file,
line or option at fault, no traceback, no file left behind (the case's directory holds
the same files after as before) and no model loaded (a tripwire on the weights loader).
Before this module: a host that does not resolve, a port in use, an empty JSONL to
export, a symlink in a directory to sign, a hostile lineage and a result row of the
wrong type each ended in a traceback (the first two after the model had loaded), a
bad --base-url was retried over the network, and click's usage errors were a five-line
panel.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bad_input import LINE

from backdoorlab.cli import main


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """PEM files: an EC key pair, an RSA key pair, and a file that is no PEM at all."""
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    root = tmp_path_factory.mktemp("keys")
    out: dict[str, Path] = {}
    for name, key in (
        ("ec", ec.generate_private_key(ec.SECP256R1())),
        ("rsa", rsa.generate_private_key(65537, 2048)),
    ):
        private = key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption())
        public = key.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo)
        out[name], out[f"{name}.pub"] = root / f"{name}.pem", root / f"{name}.pub"
        out[name].write_bytes(private)
        out[f"{name}.pub"].write_bytes(public)
    out["junk"] = root / "junk.pem"
    out["junk"].write_text("not a key\n")
    return out


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something already listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


FINDING_7 = '{"trace_index": 7, "detector": "dataflow", "severity": "high"}'
"""A well-formed finding for a trace the one-line test files do not have."""


def _traces(d: Path, *lines: str, name: str = "t.jsonl") -> Path:
    path = d / name
    path.write_text("".join(lines))
    return path


def _file(d: Path, name: str, text: str) -> Path:
    path = d / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _model_dir(d: Path, *weights: str) -> Path:
    """A model directory with a config and the given weight files (no real weights: every
    refusal below comes before a byte of them is read)."""
    model = d / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    for name in weights:
        (model / name).write_bytes(b"\x80\x04not really weights")
    return model


def _run_dir(d: Path, metrics: str) -> Path:
    run = d / "run"
    _file(run, "metrics.json", metrics)
    return run


def _csv_run_dir(d: Path, table: str) -> Path:
    run = d / "run"
    _file(run, "results.csv", table)
    return run


def _lineage(d: Path, record: object) -> Path:
    artifact = d / "artifact"
    _file(artifact, "w.txt", "x")
    _file(artifact, "provenance.intoto.json", json.dumps(record))
    return artifact


DEEP = "[" * 100_000 + "]" * 100_000 + "\n"
"""JSON nested far deeper than the parser recurses."""

SURROGATE = "\\ud800"
"""A JSON escape of a lone UTF-16 surrogate (six characters in the file)."""


def _signed_with_lineage(d: Path, key: Path, lineage: str) -> Path:
    """A signed trace file whose lineage sidecar is then replaced by ``lineage``."""
    from backdoorlab.provenance.signing import sign

    traces = _traces(d, LINE)
    sign(traces, key)
    _file(d, "t.jsonl.intoto.json", lineage)
    return traces


def _envelope(payload: str) -> str:
    """A DSSE envelope around ``payload`` (unsigned: its payload is read first)."""
    import base64

    encoded = base64.b64encode(payload.encode()).decode()
    return json.dumps(
        {"payloadType": "application/vnd.in-toto+json", "payload": encoded, "signatures": []}
    )


Case = Callable[[Path, dict[str, Path], int], tuple[list[str], tuple[str, ...]]]
"""(case directory, keys, a busy port) → (argv, fragments the one error line holds)."""

SERVER = ["--model", "m", "--max-retries", "0"]

CASES: dict[str, Case] = {
    # ------------------------------------------------------------------ serve
    "serve: no such model dir": lambda d, k, p: (
        ["serve", str(d / "nope")],
        (str(d / "nope"), "does not exist"),
    ),
    "serve: a dir without weights": lambda d, k, p: (
        ["serve", str(_model_dir(d))],
        (str(d / "model"), "no safetensors"),
    ),
    "serve: pickled weights only": lambda d, k, p: (
        ["serve", str(_model_dir(d, "pytorch_model.bin"))],
        ("pytorch_model.bin", "--allow-pickle"),
    ),
    "serve: port out of range": lambda d, k, p: (["serve", "tiny", "--port", "70000"], ("--port",)),
    "serve: port not a number": lambda d, k, p: (["serve", "tiny", "--port", "http"], ("--port",)),
    "serve: port in use": lambda d, k, p: (
        ["serve", "tiny", "--port", str(p)],
        (f"127.0.0.1:{p}", "in use"),
    ),
    "serve: host that does not resolve": lambda d, k, p: (
        ["serve", "tiny", "--host", "no such host.invalid"],
        ("--host no such host.invalid",),
    ),
    "serve: guard policy not YAML": lambda d, k, p: (
        ["serve", "tiny", "--guard", str(_file(d, "g.yaml", "sinks: [\n"))],
        (str(d / "g.yaml"), "not valid YAML"),
    ),
    "serve: guard policy field of the wrong type": lambda d, k, p: (
        ["serve", "tiny", "--guard", str(_file(d, "g.yaml", "sinks: 5\n"))],
        (str(d / "g.yaml"), "field 'sinks'"),
    ),
    "serve: guard policy unknown field": lambda d, k, p: (
        ["serve", "tiny", "--guard", str(_file(d, "g.yaml", "sinkz: []\n"))],
        (str(d / "g.yaml"), "field 'sinkz'", "unknown setting"),
    ),
    "serve: --guard-log without --guard": lambda d, k, p: (
        ["serve", "tiny", "--guard-log", str(d / "log.jsonl")],
        ("--guard-log needs --guard",),
    ),
    # ------------------------------------------------------------------ export
    "export: missing input": lambda d, k, p: (
        ["export", str(d / "nope.jsonl"), "-o", str(d / "o.parquet")],
        (str(d / "nope.jsonl"), "no such file"),
    ),
    "export: empty input": lambda d, k, p: (
        ["export", str(_traces(d)), "-o", str(d / "o.parquet")],
        (str(d / "t.jsonl"), "holds no traces"),
    ),
    "export: bad JSON on line 3": lambda d, k, p: (
        ["export", str(_traces(d, LINE, LINE, '{"messages": [\n')), "-o", str(d / "o.parquet")],
        (f"{d / 't.jsonl'}:3", "not valid JSON"),
    ),
    "export: line 2 is no trace": lambda d, k, p: (
        ["export", str(_traces(d, LINE, '{"foo": 1}\n')), "-o", str(d / "o.parquet")],
        (f"{d / 't.jsonl'}:2", "'messages'"),
    ),
    "export: output under a file": lambda d, k, p: (
        ["export", str(_traces(d, LINE)), "-o", str(d / "t.jsonl" / "o.parquet")],
        (str(d / "t.jsonl" / "o.parquet"), "not a directory"),
    ),
    "export: output not .parquet": lambda d, k, p: (
        ["export", str(_traces(d, LINE)), "-o", str(d / "o.csv")],
        (str(d / "o.csv"), ".parquet"),
    ),
    "export: no -o": lambda d, k, p: (["export", str(_traces(d, LINE))], ("'-o'", "export")),
    # ------------------------------------------------------------------ view
    "view: missing traces": lambda d, k, p: (
        ["view", str(d / "nope.jsonl"), "-o", str(d / "v.html")],
        (str(d / "nope.jsonl"), "no such file"),
    ),
    "view: audit report not JSON": lambda d, k, p: (
        [
            *("view", str(_traces(d, LINE)), "-o", str(d / "v.html")),
            *("--audit", str(_file(d, "a.json", "{trunc"))),
        ],
        (str(d / "a.json"), "cannot read an audit report"),
    ),
    "view: audit report of another shape": lambda d, k, p: (
        [
            *("view", str(_traces(d, LINE)), "-o", str(d / "v.html")),
            *("--audit", str(_file(d, "a.json", '{"findings": [{"trace_index": "x"}]}'))),
        ],
        (str(d / "a.json"), "findings[0]", "'trace_index'"),
    ),
    "view: audit finding for a trace the file lacks": lambda d, k, p: (
        [
            *("view", str(_traces(d, LINE)), "-o", str(d / "v.html")),
            *("--audit", str(_file(d, "a.json", '{"findings": [' + FINDING_7 + "]}"))),
        ],
        (str(d / "a.json"), "trace 7", "holds 1 traces"),
    ),
    "show: audit finding for a trace the report did not audit": lambda d, k, p: (
        [
            *("show", str(_traces(d, LINE)), "--index", "0"),
            *("--audit", str(_file(d, "a.json", '{"traces": 1, "findings": [' + FINDING_7 + "]}"))),
        ],
        (str(d / "a.json"), "findings[0]: trace_index 7", "1 traces the report audits"),
    ),
    "show: audit finding with no detector": lambda d, k, p: (
        [
            *("show", str(_traces(d, LINE)), "--index", "0"),
            *("--audit", str(_file(d, "a.json", '{"findings": [{"trace_index": 0}]}'))),
        ],
        (str(d / "a.json"), "findings[0]", "'detector'"),
    ),
    "view: guard decisions truncated": lambda d, k, p: (
        [
            *("view", str(_traces(d, LINE)), "-o", str(d / "v.html")),
            *("--guard", str(_file(d, "g.jsonl", '{"index": 0, "bloc'))),
        ],
        (f"{d / 'g.jsonl'}:1", "not a JSON line"),
    ),
    "view: guard decision for a trace the file lacks": lambda d, k, p: (
        [
            *("view", str(_traces(d, LINE)), "-o", str(d / "v.html")),
            *("--guard", str(_file(d, "g.jsonl", '{"index": -1, "blocked": true}\n'))),
        ],
        (str(d / "g.jsonl"), "trace -1"),
    ),
    "view: guard decisions nested too deeply": lambda d, k, p: (
        [
            *("view", str(_traces(d, LINE)), "-o", str(d / "v.html")),
            *("--guard", str(_file(d, "g.json", DEEP))),
        ],
        (f"{d / 'g.json'}:1", "JSON nested too deeply"),
    ),
    "view: guard decision with a lone surrogate": lambda d, k, p: (
        [
            *("view", str(_traces(d, LINE)), "-o", str(d / "v.html")),
            *(
                "--guard",
                str(_file(d, "g.jsonl", f'{{"index":0,"blocked":true,"x":"{SURROGATE}"}}')),
            ),
        ],
        (f"{d / 'g.jsonl'}:1", "a lone UTF-16 surrogate escape"),
    ),
    "view: audit report nested too deeply": lambda d, k, p: (
        [
            *("view", str(_traces(d, LINE)), "-o", str(d / "v.html")),
            *("--audit", str(_file(d, "a.json", DEEP))),
        ],
        (str(d / "a.json"), "JSON nested too deeply"),
    ),
    "view: audit report nested deeper than the page nests it": lambda d, k, p: (
        [
            *("view", str(_traces(d, LINE)), "-o", str(d / "v.html")),
            *(
                "--audit",
                str(
                    _file(
                        d,
                        "a.json",
                        '{"findings":[{"trace_index":0,"evidence":' + "[" * 900 + "]" * 900 + "}]}",
                    )
                ),
            ),
        ],
        (str(d / "a.json"), "JSON nested too deeply"),
    ),
    "view: audit finding with a lone surrogate": lambda d, k, p: (
        [
            *("view", str(_traces(d, LINE)), "-o", str(d / "v.html")),
            *(
                "--audit",
                str(
                    _file(
                        d, "a.json", f'{{"findings":[{{"trace_index":0,"summary":"{SURROGATE}"}}]}}'
                    )
                ),
            ),
        ],
        (str(d / "a.json"), "a lone UTF-16 surrogate escape"),
    ),
    "show --audit: audit report nested too deeply": lambda d, k, p: (
        [
            "show",
            str(_traces(d, LINE, LINE)),
            "--index",
            "1",
            "--audit",
            str(_file(d, "a.json", DEEP)),
        ],
        (str(d / "a.json"), "JSON nested too deeply"),
    ),
    "show --audit: audit finding with a lone surrogate": lambda d, k, p: (
        [
            *("show", str(_traces(d, LINE)), "--audit"),
            str(
                _file(d, "a.json", f'{{"findings":[{{"trace_index":0,"summary":"{SURROGATE}"}}]}}')
            ),
        ],
        (str(d / "a.json"), "a lone UTF-16 surrogate escape"),
    ),
    "view: --serve on a port in use": lambda d, k, p: (
        ["view", str(_traces(d, LINE)), "-o", str(d / "v.html"), "--serve", "--port", str(p)],
        (f"127.0.0.1:{p}", "in use"),
    ),
    # ------------------------------------------------------------------ report
    "report: missing run dir": lambda d, k, p: (
        ["report", str(d / "nope")],
        (str(d / "nope"), "not a directory"),
    ),
    "report: truncated metrics.json, nothing else": lambda d, k, p: (
        ["report", str(_run_dir(d, '[{"model": "victim", "TSR": 0.'))],
        (str(d / "run"), "holds no results", "metrics.json (not a list of rows)"),
    ),
    "report: a results.csv of its header alone": lambda d, k, p: (
        ["report", str(_csv_run_dir(d, "model,TSR\n"))],
        (str(d / "run"), "holds no results", "results.csv (no rows)"),
    ),
    "report: a rate that is no number": lambda d, k, p: (
        ["report", str(_run_dir(d, '[{"model": "v", "victim_multiple": "abc", "TSR": 0.5}]'))],
        (str(d / "run"), "row 1, field 'victim_multiple': not a number"),
    ),
    "report: output under a file": lambda d, k, p: (
        [
            *("report", str(_run_dir(d, '[{"model": "v", "TSR": 0.5}]'))),
            *("-o", str(d / "run" / "metrics.json" / "r.html")),
        ],
        (str(d / "run" / "metrics.json" / "r.html"), "not a directory"),
    ),
    # ------------------------------------------------------------------ provenance
    "sign: missing key": lambda d, k, p: (
        ["provenance", "sign", str(_traces(d, LINE)), "--key", str(d / "nope.pem")],
        (str(d / "nope.pem"), "cannot read the key"),
    ),
    "sign: an RSA key": lambda d, k, p: (
        ["provenance", "sign", str(_traces(d, LINE)), "--key", str(k["rsa"])],
        (str(k["rsa"]), "not an EC private key"),
    ),
    "sign: a public key for the private one": lambda d, k, p: (
        ["provenance", "sign", str(_traces(d, LINE)), "--key", str(k["ec.pub"])],
        (str(k["ec.pub"]), "not a usable PEM key"),
    ),
    "sign: a key that is no PEM": lambda d, k, p: (
        ["provenance", "sign", str(_traces(d, LINE)), "--key", str(k["junk"])],
        (str(k["junk"]), "not a usable PEM key"),
    ),
    "sign: nothing to sign": lambda d, k, p: (
        ["provenance", "sign", str(d / "nope"), "--key", str(k["ec"])],
        (str(d / "nope"), "nothing to sign"),
    ),
    "verify: missing artifact": lambda d, k, p: (
        ["provenance", "verify", str(d / "nope"), "--public-key", str(k["ec.pub"])],
        (str(d / "nope"), "no such file"),
    ),
    "verify: an RSA public key": lambda d, k, p: (
        ["provenance", "verify", str(_traces(d, LINE)), "--public-key", str(k["rsa.pub"])],
        (str(k["rsa.pub"]), "not an EC public key"),
    ),
    "verify: no key": lambda d, k, p: (
        ["provenance", "verify", str(_traces(d, LINE))],
        ("--public-key",),
    ),
    "verify: lineage nested too deeply": lambda d, k, p: (
        [
            *("provenance", "verify", str(_signed_with_lineage(d, k["ec"], DEEP))),
            *("--public-key", str(k["ec.pub"])),
        ],
        (str(d / "t.jsonl.intoto.json"), "JSON nested too deeply"),
    ),
    "show: lineage nested too deeply": lambda d, k, p: (
        ["provenance", "show", str(_signed_with_lineage(d, k["ec"], DEEP))],
        (str(d / "t.jsonl.intoto.json"), "JSON nested too deeply"),
    ),
    "show: lineage with a lone surrogate": lambda d, k, p: (
        [
            *("provenance", "show"),
            str(_signed_with_lineage(d, k["ec"], f'{{"subject":[],"x":"{SURROGATE}"}}')),
        ],
        (str(d / "t.jsonl.intoto.json"), "a lone UTF-16 surrogate escape"),
    ),
    "show: lineage envelope whose payload nests too deeply": lambda d, k, p: (
        ["provenance", "show", str(_signed_with_lineage(d, k["ec"], _envelope(DEEP)))],
        (f"{d / 't.jsonl.intoto.json'}: payload", "JSON nested too deeply"),
    ),
    "show: lineage subject of the wrong type": lambda d, k, p: (
        ["provenance", "show", str(_lineage(d, {"subject": [5], "predicate": {}}))],
        (str(d / "artifact" / "provenance.intoto.json"), "field 'subject.0'"),
    ),
    "show: lineage subject outside the artifact": lambda d, k, p: (
        [
            *("provenance", "show"),
            str(_lineage(d, {"subject": [{"name": "../../etc/passwd"}], "predicate": {}})),
        ],
        ("field 'subject.0.name'", "outside the artifact"),
    ),
    "bom: lineage predicate of the wrong type": lambda d, k, p: (
        ["provenance", "bom", str(_lineage(d, {"subject": [], "predicate": "x"}))],
        (str(d / "artifact" / "provenance.intoto.json"), "field 'predicate'"),
    ),
    "bom: a directory with no lineage": lambda d, k, p: (
        ["provenance", "bom", str(d)],
        (str(d), "no lineage"),
    ),
    "bom: a file, not a directory": lambda d, k, p: (
        ["provenance", "bom", str(_traces(d, LINE))],
        (str(d / "t.jsonl"), "not a directory"),
    ),
    # ------------------------------------------------------------------ guard verify
    "guard verify: a log nested too deeply": lambda d, k, p: (
        ["guard", "verify", str(_file(d, "deep.json", DEEP))],
        (f"{d / 'deep.json'}:1", "JSON nested too deeply"),
    ),
    "guard verify: a line nested a frame short of hashing it": lambda d, k, p: (
        [
            *("guard", "verify"),
            str(
                _file(
                    d,
                    "g.jsonl",
                    '{"prev":"' + "0" * 64 + '","hash":"ab","x":' + "[" * 990 + "]" * 990 + "}\n",
                )
            ),
        ],
        (f"{d / 'g.jsonl'}:1", "JSON nested too deeply"),
    ),
    "guard verify: a line with a lone surrogate": lambda d, k, p: (
        [
            *("guard", "verify"),
            str(
                _file(d, "g.jsonl", '{"prev":"' + "0" * 64 + f'","x":"{SURROGATE}","hash":"ab"}}\n')
            ),
        ],
        (f"{d / 'g.jsonl'}:1", "a lone UTF-16 surrogate escape"),
    ),
    # ------------------------------------------------------------------ guard replay
    "replay: bad JSON on line 2": lambda d, k, p: (
        ["guard", "replay", str(_traces(d, LINE, "{\n")), "-o", str(d / "r.jsonl")],
        (f"{d / 't.jsonl'}:2", "not valid JSON"),
    ),
    # a call without its id is transformers' chat format now (`trace_formats.chat`): read
    "replay: a tool call without its tool's name": lambda d, k, p: (
        [
            *("guard", "replay", "-o", str(d / "r.jsonl")),
            str(
                _traces(
                    d,
                    '{"messages": [{"role": "assistant", "tool_calls": '
                    '[{"id": "c1", "function": {"arguments": "{}"}}]}]}\n',
                )
            ),
        ],
        (f"{d / 't.jsonl'}:1", "tool_calls.0.function.name"),
    ),
    "replay: policy not YAML": lambda d, k, p: (
        [
            *("guard", "replay", str(_traces(d, LINE)), "-o", str(d / "r.jsonl")),
            *("--policy", str(_file(d, "p.yaml", "sinks: [\n"))),
        ],
        (str(d / "p.yaml"), "not valid YAML"),
    ),
    "replay: policy field of the wrong type, nested": lambda d, k, p: (
        [
            *("guard", "replay", str(_traces(d, LINE)), "-o", str(d / "r.jsonl")),
            *("--policy", str(_file(d, "p.yaml", "sinks:\n  - tool: 5\n"))),
        ],
        (str(d / "p.yaml"), "field 'sinks.0.tool'"),
    ),
    "replay: policy a list": lambda d, k, p: (
        [
            *("guard", "replay", str(_traces(d, LINE)), "-o", str(d / "r.jsonl")),
            *("--policy", str(_file(d, "p.yaml", "- a\n"))),
        ],
        (str(d / "p.yaml"), "expected a mapping"),
    ),
    "replay: missing policy": lambda d, k, p: (
        [
            *("guard", "replay", str(_traces(d, LINE)), "-o", str(d / "r.jsonl")),
            *("--policy", str(d / "nope.yaml")),
        ],
        (str(d / "nope.yaml"), "no such file"),
    ),
}

# ---------------------------------------------------------------- --policy openai options
for _command, _extra in (
    ("eval", ["-o", "{d}/m.json"]),
    ("collect", ["-o", "{d}/c.jsonl"]),
    ("scan", ["--no-canary", "-o", "{d}/s.json"]),
):
    for _name, _options, _fragments in (
        ("no --base-url", ["--model", "m"], ("--policy openai needs --base-url",)),
        ("no --model", ["--base-url", "http://127.0.0.1:9/v1"], ("needs --model",)),
        ("--base-url not a URL", ["--base-url", "notaurl", *SERVER], ("--base-url 'notaurl'",)),
        ("--base-url ftp", ["--base-url", "ftp://h/v1", *SERVER], ("not an http:// or https://",)),
        (
            "--base-url port out of range",
            ["--base-url", "http://127.0.0.1:99999/v1", *SERVER],
            ("--base-url", "Port out of range"),
        ),
        (
            "--base-url with a space",
            ["--base-url", "http://a b/v1", *SERVER],
            ("--base-url", "space"),
        ),
        (
            "--concurrency 0",
            ["--base-url", "http://127.0.0.1:9/v1", "--concurrency", "0", *SERVER],
            ("--concurrency",),
        ),
    ):
        CASES[f"{_command} --policy openai: {_name}"] = (
            lambda d, k, p, c=_command, e=_extra, o=_options, f=_fragments: (
                [c, "--policy", "openai", *o, *(x.format(d=d) for x in e)],
                f,
            )
        )


def _tripwire(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading a model, building a policy or evaluating fails the test if reached."""

    def tripped(*args: object, **kwargs: object) -> None:
        pytest.fail("a computation started before the bad input was refused")

    for target in (
        "transformers.AutoModelForCausalLM.from_pretrained",
        "backdoorlab.policies.spec.PolicySpec.build",
        "backdoorlab.evaluation.evaluate",
        "backdoorlab.collect.collect_traces",
        "backdoorlab.serving.server.run_server",
    ):
        monkeypatch.setattr(target, tripped)


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(
    case: str,
    keys: dict[str, Path],
    busy_port: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv, fragments = CASES[case](tmp_path, keys, busy_port)
    before = _files(tmp_path)
    _tripwire(monkeypatch)
    monkeypatch.setattr("sys.argv", ["backdoorlab", *argv])
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.delenv("BACKDOORLAB_ALLOW_PICKLE", raising=False)
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert _files(tmp_path) == before, "a file was left behind"


# ------------------------------------------------------------------ never lost data


@pytest.mark.parametrize("option", ["--guard", "--audit"])
def test_a_refused_guard_or_audit_file_leaves_an_earlier_page_as_it_was(
    option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lone surrogate in a decision or a finding is refused before the page is written:
    the page already there stays as it was."""
    line = f'{{"index":0,"blocked":true,"x":"{SURROGATE}"}}\n'
    report = f'{{"findings":[{{"trace_index":0,"summary":"{SURROGATE}"}}]}}'
    bad = _file(tmp_path, "bad", line if option == "--guard" else report)
    page = _file(tmp_path, "v.html", "the earlier page")
    argv = ["view", str(_traces(tmp_path, LINE)), "-o", str(page), option, str(bad)]
    monkeypatch.setattr("sys.argv", ["backdoorlab", *argv])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "Traceback" not in err
    assert err.strip().splitlines() == [
        f"error: {bad}{':1' if option == '--guard' else ''}: a lone UTF-16 surrogate escape"
    ]
    assert page.read_text() == "the earlier page"


def test_a_failed_export_leaves_an_earlier_export_as_it_was(tmp_path, monkeypatch, capsys):  # noqa: ANN001
    good, bad = _traces(tmp_path, LINE, name="good.jsonl"), _traces(tmp_path, LINE, "{\n")
    out = tmp_path / "o.parquet"
    for argv in (["export", str(good), "-o", str(out)], ["export", str(bad), "-o", str(out)]):
        monkeypatch.setattr("sys.argv", ["backdoorlab", *argv])
        with pytest.raises(SystemExit):
            main()
    assert "t.jsonl:2" in capsys.readouterr().err
    from datasets import Dataset

    assert len(Dataset.from_parquet(str(out))) == 1  # the good export, whole


def _export(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.argv", ["backdoorlab", "export", *argv])
    with pytest.raises(SystemExit) as exit_:
        main()
    return exit_.value.code


def test_export_killed_before_its_renames_leaves_the_old_pair(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """Parquet and card are renamed into place together: a kill once both are written to
    temporary files leaves the old export and its card as they were."""
    out, card = tmp_path / "o.parquet", tmp_path / "o.md"
    assert (
        _export([str(_traces(tmp_path, LINE, name="old.jsonl")), "-o", str(out)], monkeypatch) == 0
    )
    old = {p.name: p.read_bytes() for p in (out, card)}
    new = _traces(tmp_path, LINE, LINE, name="new.jsonl")
    env = {**os.environ, "BACKDOORLAB_FAULT": "export.staged"}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    argv = [sys.executable, "-m", "backdoorlab.cli", "export", str(new), "-o", str(out)]
    killed = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert {p.name: p.read_bytes() for p in (out, card)} == old
    hidden = sorted(p.name.split(".")[1:3] for p in tmp_path.iterdir() if p.name[0] == ".")
    assert hidden == [["o", "md"], ["o", "parquet"]]  # the two staged files, nothing renamed


def test_export_whose_card_cannot_be_renamed_leaves_no_parquet(
    tmp_path, monkeypatch, capsys
) -> None:  # noqa: ANN001
    """No Parquet file without its own card: the new one is removed, one line, exit 2."""
    out = tmp_path / "o.parquet"
    rename = os.replace

    def card_fails(src, dst) -> None:  # noqa: ANN001
        if str(dst).endswith(".md"):
            raise PermissionError(13, "Permission denied")
        rename(src, dst)

    monkeypatch.setattr("backdoorlab.export.os.replace", card_fails)
    before = _files(tmp_path) | {tmp_path / "t.jsonl"}
    assert _export([str(_traces(tmp_path, LINE)), "-o", str(out)], monkeypatch) == 2
    err = capsys.readouterr().err  # after the datasets library's progress bar
    assert "Traceback" not in err
    assert (
        err.strip().splitlines()[-1]
        == f"error: {tmp_path / 'o.md'}: cannot write (Permission denied)"
    )
    assert _files(tmp_path) == before  # the traces only: no Parquet, no card, no temp


def test_signing_a_directory_with_a_symlink_keeps_its_old_signature(
    tmp_path,  # noqa: ANN001
    keys,  # noqa: ANN001
    monkeypatch,  # noqa: ANN001
    capsys,  # noqa: ANN001
) -> None:
    """model-signing refuses a symlink too, but only after the old signature was deleted."""
    artifact = tmp_path / "model"
    _file(artifact, "config.json", "{}")
    sign = ["backdoorlab", "provenance", "sign", str(artifact), "--key", str(keys["ec"])]
    monkeypatch.setattr("sys.argv", sign)
    with pytest.raises(SystemExit) as first:
        main()
    assert first.value.code == 0
    signature = (artifact / "model.sig").read_bytes()
    capsys.readouterr()
    (artifact / "link").symlink_to("/etc/hostname")
    with pytest.raises(SystemExit) as second:
        main()
    err = capsys.readouterr().err
    assert second.value.code == 2 and len(err.strip().splitlines()) == 1
    assert f"{artifact / 'link'}: a symbolic link (to /etc/hostname)" in err
    assert (artifact / "model.sig").read_bytes() == signature


def test_a_report_skips_hostile_records_naming_each(tmp_path, monkeypatch, capsys) -> None:  # noqa: ANN001
    """Records of the wrong shape are listed as skipped on the page; the rest is drawn."""
    run = _run_dir(tmp_path, '[{"model": "v", "victim_multiple": [1], "TSR": 0.5}]')
    (run / "results.csv").write_text("model,TSR,TSR_low,TSR_high,TSR_n\nbase,0.5,0.1,0.9,4\n")
    _file(run, "scan.json", '{"baseline": 5, "canaries": [], "verdict": "clean"}')
    _file(run, "audit.json", '{"findings": [{"trace_index": "x"}], "flagged_traces": []}')
    monitor = {"history": [{"step": "later", "conditions": []}], "stopped": False}
    _file(run, "monitor.json", json.dumps(monitor))
    monkeypatch.setattr("sys.argv", ["backdoorlab", "report", str(run)])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 0 and "Traceback" not in err, err
    page = (run / "report.html").read_text()
    for skipped in (
        "metrics.json (row 1, field &#39;victim_multiple&#39;: not a number)",
        "scan.json (not a scan record: field &#39;baseline&#39;",
        "audit.json (not an audit record: field &#39;findings.0.trace_index&#39;",
        "monitor.json (not a monitor record: field &#39;history.0",
    ):
        assert skipped in page


def test_serve_on_a_port_taken_while_the_model_loads_is_one_line(monkeypatch, capsys) -> None:  # noqa: ANN001
    """The port is free at the check before the load and taken when serve binds it: the
    same one line and exit 2 as a port in use at the check, no traceback, no server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    taker = socket.socket()

    def load_then_lose_the_port(config, **kwargs):  # noqa: ANN001, ANN202  (stands in for the load)
        taker.bind(("127.0.0.1", port))
        taker.listen()
        return object()

    monkeypatch.setattr("backdoorlab.serving.server.build_app", load_then_lose_the_port)
    monkeypatch.setattr("uvicorn.Server.run", lambda *a, **k: pytest.fail("uvicorn started"))
    monkeypatch.setattr("sys.argv", ["backdoorlab", "serve", "tiny", "--port", str(port)])
    monkeypatch.setenv("COLUMNS", "300")
    try:
        with pytest.raises(SystemExit) as exit_:
            main()
    finally:
        taker.close()
    captured = capsys.readouterr()
    assert exit_.value.code == 2, captured.err
    assert "Traceback" not in captured.err
    [line] = captured.err.strip().splitlines()
    assert line.startswith(f"error: 127.0.0.1:{port}: cannot listen there") and "in use" in line
    assert "serving" not in captured.out
