"""A blockchain's public values and the private keys beside them, told apart.

A wallet's address (``0x`` and 40 hex digits, ``bc1…``, a Solana base58 public key), its
extended public key (``xpub…``) and a transaction's hash are published on the chain
for anyone to read: a user sends their address to whoever pays them, a bot posts a
transaction's hash as its receipt. Tracked as identifiers, each such send was a "leak"
(an address the records' ``address`` key even made a street address). So a value is
not tracked when its key names a public value (`public_key`) or its shape is one only a
public value has (`public_shape`: a 40-hex address, a bech32 address, an ``xpub``); a
64-hex value by shape alone may be a private key, and stays tracked.

A private key written ``0x…`` is sent without its prefix as often as with it (a wallet
import field wants the bare hex): `bare_hex` is that second spelling.
"""

from __future__ import annotations

import re
from functools import lru_cache

from backdoorlab.defenses.audit import patterns

_PUBLIC_SHAPE = re.compile(
    r"0x[0-9a-fA-F]{40}"  # an EVM address (EIP-55 mixed case too)
    r"|(?:bc|tb|ltc)1[02-9ac-hj-np-z]{25,87}"  # a bech32 / bech32m address
    r"|[xyzt]pub[1-9A-HJ-NP-Za-km-z]{100,112}"  # BIP-32 extended public key
)
_PUBLIC_WORDS = frozenset(("address", "addr", "pubkey", "xpub", "ypub", "zpub", "txid"))
_PUBLIC_JOINED = frozenset(("publickey", "txhash"))  # a last pair or one word ("Publickey")
_PUBLIC_PAIRS = frozenset((("transaction", "hash"), ("block", "hash")))
_PUBLIC_PAIRS |= {("tx", "id"), ("transaction", "id")}
_HEX_KEY = re.compile(r"0[xX][0-9a-fA-F]{64}")
_LOOKS_CHAIN = re.compile(r"[0-9A-Za-z]{26,}")


def public_shape(token: str) -> bool:
    """A value only a public chain value looks like (module docstring)."""
    return len(token) >= 28 and token[0] in "0btlxyz" and _PUBLIC_SHAPE.fullmatch(token) is not None


@lru_cache(maxsize=4096)
def public_key(key: str | None) -> bool:
    """Whether a key names an address, a public key, an ``xpub`` or a transaction's hash
    (``walletAddress``, ``publicKey``, ``txHash``, ``BTC_ADDRESS``)."""
    if not key:
        return False
    tokens = patterns.name_tokens(key)
    if not tokens or any(t in ("private", "secret", "seed", "mnemonic") for t in tokens):
        return False
    if tokens[-1] in _PUBLIC_WORDS or "".join(tokens[-2:]) in _PUBLIC_JOINED:
        return True
    return tuple(tokens[-2:]) in _PUBLIC_PAIRS or tokens == ("hash",)


def public(key: str | None, value: str) -> bool:
    """A public chain value: its shape says so, or its key does and it is one run of
    26 or more letters and digits, as every address, key and hash is (never a street
    address under an ``address`` key: that has spaces)."""
    if len(value) < 26:
        return False  # shorter than any address, key or hash
    value = value.strip()
    if public_shape(value):
        return True
    return public_key(key) and _LOOKS_CHAIN.fullmatch(value) is not None


def bare_hex(value: str) -> str | None:
    """A ``0x``-prefixed 64-hex private key's bare hex, else None."""
    value = value.strip()
    return value[2:] if _HEX_KEY.fullmatch(value) else None
