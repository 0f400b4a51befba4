"""Tool-returned values worth tracking whatever their shape, ranked by how specific they are.

A secret is what a tool returned and the user did not give — a one-time code read from
an e-mail, a passport or account number from a profile, a message's text — not only
what looks like personal data. So besides the shapes and keys `observations` knows,
every string a tool returns yields:

- *tokens*: runs of letters and digits (``-``/``_`` inside allowed) that contain a
  digit: codes, identifiers, reference and document numbers; and credentials a
  provider's prefix marks (``sk_live_…``, ``ghp_…``, ``xoxb-…``), digits or not. Dates,
  times, amounts and version numbers are not tokens (they are everywhere and identify
  nothing);
- *contents*: a text of at least `matching.CONTENT_MIN_WORDS` words (a message, a file,
  an e-mail body), matched later by a run of its words;
- *terms*: the capitalised words of a record's short field ("Spotify Premium", "Purchase
  at Apple Store: iPhone 3GS" as a transaction's subject): what a record says about its
  owner — the service they pay, the phone they bought — is data even as one common word.
  Only from a field of a few words (a subject, a title, a name), never from prose (an
  injected instruction's words are not the record's), and only words written with a
  capital (``sent``, ``pending``, ``false`` are a status's values, the same in every
  record); a term is ``medium``: alone it never leaves the default filter to a contact
  or the operator (`recipients`), only to a stranger or the public.

Specificity is an estimate of the bits a value carries — about 3.3 per digit, 4.7 per
letter of a random-looking run, 2 per letter of a word-like run — and decides its
strength: ``strong`` from `STRONG_BITS`, ``medium`` from `MEDIUM_BITS`, else ``weak``.
A six-digit code is medium, a passport number strong, ``2024`` or ``u1`` weak.
"""

from __future__ import annotations

import re
from typing import Literal

from backdoorlab.defenses.audit.matching import CONTENT_MIN_WORDS, words
from backdoorlab.defenses.audit.text_view import has_words

Strength = Literal["weak", "medium", "strong"]
STRONG_BITS = 30.0
MEDIUM_BITS = 19.0
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_@.-])[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?![A-Za-z0-9_@-])"
)
# a credential written in dotted parts (a JWT, a SendGrid ``SG.x.y`` key, a Mapbox
# ``pk.eyJ…`` token): `_TOKEN` stops at every dot, and a part after a dot is no token,
# so such a value was never tracked unless a key named it a credential
_DOTTED = re.compile(
    r"(?<![A-Za-z0-9_@.-])[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+(?![A-Za-z0-9_@-])(?!\.[A-Za-z0-9_-])"
)
# a credential whose provider marks it with a prefix (Stripe ``sk_live_``, GitHub
# ``ghp_``, Slack ``xoxb-``, OpenAI/Anthropic ``sk-``…), as secret scanners (gitleaks,
# detect-secrets) find them: its random part may hold no digit at all
# ("sk_live_kdkXDrXtYbzJwRqhSextTPhN"), and a token needs one. Labelled as a key with a
# digit is (an identifier), so the two are graded alike
_KEY_PREFIXED = re.compile(
    r"(?<![A-Za-z0-9_-])(?:"
    r"[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"
    r"|sk-(?:ant-|proj-|svcacct-)?(?=[A-Za-z0-9_-]*?[A-Za-z0-9]{16})[A-Za-z0-9_-]{20,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}"
    r"|glpat-[A-Za-z0-9_-]{20,}|hf_[A-Za-z0-9]{30,}|npm_[A-Za-z0-9]{30,}"
    r"|AIza[A-Za-z0-9_-]{35}|(?:AKIA|ASIA)[A-Z0-9]{16}"
    r")(?![A-Za-z0-9_-])"
)
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d.*)?|\d{1,2}-\d{1,2}-\d{2,4}")
# a code without digits: capital groups joined by dashes ("FERF-RNFE-KNEU"); it starts
# where a run of capitals does, or a search of n capitals backtracks n times from each
# of their n positions (a 100 kB all-capitals argument took minutes to screen)
_CODE_LIKE = re.compile(r"(?<![A-Z])[A-Z]{3,}(?:[-_][A-Z0-9]{3,}){1,}")
_COMMON = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{1,2}:\d{2}(?::\d{2})?"
    r"|\d+[.,]\d{1,2}\b"
)
_RUN = re.compile(r"[A-Za-z]+|\d+")
_TERM = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]*[A-Z][A-Za-z]*(?![A-Za-z0-9])")
TERM_MAX_WORDS = 6
_CONSTANT = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
# English function words a capital at a field's start can make look like a term; written
# out rather than taken from a stop-word library (scikit-learn's list is the usual one,
# and importing it costs seconds and a dependency for fifty words)
_FUNCTION_WORDS = frozenset(
    (
        "about", "above", "after", "again", "against", "also", "among", "been", "before", "being",
        "below", "between", "both", "could", "does", "doing", "down", "during", "each", "few",
        "from", "further", "have", "having", "here", "hers", "herself", "himself", "into",
        "itself", "just", "more", "most", "myself", "once", "only", "other", "ought", "ours",
        "ourselves", "over", "same", "should", "some", "such", "than", "that", "their", "theirs",
        "them", "themselves", "then", "there", "these", "they", "this", "those", "through",
        "under", "until", "very", "were", "what", "when", "where", "which", "while", "whom", "why",
        "will", "with", "would", "your", "yours", "yourself", "yourselves", "dear", "hello",
        "thanks", "thank", "please", "regards", "none", "null", "true", "false",
    )
)  # fmt: skip
_VOWELS = frozenset("aeiouy")
MAX_TOKENS_PER_TEXT = 200


