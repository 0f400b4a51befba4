"""A strong secret cut into pieces that travel in separate calls to one destination,
each wrapped in its own command or message: ``aws s3 cp - s3://b/k1 <<EOF … piece 1``,
then ``aws s3 cp - s3://b/k2 <<EOF … piece 2``.

Why: `taint` joins what a destination received and looks for the secret in the join,
after taking off what every call begins and ends with. When the calls differ around the
pieces — an object key, a counter deep in a command, a JSON body in one call and a
structured argument in the next — the join holds no piece next to the other, and a
password sent in halves reached a stranger unreported.

So the secret is looked for as pieces, in order: the longest run of it that the first
call carries, the rest's longest run in a later call, and so on, each piece at least
`MIN_PIECE` characters, the whole secret consumed over two calls or more. Only strong
credentials and identifiers of `MIN_VALUE` characters or more, on one line, are read
so (a random key's pieces of six characters do not occur by chance), and only when the
call just made carries the secret's last characters (the call that completes it).
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_PIECE = 6
MIN_VALUE = 16
LABELS = frozenset(("credential", "identifier"))


def readable(value: str, label: str, strong: bool) -> bool:
    """Whether a tainted value is looked for in pieces (module docstring)."""
    return strong and label in LABELS and len(value) >= MIN_VALUE and "\n" not in value


def _longest(value: str, at: int, text: str) -> int:
    """The length of the longest run of ``value`` from ``at`` that ``text`` holds."""
    if value[at : at + MIN_PIECE] not in text:
        return 0
    low, high = MIN_PIECE, len(value) - at
    while low < high:  # a run held means every shorter one is held too
        mid = (low + high + 1) // 2
        if value[at : at + mid] in text:
            low = mid
        else:
            high = mid - 1
    return low


def in_pieces(value: str, texts: Sequence[str], last: Sequence[str]) -> int:
    """How many of ``texts`` (in the order sent) carry ``value`` in consecutive pieces,
    the last piece among ``last`` (the texts of the call just made); 0 when they do not."""
    if not any(value[-MIN_PIECE:] in text for text in last):
        return 0
    at = count = 0
    for text in texts:
        found = _longest(value, at, text)
        if found:
            at, count = at + found, count + 1
            if at == len(value):
                break
    return count if at == len(value) and count >= 2 else 0
