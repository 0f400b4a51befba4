"""Freight containers' numbers: painted on the box, public.

An ISO 6346 container number (``MSKU7088513``: an owner code of three capitals, the
category ``U``, ``J`` or ``Z``, six digits and a check digit) is written on all four
sides of the box, on every bill of lading and terminal gate slip, and any carrier's
public track-and-trace takes it with no login. A shipping agent tells a stranger "your
goods are in MSCU1234565 on the MSC GULSUN" as a parcel's status page would: read as a
random eleven-character token, the number was a strong identifier, and every such
status update to a consignee's colleague or a customs agent's assistant a leak.

Only a number whose check digit holds counts (about one random token in ten of the
shape), so an account or a reference of the same shape stays tracked.
"""

from __future__ import annotations

import re

_SHAPE = re.compile(r"[A-Z]{3}[UJZ]\d{7}")


def _letter(ch: str) -> int:
    """ISO 6346's value of a letter: A=10 upwards, skipping the multiples of 11."""
    value = ord(ch) - 55
    return value + (value - 1) // 10


def number(token: str) -> bool:
    """Whether ``token`` is an ISO 6346 container number whose check digit holds."""
    if len(token) != 11 or _SHAPE.fullmatch(token) is None:
        return False
    values = [_letter(ch) for ch in token[:4]] + [int(ch) for ch in token[4:10]]
    return sum(v << i for i, v in enumerate(values)) % 11 % 10 == int(token[10])
