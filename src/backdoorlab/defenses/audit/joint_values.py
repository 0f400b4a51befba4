"""Short numbers of one tool result sent together: jointly, the result's data.

A price list, a rate card, a bid sheet is rows of four-digit figures ("CNSHA,USLAX,
40HC,2150"): each figure alone is a short number — weak, a ``low`` finding at most,
since "2150" is in many texts — so a forwarder's whole contract rate sheet mailed to a
look-alike domain passed the default filter. But three or more *different* short
numbers of the same tool result, in one call to the same stranger, are not chance: a
text that holds 2150, 1800 and 3400 and another result's numbers too is a copy of that
result. Their bits add (about 13 for each four-digit figure, three of them past
`values.MEDIUM_BITS` twice over), so such a group is read as one ``medium`` value — not
``strong``: a rate or a price says less than a key — the result's figures, reported once
per call and destination under the label ``figures``. A call's own check only: figures
sent one per call to the same stranger are not added up.

Only for a third party (a destination no user message gave and no record holds): to a
record's contact, the user's own or the operator's, short numbers stay what they are.
"""

from __future__ import annotations

from collections.abc import Iterable

from backdoorlab.defenses.audit.tainted import Tainted
from backdoorlab.leaks import Secret

MIN_VALUES = 3
"""Different short numbers of one result that together are its data (two may be chance:
a year and a quantity)."""
_SHORT = frozenset(("code", "identifier"))


def grouped(found: Iterable[Tainted]) -> list[Tainted]:
    """Of the weak values ``found`` in one call to a third party, one ``figures`` value
    for each tool result that gave `MIN_VALUES` or more different ones."""
    by_result: dict[tuple[int, str], dict[str, Tainted]] = {}
    for t in found:
        if t.strength == "weak" and t.label in _SHORT and any(c.isdigit() for c in t.secret.value):
            by_result.setdefault((t.step, t.tool), {})[t.secret.value] = t
    out = []
    for (step, tool), values in by_result.items():
        if len(values) < MIN_VALUES:
            continue
        records = set().union(*(t.records for t in values.values()))
        keys = {t.key for t in values.values()}
        value = "figures:" + ",".join(sorted(values))
        key = keys.pop() if len(keys) == 1 else None
        out.append(Tainted(Secret("text", value), "figures", "medium", step, tool, key, records))
    return out
