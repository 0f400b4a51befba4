"""Disguises of text as text, and of bytes that are not plain UTF-8, undone cheaply.

`decoders` finds the encoded tokens of an argument (base64, base32, hex, base85) and
URL-encoding; this module has the rest, each a pure function that returns the undone
text or None, each tried only when a cheap test says the text may wear it:

- `unicode_forms`: compatibility characters folded (NFKC: full-width ``４８３``, ligatures,
  circled and super-script digits) and invisible format characters dropped (zero-width
  spaces and joiners, soft hyphens, direction marks: ``4\\u200b8\\u200b3``);
- `entities`: HTML and XML character references (``&#52;&#56;``, ``&#x34;``, ``&amp;``);
- `escapes`: literal escape sequences (``\\u0034\\u0038``, ``\\x34``), as a JSON or source
  string would carry them once more;
- `char_codes`: a list of character codes (``52,56,51,57``, ``0x34 0x38 …``);
- `number_words`: digits spelled out (``four eight three``, ``vier acht drei``) in the
  languages of `NUMBER_WORDS`;
- `spelled.spelled_out`: a value read out in the NATO spelling alphabet, case, digit
  and symbol words (``capital kilo, seven, hash`` → ``K7#``), as a help desk spells a
  password;
- `spoken.dates` and `spoken.letters`: a date said as a voice says it ("March third,
  nineteen eighty-one") and a name spelled letter by letter (``E-S-T-R-A-D-A``), as a
  TTS script or a callback's notes carry them;
- `mnemonic.words_view`: a seed phrase's words in a row (``1) orbit 2) velvet``, one a
  line, two numbered columns);
- `bracketed_at`: e-mail addresses written against harvesters (``jane [at] acme [dot]
  com``) as the addresses they are;
- `amounts.written_out`: amounts written short (``1.25M``, ``185k``, ``48.7 million``)
  as their digits;
- `host_labels`: the labels of a long host name joined (``3438.3339.x.evil.net``): data
  smuggled out through DNS look-ups sits in the labels left of the registered domain;
- `bytes_text`: bytes a decoder produced, read as text — UTF-8, UTF-16 (either byte
  order), or gzip/zlib/bzip2/xz-compressed first, the decompressed size capped at
  `MAX_INFLATED`;
- `rot13`: letters rotated by 13 (matched on the needle's side, `matching`, since it
  leaves every digit and the length alone);
- `leet_fold`: look-alike spellings (``p4$$w0rd``) — not undone (which ``1`` was an
  ``i``, which an ``l``?) but folded: digits and symbols to the letter they stand for,
  ``l`` with ``i``, on the needle's side and the argument's alike (`matching`).

Not undone, on purpose: anything keyed (XOR, encryption) — a payload nobody can read
without the key is judged by its destination alone (`recipients`, ``invented``), not by
its content.
"""

from __future__ import annotations

import bz2
import codecs
import html
import lzma
import re
import unicodedata
import zlib

from backdoorlab.defenses.audit.amounts import written_out
from backdoorlab.defenses.audit.ascii_fast import alnum, only_digits
from backdoorlab.defenses.audit.mnemonic import words_view
from backdoorlab.defenses.audit.spelled import spelled_out
from backdoorlab.defenses.audit.spoken import dates as spoken_dates
from backdoorlab.defenses.audit.spoken import letters as spelled_letters

MAX_INFLATED = 4096
"""Decompressed bytes read at most from one token. A small token may be a bomb, and each
decoder keeps `decoders.TOKENS_CACHED` results: 8,192 crafted 100-byte tokens would have
held 8,192 × the cap in memory (512 MiB at 64 KiB). A secret is far shorter."""

# every character of Unicode 14's category Cf (format: zero-width, joiners, direction
# marks, soft hyphen, tags…), as ranges: one substitution, not a lookup per character
_FORMAT = re.compile(
    "["
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"
    "]"
)
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# any number of backslashes before the letter: a repr or JSON escapes the backslash too
_ESCAPE = re.compile(r"\\+(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|U([0-9a-fA-F]{8}))")
_NUM = r"(?:0[xX][0-9a-fA-F]{1,6}|[0-9]{2,7})"  # one code, decimal or 0x-hex
_SEP = r"(?:[ \t]*[,;][ \t]*|[ \t]+)"
_CODES = re.compile(rf"(?<![\w.]){_NUM}(?:{_SEP}{_NUM}){{3,}}(?![\w.])")
_CODE = re.compile(r"0[xX][0-9a-fA-F]{1,6}|[0-9]{2,7}")
_HOST = re.compile(r"(?<![\w.-])(?:[A-Za-z0-9-]{1,63}\.){3,}[A-Za-z]{2,24}(?![\w-])")
_MIN_CODES = 4
_MIN_NUMBER_WORDS = 4