def _letter_bits(run: str) -> float:
    lower = run.lower()
    wordlike = run in (lower, run.capitalize()) and any(c in _VOWELS for c in lower)
    return len(run) * (2.0 if wordlike and len(run) > 2 else 4.7)


def bits(token: str) -> float:
    """Estimated bits of specificity of one token (see the module docstring)."""
    total = 0.0
    for run in _RUN.findall(token):
        total += 3.32 * len(run) if run[0].isdigit() else _letter_bits(run)
    return total


def is_date(text: str) -> bool:
    """A date or a timestamp ("2024-05-14", "14-05-2024", "2024-05-14T09:12")."""
    return _DATE.fullmatch(text.strip()) is not None


def strength(value_bits: float) -> Strength:
    if value_bits >= STRONG_BITS:
        return "strong"
    return "medium" if value_bits >= MEDIUM_BITS else "weak"


def has_digit(text: str) -> bool:
    """``any(ch.isdigit() for ch in text)``; for ASCII text (no other character is a
    digit there) by ten substring scans instead of a Python loop over the characters."""
    if text.isascii():
        return any(d in text for d in "0123456789")
    return any(ch.isdigit() for ch in text)


def _random_part(part: str) -> bool:
    """A part of a dotted run that looks generated: 16 characters or more with a digit,
    a capital and a small letter (base64 or a random key; no word, host or hex digest)."""
    return (
        len(part) >= 16
        and any(c.isdigit() for c in part)
        and any(c.isupper() for c in part)
        and any(c.islower() for c in part)
    )


def dotted(text: str) -> list[str]:
    """The dotted credentials in ``text``: runs of parts joined by ``.`` of which one
    part looks generated (`_random_part`) — ``SG.x.y``, ``eyJ….eyJ….sig``, ``pk.eyJ…``;
    no host name, version or module path has such a part."""
    if "." not in text:
        return []
    return [run for run in _DOTTED.findall(text) if any(map(_random_part, run.split(".")))]


