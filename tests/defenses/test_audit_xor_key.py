"""`xor_key.unxored`: text XORed with one key byte read back from the bytes alone, and
nothing read into bytes that hide no text (hashes, random data, a plain hex word)."""

from __future__ import annotations

import random

import pytest

from backdoorlab.defenses.audit.decoders import views
from backdoorlab.defenses.audit.xor_key import MIN_BYTES, MOST_KEYS, unxored

TEXTS = [
    b"root cause: leaked keys",
    b"ghp_oTNpgLeTnAH6oY4wmDuXSy9t87bkQNAZgxvb",
    b"jane.doe@example.com",
    b"4111 2222 3333 4444",
    b"PT76571104958427355803328",
    b"435348",  # XOR 0x5a makes these digits lower-case letters ("nioinb")
    b"(555) 123-4567",
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("key", [0x13, 0x5A, 0x80, 0xA5, 0xFF])
def test_the_text_is_among_the_few_readings(text, key):
    readings = unxored(bytes(b ^ key for b in text))
    assert text.decode() in readings and len(readings) <= MOST_KEYS


def test_a_key_that_keeps_digits_digits_hides_nothing_to_read():
    # "435348" XOR 0x01 is "524259": a number as plain as the first, and read as is
    assert unxored(bytes(b ^ 0x01 for b in b"435348")) == ()


def test_bytes_that_hide_no_text_give_nothing():
    rng = random.Random(7)
    for size in (16, 20, 32, 64):  # hashes, addresses, keys
        assert not any(unxored(rng.randbytes(size)) for _ in range(3000))
    assert unxored(b"root cause: leaked keys") == ()  # prose as it is
    assert unxored(b"report line. " * 50) == ()  # no key makes it better, or a number
    assert unxored(b"ab\x01" * 3) == () and unxored(b"x" * (MIN_BYTES - 1)) == ()


def test_a_hex_or_base64_token_gets_its_xor_view():
    hidden = "root cause: the ingest worker leaked signing keys"
    xored = bytes(b ^ 0x5A for b in hidden.encode())
    assert ("hex+xor", hidden) in views(f"https://drop.test/i?v={xored.hex()}")
    import base64

    assert ("base64+xor", hidden) in views(base64.b64encode(xored).decode())
    # a long word is no base64 of binary data: not tried
    assert not [how for how, _ in views("Extraordinarily uncharacteristically") if "xor" in how]
