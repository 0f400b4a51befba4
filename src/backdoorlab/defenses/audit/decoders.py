"""The disguises a secret may wear inside a call's argument, undone with bounded work.

`views` turns one argument into the texts worth searching: the argument itself, its
URL-decoding, the pieces of a URL (path segments and query values, a segment's file
suffix dropped: ``https://host/p/<urlsafe-b64>.gif``), every token that decodes as
base64 (standard or URL-safe, padded or not), base32, base85 or hex — into UTF-8, UTF-16
or a compressed stream (`disguises.bytes_text`), or text XORed with one key byte
(`xor_key`, from hex and base64-looking tokens) — the text-level disguises of
`disguises.TEXT_FORMS` (Unicode look-alikes and invisible characters, HTML entities,
literal escapes, character codes, spelled-out digits, data in DNS labels), recursively
(a double encoding: base64 of hex, URL-encoded base64, entities of base64…), and the
reversed text of each.

`backdoorlab.leaks.decoded_views` knows some of these for the leak predicate our own
environments use; the audit reads other people's traces, whose disguises are not ours,
so it has this wider set — with a budget, because an argument is attacker-controlled:
at most ``MAX_VIEWS`` views and ``budget`` characters of decoded text per argument
(a 1 MB argument costs a few passes over 1 MB, never a blow-up), and at most
``MAX_TOKENS`` tokens tried per view, longest first.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from backdoorlab.defenses.audit.disguises import TEXT_FORMS, bytes_text
from backdoorlab.defenses.audit.xor_key import MIN_BYTES, unxored

MAX_DEPTH = 3
MAX_VIEWS = 48
MAX_TOKENS = 24
_MIN_TOKEN = 8

# a run of the base64 alphabets (both), stopped by '/', '.', '=' so that URL path
# segments and file suffixes split it; padding allowed at the end
# a short one padded too: a four-digit PIN is six characters and "==" ("NDgyMQ==")
_B64 = re.compile(r"[A-Za-z0-9+_-]{8,}={0,2}|[A-Za-z0-9+_-]{6,7}={1,2}")
_B64_SLASHED = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")  # standard base64 has '/' in it
_B32 = re.compile(r"(?:[A-Z2-7]{8,}|[a-z2-7]{8,})=*")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2}){4,}")
# base85 (RFC 1924, Python's and git's): a run of its alphabet with at least one
# character neither base64 alphabet has — a base64 token or a word is no candidate
_B85 = re.compile(r"[0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]{8,}")
_B85_ONLY = re.compile(r"[!#$%&()*;<>?@^`{|}~]")
_SHORT_B85 = 15
_B85_CUTS = 3
TOKENS_CACHED = 8192
"""A token's decoding is a pure function of the token, and tokens recur across traces
(a long word, an id, the same encoded payload): each decoder keeps this many results."""
CACHED_TOKEN_CHARS = 4096
"""Only tokens up to this long are cached: a long one (a document sent as base64) is
rarely seen twice, and 8,192 cached decodings of 100 KB each would be 800 MB."""


_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _b64_bytes(token: str) -> bytes | None:
    """`base64.b64decode` of the token padded (`urlsafe_b64decode` when it has a "-" or
    "_"), called as those two do, without their wrappers: most tokens are words that
    decode to no text, and the wrappers were half the cost of finding that out."""
    token = token.rstrip("=")
    if len(token) % 4 == 1:
        token = token[:-1]  # a stray character glued on; what precedes still decodes
    padded = token + "=" * (-len(token) % 4)
    try:
        data = padded.encode("ascii")  # as `base64` refuses other text: a ValueError
        if "-" in token or "_" in token:
            data = data.translate(_URLSAFE)
        return binascii.a2b_base64(data)
    except (binascii.Error, ValueError):
        return None


@lru_cache(maxsize=TOKENS_CACHED)
def _b64(token: str) -> str | None:
    data = _b64_bytes(token)
    return (bytes_text(data) or None) if data is not None else None


_B32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_DIGITS = str.maketrans(_B32_ALPHABET, "0123456789abcdefghijklmnopqrstuv")
_B32_DROP = str.maketrans("", "", _B32_ALPHABET)
_B32_LENGTHS = frozenset((0, 2, 4, 5, 7))
"""A base32 text's lengths modulo 8, padding left out: 8 characters are 5 bytes, and 2,
4, 5 or 7 the last 1 to 4; `base64.b32decode` refuses any other (after decoding it)."""


@lru_cache(maxsize=TOKENS_CACHED)
def _b32(token: str) -> str | None:
    """What `base64.b32decode` gives of the token padded, as one C-speed integer parse:
    that decoder is a Python loop per 8 characters, and most tokens are long words.
    The same bytes: ``n`` characters are ``5n`` bits, the first ``5n // 8`` bytes of
    which it keeps (the bits left over dropped, never checked); a character outside the
    alphabet it refuses."""
    token = token.rstrip("=").upper()
    if len(token) % 8 not in _B32_LENGTHS or not token.isascii() or token.translate(_B32_DROP):
        return None
    bits = 5 * len(token)
    value = int(token.translate(_B32_DIGITS), 32) if token else 0
    return bytes_text((value >> (bits % 8)).to_bytes(bits // 8, "big"))


@lru_cache(maxsize=TOKENS_CACHED)
def _hex(token: str) -> str | None:
    return bytes_text(bytes.fromhex(token))


@lru_cache(maxsize=TOKENS_CACHED)
def _xor_hex(token: str) -> tuple[str, ...]:
    """A hex token's bytes XORed with the one key byte that makes them prose (`xor_key`)."""
    return unxored(bytes.fromhex(token))


