"""`audit_command`: exit codes, the JSON report, `--filter` with its manifest, bad input."""

from __future__ import annotations

import gzip
import hashlib
import json

import pytest
from audit_builders import ATTACKER, CARD, EMAIL, lookup_then, send
from rich.console import Console

from backdoorlab.defenses.audit import audit
from backdoorlab.defenses.audit.command import audit_command
from backdoorlab.errors import BackdoorlabError, TraceFormatError, UnknownNameError

LEAK = lookup_then(*send(ATTACKER, f"card {CARD}"))
STRANGER = lookup_then(*send(ATTACKER, "Your order is cancelled."))  # low only
CLEAN = lookup_then(*send(EMAIL, "Your order is cancelled."))


def run(path, **kwargs):
    quiet = Console(file=open("/dev/null", "w"), width=200)  # noqa: SIM115
    return audit_command(path, console=quiet, err_console=quiet, **kwargs)


@pytest.mark.parametrize(
    ("traces", "fail_on", "code"),
    [
        ((CLEAN, LEAK), "high", 1),
        ((CLEAN, LEAK), "medium", 1),
        ((CLEAN, LEAK), "none", 0),
        ((CLEAN,), "low", 0),
        ((CLEAN, STRANGER), "low", 1),
        ((CLEAN, STRANGER), "medium", 0),
        ((CLEAN, STRANGER), "high", 0),
    ],
)
def test_fail_on_sets_the_exit_code(jsonl, traces, fail_on, code):
    assert run(jsonl(*traces), fail_on=fail_on, detectors="dataflow") == code


def test_bad_options_are_clear_errors(jsonl):
    path = jsonl(CLEAN)
    with pytest.raises(BackdoorlabError, match="--fail-on must be one of"):
        run(path, fail_on="critical")
    with pytest.raises(UnknownNameError, match="unknown detector 'sniffer'"):
        run(path, detectors="dataflow,sniffer")


def test_report_json_is_written(jsonl, tmp_path):
    out = tmp_path / "out" / "report.json"
    run(jsonl(CLEAN, LEAK, CLEAN), output=out)
    report = json.loads(out.read_text())
    assert report["traces"] == 3
    assert report["detectors"] == ["dataflow", "trigger-mining"]
    assert {f["trace_index"] for f in report["findings"]} == {1}
    assert report["finding_counts"]["dataflow"]["high"] >= 1
    assert report["max_severity"] == "high"
    assert CARD.replace(" ", "") not in out.read_text()  # secrets are masked


