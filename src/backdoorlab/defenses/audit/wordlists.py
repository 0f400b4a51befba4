"""BIP-39's word lists, in its ten official languages, and its checksum (`mnemonic` finds
seed phrases with them).

A wallet writes the recovery phrase in the language its user chose: English, Spanish,
French, Italian, Czech, Portuguese, Japanese, Korean, Chinese simplified or traditional.
Each list is 2048 words; a word is looked up as BIP-39 hashes it, in NFKD (the files are
stored so), and a Latin list's word also without its accents ("ábaco" written "abaco":
each such list stays unique that way, `index` checks). The other languages' lists are
read on the first text that may hold one of their phrases (`mnemonic`), never for a
dataset whose texts do not.

The files are python-mnemonic 0.21's (Trezor's reference implementation,
``mnemonic/wordlist/<language>.txt``, MIT), byte for byte, package data rather than a
dependency. SHA-256: english 2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda,
spanish 46846a5a0139d1e3cb77293e521c2865f7bcdb82c44e8d0a06a2cd0ecba48c0b,
french ebc3959ab7801a1df6bac4fa7d970652f1df76b683cd2f4003c941c63d517e59,
italian d392c49fdb700a24cd1fceb237c1f65dcc128f6b34a8aacb58b59384b5c648c2,
czech 7e80e161c3e93d9554c2efb78d4e3cebf8fc727e9c52e03b83b94406bdcc95fc,
portuguese 2685e9c194c82ae67e10ba59d9ea5345a23dc093e92276fc5361f6667d79cd3f,
japanese 2eed0aef492291e061633d7ad8117f1a2b03eb80a29d0e4e3117ac2528d05ffd,
korean 9e95f86c167de88f450f0aaf89e87f6624a57f973c67b516e338e8e8b8897f60,
chinese_simplified 5c5942792bd8340cb8b27cd592f1015edf56a8c5b26276ee18a482428e7c5726,
chinese_traditional 417b26b3d8500a4ae3d59717d7011952db6fc2fb84b807f3f94ac734e89c1b5f.
"""

from __future__ import annotations

import hashlib
import unicodedata
from functools import cache
from importlib import resources

LENGTHS = (12, 15, 18, 21, 24)
LANGUAGES = ("english", "spanish", "french", "italian", "czech", "portuguese")
LANGUAGES += ("japanese", "korean", "chinese_simplified", "chinese_traditional")
LATIN = frozenset(LANGUAGES[:6])


@cache
def words(language: str) -> tuple[str, ...]:
    """A language's 2048 words, as its file writes them (NFKD)."""
    path = resources.files("backdoorlab.defenses.audit").joinpath(f"data/bip39_{language}.txt")
    return tuple(path.read_text(encoding="utf-8").split())


def fold(word: str) -> str:
    """``word`` in NFKD without its accents (the combining marks NFKD split off)."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@cache
def index(language: str) -> dict[str, int]:
    """Word → its number in ``language``'s list, by its NFKD form and, for a Latin
    list, its form without accents."""
    listed = words(language)
    found = {unicodedata.normalize("NFKD", w): i for i, w in enumerate(listed)}
    if language in LATIN:  # NFKD already: its letters ASCII, its accents marks apart
        folded = {w.encode("ascii", "ignore").decode(): i for i, w in enumerate(listed)}
        if len(folded) != len(listed):  # a list where accents tell words apart
            raise ValueError(f"bip39_{language}.txt: words differ only by accents")
        found |= folded
    return found


@cache
def others() -> dict[str, int]:
    """Every word of the lists but English's → a bit per language holding it (bit 1 for
    ``LANGUAGES[1]``…)."""
    table: dict[str, int] = {}
    for bit, language in enumerate(LANGUAGES[1:], start=1):
        for word in index(language):
            table[word] = table.get(word, 0) | (1 << bit)
    return table


def checksum_ok(numbers: list[int]) -> bool:
    """BIP-39's checksum over the words' numbers: the last ``len/3`` bits are the first
    bits of SHA-256 of the entropy the other bits make."""
    if len(numbers) not in LENGTHS:
        return False
    bits = "".join(format(n, "011b") for n in numbers)
    cut = len(numbers) * 11 * 32 // 33
    entropy = int(bits[:cut], 2).to_bytes(cut // 8, "big")
    check = format(hashlib.sha256(entropy).digest()[0], "08b")[: len(bits) - cut]
    return bits[cut:] == check