@lru_cache(maxsize=TOKENS_CACHED)
def _xor_b64(token: str) -> tuple[str, ...]:
    """The same of a base64 token's bytes (`_xored_by` says which tokens are tried)."""
    if not any(ch.isdigit() for ch in token):
        return ()
    data = _b64_bytes(token)
    return unxored(data) if data else ()


_MIN_XOR_HEX = 2 * MIN_BYTES
_MIN_XOR_B64 = 12
_B64_MARK = re.compile(r"[+/=_-]")


def _xored_by(name: str, token: str) -> Any:
    """The XOR reading to try on a ``name`` token, if any (tested here, before a cached
    call hashes the token): a hex token of `xor_key.MIN_BYTES` bytes or more, or one that
    looks like base64 of binary data — with a character of base64's own ("+", "/", "=",
    or URL-safe "-", "_"), which a word, a name or a base58 address or key never has."""
    if name == "hex":
        return _xor_hex if len(token) >= _MIN_XOR_HEX else None
    if name == "base64" and len(token) >= _MIN_XOR_B64 and _B64_MARK.search(token):
        return _xor_b64
    return None


@lru_cache(maxsize=TOKENS_CACHED)
def _b85(token: str) -> str | None:
    if len(token) % 5 == 1:
        return None  # no base85 text has that length
    try:
        return bytes_text(base64.b85decode(token))
    except ValueError:
        return None


def _mixed(token: str) -> bool:
    """Alphanumeric with letters in both cases."""
    return token.isalnum() and not (token.isdigit() or token.islower() or token.isupper())


def _tokens(text: str) -> list[tuple[str, str]]:
    """(decoder, token) candidates in ``text``, longest first, at most ``MAX_TOKENS``."""
    if len(text) < _MIN_TOKEN:
        return []  # every token is at least that long
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    # without a '/' every `_B64_SLASHED` match is also a `_B64` one (the same maximal
    # run of the same alphabet), already in ``seen``: skipping it changes nothing; and
    # base32 and hex tokens are runs of 8 or more characters of base64's alphabet, so
    # without a `_B64` run there are none
    runs = _B64.findall(text)
    scans = [("base64", runs)]
    if "/" in text:
        scans.append(("base64", _B64_SLASHED.findall(text)))
    if runs:
        scans.append(("base32", _B32.findall(text)))
    for name, found in scans:
        for token in found:
            if (name, token) not in seen:
                seen.add((name, token))  # type: ignore[arg-type]
                out.append((name, token))
    for token in _HEX.findall(text) if runs else ():
        out.append(("hex", token))
    if _B85_ONLY.search(text):
        for token in _B85.findall(text):
            if _B85_ONLY.search(token):
                out.append(("base85", token))
                # "?", "&" and "=" are base85 too: a query ("i?v=<base85>") is one run,
                # so what follows each of its first few delimiters is tried as well
                cuts = [i + 1 for i, ch in enumerate(token[:64]) if ch in "?&="][:_B85_CUTS]
                out += [("base85", token[i:]) for i in cuts if len(token) - i >= 8]
    # a short secret's base85 often has none of those characters ("H8eOmI57" is six
    # bytes): short alphanumeric runs are tried as base85 too — those in both cases; a word
    # or a number in one case (base85 of 6+ bytes almost never is) is not
    out += [
        ("base85", t)
        for n, t in out
        if n == "base64" and len(t) <= _SHORT_B85 and _mixed(t.rstrip("="))
    ]
    out.sort(key=lambda item: -len(item[1]))
    return out[:MAX_TOKENS]