def test_filter_copies_kept_lines_byte_for_byte(tmp_path):
    # odd but valid spellings: key order, spacing, unicode, unknown fields, a blank line
    lines = [
        json.dumps(CLEAN, indent=None, separators=(",", ":"))[:-1] + ',"zz":"ünïcødé ✓"}',
        json.dumps(LEAK),
        "",
        json.dumps({"extra": [1, 2.50, None], **CLEAN}, ensure_ascii=False),
        json.dumps(LEAK, separators=(", ", " : ")),
        json.dumps(CLEAN),  # last line without a newline
    ]
    source = tmp_path / "in.jsonl"
    source.write_bytes(("\n".join(lines)).encode("utf-8"))
    clean = tmp_path / "clean.jsonl"
    code = run(source, filter_path=clean, fail_on="none", detectors=["dataflow"])
    assert code == 0
    kept = clean.read_bytes().split(b"\n")
    assert kept == [lines[0].encode(), lines[3].encode(), lines[5].encode(), b""]
    manifest = json.loads((tmp_path / "clean.jsonl.manifest.json").read_text())
    assert [r["index"] for r in manifest["removed"]] == [1, 3]
    assert [r["line"] for r in manifest["removed"]] == [2, 5]
    assert manifest["removed"][0]["detectors"] == ["dataflow"]
    assert "card" in manifest["removed"][0]["why"][0]
    assert manifest["input_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert manifest["output_sha256"] == hashlib.sha256(clean.read_bytes()).hexdigest()
    assert (manifest["traces_in"], manifest["traces_kept"], manifest["traces_removed"]) == (5, 3, 2)


def test_filter_refuses_to_overwrite_its_input(jsonl):
    path = jsonl(CLEAN, LEAK)
    with pytest.raises(BackdoorlabError, match="must not overwrite"):
        run(path, filter_path=path)


def test_gzip_input_is_read(tmp_path):
    path = tmp_path / "t.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(CLEAN) + "\n" + json.dumps(LEAK) + "\n")
    report = audit(path, ["dataflow"])
    assert report.traces == 2 and {f.trace_index for f in report.findings} == {1}
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (b'{"messages": [}', r"t\.jsonl:3: not valid JSON"),
        (b'{"tools": []}', r"t\.jsonl:3: no 'messages' field"),
        (b'{"messages": [{"role": "wizard"}]}', r"t\.jsonl:3: field 'messages\.0\.role'"),
        (b'{"messages": []} \xff', r"t\.jsonl:3: not valid UTF-8"),
        (b"[1, 2]", r"t\.jsonl:3: expected a JSON object"),
    ],
)
def test_malformed_input_names_file_and_line(tmp_path, bad, message):
    path = tmp_path / "t.jsonl"
    path.write_bytes(json.dumps(CLEAN).encode() + b"\n\n" + bad + b"\n" + json.dumps(LEAK).encode())
    with pytest.raises(TraceFormatError, match=message):
        run(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(TraceFormatError, match="no such file"):
        run(tmp_path / "absent.jsonl")


def test_default_detectors_without_importing_the_model_loading_ones():
    from backdoorlab.defenses.audit.registry import _MODEL_LOADING, DETECTORS, default_detectors

    assert {name for name, cls in DETECTORS.items() if not cls.default} == _MODEL_LOADING
    assert default_detectors() == [name for name, cls in DETECTORS.items() if cls.default]


@pytest.mark.parametrize("last_newline", [True, False])
def test_filter_copies_runs_as_the_per_line_copy_does(tmp_path, last_newline):
    """A plain file's kept lines are written in runs sliced from each block read; a
    gzipped one's line by line. Both must write the same bytes — on blank, whitespace
    and Unicode-whitespace lines, CRLF ends, lines longer than a block (1 MiB) across
    block edges, flagged first and last lines."""
    from backdoorlab.defenses.audit.filtering import _copy_lines, _HashingWriter

    long = json.dumps({**CLEAN, "pad": "x" * (3 << 20)})  # spans four blocks
    lines = [
        json.dumps(LEAK),
        "",
        "   ",
        "\u00a0\u2003",
        json.dumps(CLEAN) + "\r",
        long,
        " " + json.dumps(CLEAN),
        "\t",
        json.dumps(CLEAN),
        long,
        json.dumps(LEAK),
    ] * 3 + [json.dumps(CLEAN)]
    body = "\n".join(lines) + ("\n" if last_newline else "")
    plain, packed = tmp_path / "in.jsonl", tmp_path / "in.jsonl.gz"
    plain.write_bytes(body.encode("utf-8"))
    packed.write_bytes(gzip.compress(body.encode("utf-8")))
    flagged = [1, 11, 12, 20, len(lines)]  # by line number, blank lines counted

    def copy(source, sha):
        out = tmp_path / "out.bin"
        with open(out, "wb") as raw:
            counts = _copy_lines(source, _HashingWriter(raw), iter(flagged), sha)
        return counts, out.read_bytes()

    runs = copy(plain, hashlib.sha256(plain.read_bytes()).hexdigest())
    per_line = copy(packed, hashlib.sha256(packed.read_bytes()).hexdigest())
    assert runs == per_line
    blank = {i + 1 for i, line in enumerate(lines) if not line.strip()}
    expected = [ln for i, ln in enumerate(lines) if i + 1 not in blank | set(flagged)]
    assert runs[1] == "".join(line + "\n" for line in expected).encode("utf-8")
    assert runs[0] == (len(expected), len(flagged))
