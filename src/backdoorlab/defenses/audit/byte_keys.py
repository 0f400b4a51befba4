"""A secret key printed as its bytes: a Solana keypair file, a ``Uint8Array``, a ``[u8; 32]``.

``solana-keygen new`` writes ``~/.config/solana/id.json`` as a JSON array of the
keypair's 64 bytes (the ed25519 seed, then the public key); a script prints its
``Keypair.secretKey`` (a ``Uint8Array``) or a Rust ``[u8; 32]`` the same way. Phantom
exports those 64 bytes base58-encoded, and a script may hex them: an agent that leaks
the key may send any of the three.

The rule: a list of 32 or 64 integers 0-255 is a secret key only when its context says
so — a key naming one (``secretKey``, ``privateKey``, ``keypair``, ``seed``, ``signer``),
the file it was read from being a keypair's (``id.json``, ``*keypair*.json``), or in a
text such a word just before it (``const secretKey = Uint8Array.from([…])``,
``SOLANA_PRIVATE_KEY=[…]``). Never by its shape alone: 64 pixel values, a list of
scores or a configuration's 32 flags look the same. Nor a list of fewer than eight
different bytes (a placeholder of zeros).

`forms` is what is tracked, each a strong credential: the numbers (a text needle reads
them as their digits in a row, whatever separates them), base58 and hex of the bytes,
and for a 64-byte keypair the same of its first 32, the seed — never of its last 32,
the public key, whose base58 is the wallet's address. `from_base58` reads the other
way: a credential that is base58 of 32 or 64 bytes (Phantom's export) is tracked as
its numbers and hex too.
"""

from __future__ import annotations

import re
from functools import lru_cache

from backdoorlab.defenses.audit import patterns

SIZES = (32, 64)
_KEY_WORDS = frozenset(("secret", "private", "priv", "keypair", "seed", "signer", "sk"))
_KEY_FILE = re.compile(r"(?:^|[\\/\s\"'=:])(?:id|[\w.-]*key[-_]?pair[\w.-]*)\.json\b", re.I)
_ARRAY = re.compile(r"\[\s*((?:\d{1,3}\s*,\s*){31,63}\d{1,3})\s*,?\s*\]")
_TEXT_WORDS = re.compile(r"secret|priv|key_?pair|seed|signer", re.I)
_BEFORE = 48  # how far before an array in a text its naming word may be
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


def key_file(arguments: str) -> bool:
    """Whether a call's ``arguments`` name a keypair's file (``id.json``, ``*keypair*.json``)."""
    return ".json" in arguments and _KEY_FILE.search(arguments) is not None


@lru_cache(maxsize=1024)
def key_name(key: str | None) -> bool:
    """Whether a field's name names a secret key or a keypair (``secretKey``, ``keypair``)."""
    if not key:
        return False
    tokens = patterns.name_tokens(key.rpartition(".")[2].split("[", 1)[0])
    return not _KEY_WORDS.isdisjoint(tokens) or "keypair" in "".join(tokens)


def from_list(items: list[object], key: str | None, in_key_file: bool) -> bytes | None:
    """The key a JSON list is, when it is 32 or 64 bytes its context names a key."""
    if len(items) not in SIZES or not (in_key_file or key_name(key)):
        return None
    if not all(type(x) is int and 0 <= x <= 255 for x in items):  # type: ignore[operator]
        return None
    found = bytes(items)  # type: ignore[arg-type]
    return found if len(set(found)) >= 8 else None


def in_text(text: str, key: str | None, in_key_file: bool) -> list[bytes]:
    """The keys written in a text as arrays of 32 or 64 numbers, each named as one by
    ``key``, the file or a word just before it."""
    if text.count(",") < SIZES[0] - 1 or "[" not in text:
        return []
    found = []
    for match in _ARRAY.finditer(text):
        numbers = [int(n) for n in match.group(1).replace(" ", "").split(",")]
        before = text[max(match.start() - _BEFORE, 0) : match.start()]
        named = in_key_file or key_name(key) or _TEXT_WORDS.search(before) is not None
        if named and (key_bytes := from_list(numbers, None, True)) is not None:  # type: ignore[arg-type]
            found.append(key_bytes)
    return found


def forms(key: bytes) -> list[str]:
    """The spellings of ``key`` tracked (module docstring)."""
    parts = [key, key[:32]] if len(key) == 64 else [key]
    return [
        form
        for part in parts
        for form in ("[" + ",".join(map(str, part)) + "]", b58(part), part.hex())
    ]


def b58(data: bytes) -> str:
    """Bitcoin's base58 (Solana's keys and addresses): leading zero bytes as ``1``."""
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, digit = divmod(number, 58)
        out.append(_B58[digit])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def from_base58(value: str) -> bytes | None:
    """The 32 or 64 bytes a base58 credential encodes (Phantom's export), else None."""
    value = value.strip()
    if not 43 <= len(value) <= 88 or any(c not in _B58_INDEX for c in value):
        return None
    number = 0
    for c in value:
        number = number * 58 + _B58_INDEX[c]
    zeros = len(value) - len(value.lstrip("1"))
    size = (number.bit_length() + 7) // 8 + zeros
    if size not in SIZES:
        return None
    return number.to_bytes(size, "big")