NUMBER_WORDS: dict[str, int] = {}
"""Spelled-out digits → their value, in English, German, French, Spanish, Italian,
Portuguese and Dutch (the locales our foreign test data speak)."""
for _words in (
    "zero one two three four five six seven eight nine",
    "null eins zwei drei vier fünf sechs sieben acht neun",
    "zéro un deux trois quatre cinq six sept huit neuf",
    "cero uno dos tres cuatro cinco seis siete ocho nueve",
    "zero uno due tre quattro cinque sei sette otto nove",
    "zero um dois três quatro cinco seis sete oito nove",
    "nul een twee drie vier vijf zes zeven acht negen",
):
    for _value, _word in enumerate(_words.split()):
        NUMBER_WORDS.setdefault(_word, _value)
NUMBER_WORDS |= {"oh": 0, "ein": 1, "une": 1}
_DIGIT_NAMES = frozenset(NUMBER_WORDS)
_LETTERS = re.compile(r"[^\W\d_]+")


def unicode_forms(text: str) -> str | None:
    """``text`` folded by NFKC, format characters (category Cf) dropped; None if ASCII
    or unchanged."""
    if text.isascii():
        return None
    folded = _FORMAT.sub("", unicodedata.normalize("NFKC", text))
    return folded if folded != text else None


def entities(text: str) -> str | None:
    """``text`` with its HTML character references resolved, or None."""
    if "&" not in text or not _ENTITY.search(text):
        return None
    resolved = html.unescape(text)
    return resolved if resolved != text else None


