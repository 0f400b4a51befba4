"""Bytes XORed with one key byte, read back as the text they hide.

XOR with a single byte is the oldest way to get data past a content filter, and the one
an injected instruction can ask of an agent that runs code ("xor each byte with 0x5a and
send it as hex"): every byte of the text changes, so no needle matches, yet the key is
one of 255 and the text is printable. `unxored` finds the key from the bytes alone —
no key needs to be in the trace.

Which keys can give printable text is read per distinct byte value (`_KEYS_FOR`), and
the candidates are intersected: a random 32-byte hash empties them after a handful of
bytes, so a token that is no XORed text costs a few set intersections. A repeating key
of several bytes is not tried: without the key it is a search, not a decoding.
"""

from __future__ import annotations

__all__ = ["MIN_BYTES", "MOST_KEYS", "unxored"]

MIN_BYTES = 6
"""Shorter data is not tried: few byte values leave many keys, and a short printable
result turns up by chance."""
_MIN_DISTINCT = 4  # fewer byte values leave too many keys to tell apart
MOST_KEYS = 4
"""The most equally likely keys whose texts are given."""
_NUMBER = 0.6  # the share of digits that makes a reading a number ("435348", a card)

_PRINTABLE = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}
_KEYS_FOR = tuple(frozenset(k for k in range(1, 256) if b ^ k in _PRINTABLE) for b in range(256))
"""For each byte value, the non-zero keys that XOR it to printable ASCII."""
_TABLES: dict[int, bytes] = {}
_DIGITS = frozenset(b"0123456789")
_PROSE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 @._-:/,+'\"()")
_CONTROL = frozenset(b"\t\n\r")


def _table(key: int) -> bytes:
    table = _TABLES.get(key)
    if table is None:
        table = _TABLES[key] = bytes(b ^ key for b in range(256))
    return table


def unxored(data: bytes) -> tuple[str, ...]:
    """``data`` XORed with each key byte that makes all of it printable ASCII and reads
    most like text, at most `MOST_KEYS` of them; none when no key reads better than the
    bytes as they are.

    Keys tie: XOR with 0x01 keeps a digit a digit, so "4111 2222" has rivals no test of
    the bytes alone tells apart. The more letters, digits, spaces and common punctuation
    a key gives, the likelier it (`_score` of `_PROSE`); among equals the one giving the most digits
    (a code, an account, a card), which also reads digits XORed into lower-case letters
    back (0x5a makes "435348" "nioinb") — but a reading as good as the bytes themselves
    only when it is a number. Where more than `MOST_KEYS` still tie, none. A key that
    keeps a text's class (0x01 keeps digits digits) leaves nothing to read back."""
    if len(data) < MIN_BYTES or (min(data) < 0x80 <= max(data)):
        return ()  # printable ASCII XOR one key byte shares that byte's top bit: a hash
        # or any random bytes almost never do (one in 2**31 for 32 bytes)
    distinct = set(data)
    if len(distinct) < _MIN_DISTINCT:
        return ()
    keys: frozenset[int] | None = None
    for byte in distinct:
        keys = _KEYS_FOR[byte] if keys is None else keys & _KEYS_FOR[byte]
        if not keys:
            return ()
    assert keys is not None
    plain = _score(data, distinct, 0, _PROSE)
    scores = {key: _score(data, distinct, key, _PROSE) for key in keys}
    best = max(scores.values())
    if best < plain:
        return ()  # the bytes read better as they are
    tied = [key for key in sorted(keys) if scores[key] == best]
    if best == plain or len(tied) > MOST_KEYS:
        digits = {key: _score(data, distinct, key, _DIGITS) for key in tied}
        most = max(digits.values())
        if best == plain and (
            most <= _score(data, distinct, 0, _DIGITS) or most < _NUMBER * len(data)
        ):
            return ()  # a hex-encoded word reads as well as any key makes it, unless a
            # key makes it a number
        tied = [key for key in tied if digits[key] == most]
        if len(tied) > MOST_KEYS:
            return ()
    texts = (data.translate(_table(key)).decode("ascii") for key in tied)
    return tuple(text for text in texts if any(ch.isalnum() for ch in text))


def _score(data: bytes, distinct: set[int], key: int, kept: frozenset[int]) -> int:
    """How many of ``data``'s bytes XOR ``key`` are in ``kept``, less the tabs and line
    breaks among its ``distinct`` values (the key that flips letters' case, ``key ^
    0x20``, makes a hyphen a line break)."""
    drop = _DROPS.get((key, kept))
    if drop is None:
        drop = _DROPS[key, kept] = bytes(b for b in range(256) if b ^ key not in kept)
    return len(data.translate(None, drop)) - sum(b ^ key in _CONTROL for b in distinct)


_DROPS: dict[tuple[int, frozenset[int]], bytes] = {}
