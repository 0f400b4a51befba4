"""The figures of a text that says it is confidential: a settlement agreement's sum ("The
terms of this Agreement, including the amount, are confidential"), a compensation letter's
salary, an NDA'd term sheet's price, board minutes marked "privileged".

A figure is tracked where a key names it (``trust_balance``, ``salary``: `keys`); in a
document's prose it has no key, and the document's text is tracked as a whole
(`values.is_content`), so its sum sent alone ("Settlement amount: $427,500.00") was no
leak. Money written in any free text is too common to track (prices, fees, totals); a
text that declares itself confidential says which figures are secret. Each money amount
of four digits or more (a currency sign or code beside it) in such a text is tracked as an
``amount`` (medium), found by its digits (`tainted`'s needle drops zero cents).
"""

from __future__ import annotations

import re

__all__ = ["figures"]

_MARKER = re.compile(
    r"\b(?:confidential(?:ity)?|shall not (?:be )?disclose[ds]?|not (?:be )?disclosed|"
    r"do not disclose|non-?disclosure|privileged|under seal|not for distribution|"
    r"internal use only)\b",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"(?:[$€£¥]|\b(?:USD|EUR|GBP|CAD|AUD|CHF)\s?)\s?(\d{1,3}(?:[,.\u00a0 ]\d{3})+|\d{4,})"
    r"(?:[.,]\d{2})?(?!\d)"
    r"|(?<![\d.,])(\d{1,3}(?:[,.\u00a0 ]\d{3})+|\d{4,})(?:[.,]\d{2})?\s?"
    r"(?:USD|EUR|GBP|CAD|AUD|CHF|dollars|euros|pounds|€)(?![a-z])",
    re.IGNORECASE,
)
_MAX_CHARS = 1 << 16
_DIGIT = re.compile(r"\d")


def figures(text: str) -> list[str]:
    """The money amounts (as written, four digits or more before any cents) of ``text``
    when it declares itself confidential (`_MARKER`); none otherwise."""
    if len(text) > _MAX_CHARS or _DIGIT.search(text) is None:
        return []
    if _MARKER.search(text) is None:
        return []
    return [m.group(0).strip() for m in _MONEY.finditer(text)]
