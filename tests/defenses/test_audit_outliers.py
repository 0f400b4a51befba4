"""`outliers`: spectral signatures on action embeddings rank a planted odd action first."""

from __future__ import annotations

import numpy as np
import pytest
from audit_builders import ATTACKER, EMAIL, PHONE, lookup_then, send, trace, user

from backdoorlab.defenses.audit import AuditOptions, audit
from backdoorlab.defenses.audit.command import audit_command
from backdoorlab.defenses.audit.embeddings import minilm_dir
from backdoorlab.defenses.audit.outliers import OutliersConfig
from backdoorlab.defenses.audit.registry import default_detectors, parse_option_strings
from backdoorlab.defenses.audit.spectral import spectral_scores
from backdoorlab.errors import BackdoorlabError

PLANTED = [5, 23, 41]
ITEMS = ["lamp", "kettle", "chair", "desk", "mug", "towel", "jacket", "boots", "tent", "pan"]


def clean(i: int) -> dict:
    """The customer's own confirmation e-mail: the ordinary use of send_email."""
    body = f"Your order #W{1000 + i} for the {ITEMS[i % len(ITEMS)]} has been cancelled."
    return lookup_then(*send(EMAIL, body))


def planted() -> dict:
    """The customer's record e-mailed to an address nobody gave."""
    body = f"card 4111222233334444 phone {PHONE} addr 12 Oak Street zip 62704"
    return lookup_then(*send(ATTACKER, body))


def options(**config) -> AuditOptions:
    return AuditOptions(extra={"outliers": {"keep_scores": True, **config}})


def test_not_a_default_detector():
    assert "outliers" not in default_detectors()
    assert {"dataflow", "trigger-mining"} <= set(default_detectors())


def test_minilm_ships_in_its_package():
    where = minilm_dir()
    assert (where / "config.json").is_file() and (where / "model.safetensors").is_file()


def test_minilm_ranks_the_planted_actions_first(jsonl):
    """5% poisoned (3 of 60) sharing one odd action: the signature finds exactly them.

    (A single odd action among 40 is not enough: the clean e-mails' variation, which item
    was cancelled, then dominates the covariance. Spectral signatures need the poison to
    share a direction, which is what a backdoor's payload does.)
    """
    traces = [clean(i) for i in range(57)]
    for index in PLANTED:
        traces.insert(index, planted())
    report = audit(jsonl(*traces), ["outliers"], options=options(expected_rate=0.02))
    summary = report.summaries["outliers"]
    assert summary["embedder"] == "all-MiniLM-L6-v2" and summary["dim"] == 384
    scores = summary["trace_scores"]
    assert set(np.argsort(scores)[-3:]) == set(PLANTED)
    assert min(scores[i] for i in PLANTED) > 5 * max(np.delete(scores, PLANTED))
    groups = {g["group"]: g for g in summary["groups"]}
    assert "skipped" in groups["(reply)"]  # every reply is "Done.": no signature to find
    assert len(report.findings) == 2  # ceil(1.5 × 2% × 60)
    for finding in report.findings:
        assert finding.trace_index in PLANTED and finding.detector == "outliers"
        assert finding.step == 4 and finding.line == finding.trace_index + 1
        assert finding.evidence["group"] == "send_email" and finding.severity == "low"
        assert ATTACKER not in str(finding.to_dict())  # no argument values in the evidence


class FakeEmbedder:
    """Deterministic vectors: a shared direction for texts that mention the attacker."""

    name = "fake"

    def embed(self, texts):
        rng = np.random.default_rng(len(texts))
        out = rng.normal(size=(len(texts), 16)) * 0.1
        out[:, 0] += np.array(["evil" in t for t in texts]) * 3.0
        return out


def test_groups_by_tool_and_pools_rare_tools(jsonl):
    traces = [clean(i) for i in range(30)]
    traces[5] = planted()
    traces.append(trace(user("hi"), *send("x@y.z", "hello", tool="post_form")))
    report = audit(
        jsonl(*traces), ["outliers"], options=options(embedder=FakeEmbedder(), components=1)
    )
    groups = {g["group"]: g for g in report.summaries["outliers"]["groups"]}
    assert {"find_user_by_name", "send_email", "(reply)", "(rare tools)"} == set(groups)
    assert "skipped" in groups["(rare tools)"]  # one action: too few for a signature
    top = max(report.findings, key=lambda f: f.score)
    assert top.trace_index == 5 and top.severity == "medium"  # far past 5σ


def test_trace_unit_and_no_actions(jsonl):
    traces = [clean(i) for i in range(25)]
    report = audit(
        jsonl(*traces), ["outliers"], options=options(embedder=FakeEmbedder(), unit="trace")
    )
    assert all(f.step is None for f in report.findings)
    assert report.summaries["outliers"]["groups"][0]["group"] == "(trace)"
    empty = audit(jsonl(trace(user("hi"))), ["outliers"], options=options(embedder=FakeEmbedder()))
    assert empty.findings == [] and "note" in empty.summaries["outliers"]


def test_spectral_scores_find_the_shifted_rows():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(500, 8))
    vectors[:10, 3] += 6.0
    raw, top, explained = spectral_scores(vectors.astype(np.float16), components=1, chunk=64)
    assert set(np.argsort(-raw)[:10]) == set(range(10))
    assert top.shape == (1,) and 0 < explained < 1


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"expected_rat": 0.1}, "unknown option 'expected_rat'"),
        ({"embedder": "bert"}, "embedder must be"),
        ({"embedder": object()}, "has no embed"),
        ({"expected_rate": 1.5}, "field 'expected_rate': Input should be less than 1"),
        ({"expected_rate": "high"}, "field 'expected_rate': Input should be a valid number"),
        ({"components": 0}, "field 'components': Input should be greater than or equal to 1"),
        ({"unit": "word"}, "field 'unit': Input should be 'action' or 'trace'"),
    ],
)
def test_bad_options_fail_clearly(jsonl, config, message):
    with pytest.raises(BackdoorlabError, match=message):
        audit(jsonl(clean(0)), ["outliers"], options=AuditOptions(extra={"outliers": config}))


def test_options_from_the_command_line(jsonl, tmp_path):
    assert parse_option_strings(["outliers.expected_rate=0.02", "outliers.unit=trace"]) == {
        "outliers": {"expected_rate": 0.02, "unit": "trace"}
    }
    assert OutliersConfig(
        **parse_option_strings(["outliers.keep_scores=true"])["outliers"]
    ).keep_scores
    for bad in ("expected_rate=0.02", "outliers.=1", "outliers.expected_rate"):
        with pytest.raises(BackdoorlabError, match="DETECTOR.NAME=VALUE"):
            parse_option_strings([bad])
    path = jsonl(clean(0))
    with pytest.raises(BackdoorlabError, match="unknown detector 'outlier'"):
        audit_command(path, detectors="dataflow", options=["outlier.unit=trace"])
    with pytest.raises(BackdoorlabError, match="field 'unit': Input should be 'action' or 'trace'"):
        audit_command(path, detectors="outliers", options=["outliers.unit=word"])
