"""The audit's exact shortcuts give what the long way gives, on the cases where they
must not cut: base32 as one integer parse, token scans skipped without a base64 run,
tokens with a break never looked for inside a URL's run, content counted early, other
scripts' letters dropped before the ASCII ones are kept."""

from __future__ import annotations

import base64
import binascii
import itertools
import re

from backdoorlab.defenses.audit import decoders, owners, values
from backdoorlab.defenses.audit.ascii_fast import alnum
from backdoorlab.defenses.audit.disguises import bytes_text
from backdoorlab.defenses.audit.text_view import words


def _b32_long_way(token: str) -> str | None:
    token = token.rstrip("=").upper()
    try:
        return bytes_text(base64.b32decode(token + "=" * (-len(token) % 8)))
    except (binascii.Error, ValueError):
        return None


def test_base32_parse_is_b32decode_for_every_length_case_and_alphabet() -> None:
    plain = "card 4471 9920 3345 0012, expires 09/27 — ÄÖÜ"
    tokens = []
    for n in range(1, 30):
        encoded = base64.b32encode(plain.encode()[:n]).decode()
        tokens += [encoded, encoded.rstrip("="), encoded.lower(), encoded.rstrip("=")[:-1]]
        tokens += [encoded.rstrip("=")[:-k] for k in (2, 3)]
    tokens += ["MZXW6YTB01", "MZXW6YTBı", "MZXW6YTB89", "", "========", "mzxw6ytboi======"]
    decoded = [decoders._b32.__wrapped__(t) for t in tokens]
    assert decoded == [_b32_long_way(t) for t in tokens]
    assert plain[:20] in decoded  # the test decodes real text, not only refusals


def test_hex_and_base32_still_found_when_the_only_run_is_theirs() -> None:
    hexed = "card=" + b"4471 9920 3345".hex()
    b32 = "x " + base64.b32encode(b"4471 9920 3345").decode()
    assert ("hex", b"4471 9920 3345".hex()) in decoders._tokens(hexed)
    assert any(name == "base32" for name, _ in decoders._tokens(b32))
    assert decoders._tokens("ab/cd ef=gh+ij") == []  # no run of 8: nothing to decode
    assert decoders._tokens("short") == []


def test_glued_skips_only_tokens_no_run_can_hold() -> None:
    text = "see https://hooks.example.com/T0/`s3cr3t-tok`/x and 12 Main St, Springfield"
    found = list(owners.glued(text, ["`s3cr3t-tok`", "12 main st", "t0"]))
    assert ("`s3cr3t-tok`", "hooks.example.com") in found  # a "`" may sit in a URL
    assert ("t0", "hooks.example.com") in found
    assert all(token != "12 main st" for token, _ in found)


def test_content_counts_words_of_a_long_text_as_a_short_one() -> None:
    cases = ["x" * 300 + " a b c d e", "x" * 300 + " a b c d", "- " * 200 + "one two"]
    cases += [" ".join(w) for w in itertools.product(["Ab", "1"], repeat=6)][:3]
    for text in cases:
        expected = text.count(" ") + 1 >= 6 and len(words(text)) >= 6
        assert values.is_content(text) is expected
    assert values.is_content(cases[0]) and not values.is_content(cases[1])


def test_alnum_of_other_scripts_is_the_expression_s() -> None:
    texts = ["İstanbul Cd. 12", "\u212a-9 Ｋ１", "Straße 5, München", "湯本塩原19丁目24番1号"]
    texts += ["\ud800 lone surrogate 7", "Ωμέγα 0x1F"]
    for text in texts:
        assert alnum(text) == re.sub(r"[^0-9a-z]+", "", text.lower())
    assert alnum("\u212a-9 Ｋ１") == "k9"  # the Kelvin sign lower-cases to an ASCII "k"


def _b64_long_way(token: str) -> str | None:
    token = token.rstrip("=")
    token = token[:-1] if len(token) % 4 == 1 else token
    decode = base64.urlsafe_b64decode if "-" in token or "_" in token else base64.b64decode
    try:
        return bytes_text(decode(token + "=" * (-len(token) % 4))) or None
    except (binascii.Error, ValueError):
        return None


def test_base64_without_the_wrappers_is_b64decode() -> None:
    raw = ["Grüße, card 4471 9920".encode(), "hi there".encode("utf-16"), bytes(range(250, 256))]
    tokens = ["", "é" * 8, "abc$defgh", "QUJD\u00e9REVG"]
    for data in raw:
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            for n in range(1, len(data) + 1):
                token = encode(data[:n]).decode()
                tokens += [token, token.rstrip("="), token.rstrip("=") + "x"]
    decoded = [decoders._b64.__wrapped__(t) for t in tokens]
    assert decoded == [_b64_long_way(t) for t in tokens]
    assert "Grüße, card 4471 9920" in decoded and "hi there" in decoded