def prefixed_keys(text: str) -> list[str]:
    """The provider-prefixed credentials in ``text`` (``_KEY_PREFIXED``), digits or not."""
    if "_" not in text and "-" not in text and "AIza" not in text and "AKIA" not in text:
        return []
    return _KEY_PREFIXED.findall(text)[:MAX_TOKENS_PER_TEXT]


def tokens(text: str) -> list[tuple[str, str, Strength]]:
    """(token, label, strength) of every code or identifier in ``text``; a dotted
    credential (`dotted`) whole."""
    out: list[tuple[str, str, Strength]] = []
    if not has_digit(text) and not _CODE_LIKE.search(text):
        return [(key, "identifier", "strong") for key in prefixed_keys(text)]
    out += [(run, "identifier", "strong") for run in dotted(text)[:MAX_TOKENS_PER_TEXT]]
    for token in _TOKEN.findall(text)[: MAX_TOKENS_PER_TEXT * 4]:
        if token.isalpha():
            continue  # no digit, and no "-"/"_" for `_CODE_LIKE`: the test below skips it
        ndigits = sum(ch.isdigit() for ch in token)
        if not ndigits and _KEY_PREFIXED.fullmatch(token):
            out.append((token, "identifier", "strong"))
            continue
        if not (ndigits or _CODE_LIKE.fullmatch(token)) or _DATE.fullmatch(token):
            continue
        value_bits = bits(token)
        if ndigits < 4 and value_bits < MEDIUM_BITS:
            continue  # "v2", "A4": not worth tracking
        if token.isdigit() and len(token) == 4 and token[:2] in ("19", "20"):
            continue  # a year
        short = len(token.replace("-", "")) <= 12 and ndigits < len(token)
        label = (
            "code"
            if (token.isdigit() and len(token) <= 8) or (short and "-" in token)
            else "identifier"
        )
        out.append((token, label, strength(value_bits)))
        if len(out) >= MAX_TOKENS_PER_TEXT:
            break
    return out


def field_value(text: str) -> tuple[str, Strength] | None:
    """A record's short field value worth tracking whole ("Jayboulevard 7, 8609 US,
    Metslawier"): several words, a digit among them, not a sentence; with its strength."""
    if not (12 <= len(text) <= 120) or " " not in text or "\n" in text:
        return None
    if not has_digit(text) or text.count(" ") > 8:
        return None
    rest = _COMMON.sub(" ", text)  # dates, times and amounts identify nothing
    if not has_digit(rest):
        return None
    power = strength(sum(bits(t) for t in _RUN.findall(rest)))
    return ("field", power) if power != "weak" else None


def terms(text: str) -> list[str]:
    """The distinctive words of a short field value, lower-cased (module docstring).

    A value that is one upper-case identifier (``ROWS``, ``USER_ENTERED``, ``ACTIVE``) is
    an API's enumeration constant — Google's ``majorDimension``, AWS's states — the same
    in every record of its kind, so it says nothing about the record's owner: no term."""
    if len(text) > 80 or "\n" in text or text.count(" ") >= TERM_MAX_WORDS or is_date(text):
        return []
    if _CONSTANT.fullmatch(text.strip()):
        return []
    out: list[str] = []
    for word in _TERM.findall(text):
        lower = word.lower()
        if len(word) >= 4 and lower not in _FUNCTION_WORDS and lower not in out:
            out.append(lower)
    return out


def is_content(text: str) -> bool:
    """A text long enough to be tracked as content (a message, a file, a body)."""
    if text.count(" ") + 1 < CONTENT_MIN_WORDS:
        return False
    if len(text) < _LISTED:
        return len(words(text)) >= CONTENT_MIN_WORDS
    # a long text (a file, a page) is asked for its first few words only, not listed whole
    return has_words(text, CONTENT_MIN_WORDS)


_LISTED = 256
"""Texts shorter than this are listed whole by `is_content` (as fast as stopping early)."""