def escapes(text: str) -> str | None:
    """``text`` with literal ``\\uXXXX``, ``\\xXX`` and ``\\UXXXXXXXX`` escapes undone."""
    if "\\" not in text:
        return None

    def char(m: re.Match[str]) -> str:
        code = int(m.group(1) or m.group(2) or m.group(3), 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else m.group(0)

    undone = _ESCAPE.sub(char, text)
    return undone if undone != text else None


def char_codes(text: str) -> str | None:
    """Every run of at least four character codes in ``text`` spelled as the characters
    (runs joined by a space), or None when no run reads as printable text."""
    if sum(map(text.count, " ,;\t")) < _MIN_CODES - 1 or len(only_digits(text[:4096])) < 8:
        return None
    found = []
    for run in _CODES.finditer(text):
        codes = [int(c, 16) if c[1:2] in "xX" else int(c) for c in _CODE.findall(run.group(0))]
        if len(codes) < _MIN_CODES or not all(32 <= c <= 0x10FFFF for c in codes):
            continue
        if any(0xD800 <= c <= 0xDFFF for c in codes):
            continue
        spelled = "".join(map(chr, codes))
        if spelled.isprintable():
            found.append(spelled)
    return " ".join(found) or None


def number_words(text: str) -> str | None:
    """``text`` with spelled-out digits written as digits (``four eight`` → ``4 8``),
    when it has at least four of them; else None."""
    if sum(map(text.count, " ,-\n")) < _MIN_NUMBER_WORDS - 1:
        return None  # four words need three separators: a base64 blob has none
    spelled = _LETTERS.findall(text.lower())
    if sum(map(_DIGIT_NAMES.__contains__, spelled)) < _MIN_NUMBER_WORDS:
        return None
    return _LETTERS.sub(lambda m: str(NUMBER_WORDS.get(m.group(0).lower(), m.group(0))), text)


def host_labels(text: str) -> str | None:
    """The labels left of the registered domain of every host name in ``text`` with at
    least four labels, glued (``aa.bb.cc.evil.net`` → ``aabbcc``), one host a line."""
    if text.count(".") < 3:
        return None
    glued = ["".join(m.group(0).split(".")[:-2]) for m in _HOST.finditer(text)]
    return "\n".join(g for g in glued if len(g) >= 8) or None


_AT = re.compile(r"\s*[\[\(\{<]\s*at\s*[\]\)\}>]\s*", re.IGNORECASE)
_DOT = re.compile(r"\s*[\[\(\{<]\s*dot\s*[\]\)\}>]\s*", re.IGNORECASE)


def bracketed_at(text: str) -> str | None:
    """E-mail addresses written against harvesters, ``jane [at] acme [dot] com`` (or with
    ``(at)``, ``{dot}``, ``<at>``), as the addresses they are; None when ``text`` has no
    bracketed "at"."""
    if "at" not in text.lower() or not _AT.search(text):
        return None
    return _DOT.sub(".", _AT.sub("@", text))


TEXT_FORMS = (
    ("mnemonic", words_view),  # a seed phrase's words in a row, numbers dropped
    ("unicode", unicode_forms),
    ("entities", entities),
    ("escapes", escapes),
    ("char-codes", char_codes),
    ("number-words", number_words),
    ("spelled", spelled_out),
    ("spoken-dates", spoken_dates),
    ("spelled-letters", spelled_letters),
    ("host-labels", host_labels),
    ("amounts", written_out),
    ("bracketed-at", bracketed_at),
)
"""(name, undo) of every text-level disguise, in the order `decoders` tries them."""


def printable(data: bytes) -> str | None:
    """``data`` as text when it decodes as UTF-8 and is (mostly) printable, else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text:
        return None
    if text.isascii():  # the bytes themselves: one C-speed delete of the printable ones
        good = len(data) - len(data.translate(None, _PRINTABLE_ASCII))
    else:
        good = sum(ch.isprintable() or ch.isspace() for ch in text)
    return text if good >= 0.95 * len(text) else None


_PRINTABLE_ASCII = bytes(b for b in range(128) if chr(b).isprintable() or chr(b).isspace())


def _utf16(data: bytes) -> str | None:
    if len(data) < 8 or len(data) % 2:
        return None
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        encoding = "utf-16"
    elif data[1::2].count(0) >= 0.9 * (len(data) // 2):
        encoding = "utf-16-le"
    elif data[0::2].count(0) >= 0.9 * (len(data) // 2):
        encoding = "utf-16-be"
    else:
        return None
    try:
        return printable(data.decode(encoding).encode("utf-8"))
    except UnicodeError:
        return None


def _inflated(data: bytes) -> bytes | None:
    """``data`` decompressed (at most `MAX_INFLATED` bytes) when its first bytes are a
    gzip, zlib, bzip2 or xz header; else None."""
    try:
        if data[:2] == b"\x1f\x8b" or (
            len(data) > 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
        ):
            return zlib.decompressobj(wbits=47).decompress(data, MAX_INFLATED)
        if data[:3] == b"BZh":
            return bz2.BZ2Decompressor().decompress(data, MAX_INFLATED)
        if data[:6] == b"\xfd7zXZ\x00":
            return lzma.LZMADecompressor().decompress(data, MAX_INFLATED)
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError):
        return None
    return None


def bytes_text(data: bytes) -> str | None:
    """Decoded bytes as text: UTF-8, UTF-16, or a compressed stream's content."""
    found = printable(data) or _utf16(data)
    if found is not None:
        return found
    inflated = _inflated(data)
    if inflated:
        return printable(inflated) or _utf16(inflated)
    return None


_ROT13 = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "nopqrstuvwxyzabcdefghijklmNOPQRSTUVWXYZABCDEFGHIJKLM",
)


def rot13(text: str) -> str:
    """``text`` with its ASCII letters rotated by 13 (its own inverse)."""
    return text.translate(_ROT13)


_LEET = str.maketrans("4@3€1!|l05$7+896", "aaeeiiiiosstbggg")
MIN_FOLDED = 8
"""A folded needle shorter than this is not looked for: folding merges digits with
letters, and a short folded string turns up by chance."""


_LEET_BYTES = bytes(ord(chr(b).lower().translate(_LEET)[:1] or "?") for b in range(128))
_LEET_BYTES += bytes(range(128, 256))
_LEET_DROP = bytes(
    b for b in range(256) if not (chr(b).isalnum() and b < 128) and b not in b"@!|$+"
)


def leet_fold(text: str) -> str:
    """``text`` lower-cased, look-alike digits and symbols folded to their letter, then
    only letters and digits kept (`ascii_fast.alnum`'s alphabet): ``P4$$w0rd!`` →
    ``passwordi``. Both sides of a comparison are folded, so ``l``/``1``/``i`` agree."""
    if text.isascii():  # one pass: drop what is neither alphanumeric nor a look-alike, map
        return text.encode().translate(_LEET_BYTES, _LEET_DROP).decode()
    return alnum(text.lower().translate(_LEET))
