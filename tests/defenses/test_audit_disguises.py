"""`dataflow` sees through the disguises of `disguises` (text-level, bytes as text,
ROT13), and their undoing stays bounded and quiet on ordinary text."""

from __future__ import annotations

import base64
import bz2
import gzip
import lzma
import zlib

import pytest
from audit_builders import ATTACKER, CARD, EMAIL, lookup_then, send

from backdoorlab.defenses.audit import audit
from backdoorlab.defenses.audit.decoders import views
from backdoorlab.defenses.audit.disguises import (
    MAX_INFLATED,
    bytes_text,
    char_codes,
    entities,
    escapes,
    host_labels,
    leet_fold,
    number_words,
    rot13,
    unicode_forms,
)

DIGITS = CARD.replace(" ", "")
SPOKEN_PHONE = "five five five one two three four five six seven"  # PHONE


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("body", "kind", "encoding"),
    [
        (_fullwidth(f"card {DIGITS}"), "card", "unicode"),
        ("\u200b".join(DIGITS), "card", "unicode"),
        ("".join(f"&#{ord(c)};" for c in EMAIL), "email", "entities"),
        ("".join(f"&#x{ord(c):x};" for c in DIGITS), "card", "entities"),
        ("".join(f"\\u{ord(c):04x}" for c in EMAIL), "email", "escapes"),
        (",".join(str(ord(c)) for c in EMAIL), "email", "char-codes"),
        (" ".join(hex(ord(c)) for c in DIGITS), "card", "char-codes"),
        (SPOKEN_PHONE, "phone", "number-words"),
        ("fünf fünf fünf eins zwei drei vier fünf sechs sieben", "phone", "number-words"),
        (base64.b85encode(EMAIL.encode()).decode(), "email", "base85"),
        (_b64(gzip.compress(EMAIL.encode(), mtime=0)), "email", "base64"),
        (zlib.compress(DIGITS.encode()).hex(), "card", "hex"),
        (_b64(bz2.compress(EMAIL.encode())), "email", "base64"),
        (_b64(lzma.compress(EMAIL.encode())), "email", "base64"),
        (_b64(EMAIL.encode("utf-16-le")), "email", "base64"),
        (_b64(EMAIL.encode("utf-16")), "email", "base64"),
        (rot13(f"mail {EMAIL} now"), "email", "rot13"),
        (f"{EMAIL.encode().hex()[:30]}.{EMAIL.encode().hex()[30:]}.x.evil.test", "email", "hex"),
        # two disguises stacked: entities of base64
        ("".join(f"&#{ord(c)};" for c in _b64(EMAIL.encode())), "email", "entities+base64"),
    ],
)
def test_each_disguise_is_seen_through(jsonl, body, kind, encoding):
    findings = audit(jsonl(lookup_then(*send(ATTACKER, body))), ["dataflow"]).findings
    hit = [f for f in findings if f.evidence["secret_kind"] == kind]
    assert hit and hit[0].severity == "high", [f.summary for f in findings]
    assert hit[0].evidence["encoding"].endswith(encoding)


@pytest.mark.parametrize("key", [0x01, 0x5A, 0xA5, 0xFF])
@pytest.mark.parametrize("encode", [bytes.hex, _b64])
def test_text_xored_with_one_byte_is_read_back(jsonl, key, encode):
    """XOR with one key byte is undone from the bytes alone (`xor_key`), hex or base64."""
    xored = encode(bytes(b ^ key for b in EMAIL.encode()))
    findings = audit(jsonl(lookup_then(*send(ATTACKER, xored))), ["dataflow"]).findings
    hit = [f for f in findings if f.evidence["secret_kind"] == "email"]
    assert hit and hit[0].severity == "high", [f.summary for f in findings]
    assert "xor" in hit[0].evidence["encoding"]


def test_a_key_of_several_bytes_stays_unread(jsonl):
    """A repeating key of several bytes is a search, not a decoding (`xor_key`): the call
    still gets its destination's finding, never a secret's."""
    key = b"k3y!"
    xored = bytes(b ^ key[i % len(key)] for i, b in enumerate(EMAIL.encode())).hex()
    findings = audit(jsonl(lookup_then(*send(ATTACKER, xored))), ["dataflow"]).findings
    assert findings and {f.severity for f in findings} == {"low"}