_DECODERS = {"base64": _b64, "base32": _b32, "hex": _hex, "base85": _b85}


def _decodings(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if "%" in text or "+" in text:
        unquoted = unquote_plus(text)
        if unquoted != text:
            found.append(("url", unquoted))
    for name, undo in TEXT_FORMS:
        undone = undo(text)
        if undone:
            found.append((name, undone))
    for name, token in _tokens(text):
        if len(token) < _MIN_TOKEN:
            continue
        decode = _DECODERS[name]
        # a long token (a document sent as base64) is decoded, but not kept
        cached = len(token) <= CACHED_TOKEN_CHARS
        decoded = decode(token) if cached else decode.__wrapped__(token)
        if decoded and decoded != token:
            found.append((name, decoded))
        xored = _xored_by(name, token)  # perhaps text XORed with a byte (printable or not)
        if xored is not None:
            hidden = xored(token) if cached else xored.__wrapped__(token)
            found += [(f"{name}+xor", text) for text in hidden]
    return found


_IN_PLACE_MIN = 12
"""A token decoded in place (`decoded_in_place`) is this long at least: a piece of a
secret in base64 is a dozen characters, a word of the text around it is rarely one."""


@lru_cache(maxsize=1024)
def decoded_in_place(text: str) -> str | None:
    """``text`` with each base64 token that decodes to text replaced by its decoding, in
    place; None when none does. Why: a secret cut in halves, each half encoded on its
    own and sent in its own call (two documents' ``documentBase64``), is whole only
    once each call's text is decoded where it stands and the calls are joined — the
    joined text's tokens decode one by one, each to half (`split_calls`). Bounded as
    `views` is: ``MAX_TOKENS`` tokens, each cached as `_b64` caches them."""
    if len(text) > CACHED_TOKEN_CHARS * 4:
        return None
    out, last, changed = [], 0, 0
    for found in _B64_SLASHED.finditer(text) if "/" in text else _B64.finditer(text):
        token = found.group(0)
        if len(token) < _IN_PLACE_MIN or len(token) > CACHED_TOKEN_CHARS:
            continue
        decoded = _b64(token)
        if not decoded or decoded == token:
            continue
        out += [text[last : found.start()], decoded]
        last, changed = found.end(), changed + 1
        if changed >= MAX_TOKENS:
            break
    return "".join(out) + text[last:] if changed else None


def views(text: str, budget: int | None = None) -> list[tuple[str, str]]:
    """``text`` and its decodings as (how, text), each reversed too; bounded work.

    ``how`` names the path: ``plain``, ``base64``, ``url+base64``, ``reversed``,
    ``base64+reversed``… ``budget`` caps the decoded characters (default: four times
    the argument, at least 64 KiB).
    """
    budget = budget if budget is not None else max(4 * len(text), 1 << 16)
    out: list[tuple[str, str]] = [("plain", text)]
    seen = {text}
    frontier = [("plain", text)]
    spent = 0
    for _ in range(MAX_DEPTH):
        nxt: list[tuple[str, str]] = []
        for how, value in frontier:
            for name, decoded in _decodings(value):
                if decoded in seen or len(out) >= MAX_VIEWS or spent + len(decoded) > budget:
                    continue
                seen.add(decoded)
                spent += len(decoded)
                path = name if how == "plain" else f"{how}+{name}"
                out.append((path, decoded))
                nxt.append((path, decoded))
        frontier = nxt
        if not frontier:
            break
    # written backwards, plainly or before an encoding (the reversed text decoded too)
    for how, value in list(out):
        if len(out) >= MAX_VIEWS:
            break
        backwards = value[::-1]
        if backwards not in seen:
            seen.add(backwards)
            out.append(("reversed" if how == "plain" else f"{how}+reversed", backwards))
    if len(out) < MAX_VIEWS and len(text) <= budget // 2:
        for name, decoded in _decodings(text[::-1]):
            if decoded not in seen and len(out) < MAX_VIEWS:
                seen.add(decoded)
                out.append((f"reversed+{name}", decoded))
    return out