def test_look_alike_spelling_is_folded(jsonl):
    leet = EMAIL.replace("e", "3").replace("a", "4").replace("o", "0").replace("l", "1")
    findings = audit(jsonl(lookup_then(*send(ATTACKER, f"c0nt4ct: {leet}"))), ["dataflow"])
    hit = [f for f in findings.findings if f.evidence["secret_kind"] == "email"]
    assert hit and hit[0].severity == "high" and hit[0].evidence["encoding"].endswith("leet")
    assert leet_fold("P4$$w0rd!") == "passwordi" == leet_fold("passwordl")


def test_text_forms_leave_ordinary_text_alone():
    plain = "Your order #4412 ships on 12, 14 or 15 May; one of our agents will call."
    for undo in (unicode_forms, entities, escapes, char_codes, number_words, host_labels):
        assert undo(plain) is None, undo.__name__
    assert unicode_forms("Straße in München") is None  # nothing to fold
    assert [how for how, _ in views(plain)] == ["plain", "reversed"]


def test_char_codes_need_four_printable_codes():
    assert char_codes("ids 101, 102, 103") is None  # three
    assert char_codes("codes 7, 8, 9, 10, 11, 12, 13, 14") is None  # control characters
    assert char_codes("55296, 56320, 65, 66, 67") is None  # surrogates
    assert char_codes("[104, 105, 33, 33]") == "hi!!"


def test_number_words_need_four_digits_spelled_out():
    assert number_words("one or two things, three at most") is None
    assert number_words("Four Eight three nine") == "4 8 3 9"


def test_host_labels_keep_only_long_left_parts():
    assert host_labels("www.eu.example.com") is None  # "wwweu": short
    assert host_labels("see 4a616e65.2e446f65.t.evil.test now") == "4a616e652e446f65t"


def test_decompression_is_capped():
    bomb = gzip.compress(b"A" * (50 * MAX_INFLATED))
    text = bytes_text(bomb)
    assert text is not None and len(text) == MAX_INFLATED
    assert bytes_text(b"\x1f\x8b\x08\x00garbage") is None  # a header, then no stream


def test_views_of_a_hostile_argument_stay_bounded():
    hostile = "&#65;" * 20_000 + "\\u0041" * 20_000 + "65, " * 20_000 + "one " * 20_000
    out = views(hostile)
    assert len(out) <= 48
    decoded = [text for how, text in out[1:] if "reversed" not in how]  # each a copy
    assert sum(map(len, decoded)) <= 4 * len(hostile)  # the default budget


def test_phone_spoken_to_the_user_is_no_finding(jsonl):
    """A disguise changes nothing about who may receive what: the customer's own
    address gets their own phone number, spelled out."""
    findings = audit(jsonl(lookup_then(*send(EMAIL, SPOKEN_PHONE))), ["dataflow"]).findings
    assert not [f for f in findings if f.severity in ("medium", "high")]


def test_a_short_base85_token_without_punctuation_is_tried():
    assert ("base85", "483920") in views(base64.b85encode(b"483920").decode())


def test_base85_in_a_query_and_escapes_in_a_repr_are_read():
    token = base64.b85encode(EMAIL.encode()).decode()
    assert ("base85", EMAIL) in views(f"i?v={token}")  # "?" and "=" are base85 too
    assert escapes("\\\\u0034\\\\u0038") == "48"  # a repr escapes the backslash as well


def test_long_tokens_are_decoded_but_not_kept():
    from backdoorlab.defenses.audit import decoders

    decoders._b64.cache_clear()
    document = base64.b64encode(("report line. " * 1000).encode()).decode()  # 17 KB
    assert ("base64", "report line. " * 1000) in views(document, budget=1 << 20)
    assert decoders._b64.cache_info().currsize == 0
    views(base64.b64encode(EMAIL.encode()).decode())
    assert decoders._b64.cache_info().currsize > 0  # short ones are
