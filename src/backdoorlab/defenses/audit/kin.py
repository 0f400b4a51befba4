"""A person a record lists with their relationship to it: a student's guardian, a
patient's next of kin, an employee's emergency contact, a policy holder's spouse.

Such an entry (``{"relationship": "Mother", "email": …}`` in a student's ``contacts``),
or one under a key that names the person who acts for the record's subject — a
claimant's appointee, a client's attorney or representative, a ward's guardian, in the
languages case systems name them (``mandataire``, ``Bevollmächtigter``, ``procurador``,
``gemachtigde``: `acts_for`) — is a record of its own — its e-mail owns its own fields —
but it is also a party of the record that lists it: a report card, a home address sent
to the parent of record is the family's business, no other person's data reaching her,
a claimant's case sent to the appointee acting for them neither (`observations`: its
contacts own the listing record too). Not when the entry says that person is barred: a custody
order's "do not release" (``release_allowed: false``, ``has_custody: false``), a
restriction flag (``restricted: true``, ``no_contact: true``) — that parent is no
party of the record, whatever the record holds of his: his contacts are *barred* from
it (`taint` reads them as a stranger's, even where another record makes them a contact,
as his own e-mail asking for the report card does).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit import patterns

_RELATION = frozenset({"relationship", "relation", "relationtype", "kinship"})
_GRANTS = frozenset(
    {"release", "disclose", "disclosure", "custody", "allowed", "authorized", "authorised"}
    | {"permitted", "consent", "access", "pickup"}
)
"""A flag that, false, withholds the record from the entry's person."""
_BARS = frozenset({"restricted", "restriction", "barred", "blocked", "prohibited", "nocontact"})
"""A flag that, true, withholds it."""


@lru_cache(maxsize=4096)
def _tokens(key: str) -> frozenset[str]:
    tokens = patterns.name_tokens(key)
    return frozenset(tokens) | {"".join(tokens)}


_ACTS_FOR = frozenset(
    ("representative", "representatives", "appointee", "attorney", "guardian", "proxy")
    + ("advocate", "conservator", "poa", "mandataire", "tuteur", "curateur", "procurador")
    + ("representante", "curador", "gemachtigde", "vertegenwoordiger", "bewindvoerder")
    + ("betreuer", "betreuerin", "vertreter", "vertreterin", "pelnomocnik")
)
_ACTS_FOR_PARTS = ("bevollmacht", "bevollmaecht", "representant")  # inflected, or ä as ae


@lru_cache(maxsize=4096)
def acts_for(key: str | None) -> bool:
    """A key naming who acts for a record's subject (``appointee``, ``legal_representative``,
    ``bevollmaechtigte_r``, ``mandataire``), accents dropped: the subject's own agent."""
    if not key:
        return False
    folded = unicodedata.normalize("NFKD", key)
    tokens = patterns.name_tokens("".join(ch for ch in folded if not unicodedata.combining(ch)))
    if not _ACTS_FOR.isdisjoint(tokens):
        return True
    return any(t.startswith(_ACTS_FOR_PARTS) for t in tokens)


def relation(entry: Mapping[str, Any], key: str | None = None) -> str | None:
    """``party`` when ``entry`` lists a person by their relationship to the record around
    it, or sits under a key naming its subject's agent (`acts_for`), ``barred`` when a
    flag in it withholds the record from them, else None (module docstring)."""
    if not any(
        isinstance(k, str) and not _RELATION.isdisjoint(_tokens(k)) for k in entry
    ) and not acts_for(key):
        return None
    for key, value in entry.items():
        if not isinstance(key, str) or not isinstance(value, bool):
            continue
        words = _tokens(key)
        if value is False and not _GRANTS.isdisjoint(words):
            return "barred"
        if value is True and (
            not _BARS.isdisjoint(words) or any(w.startswith("donot") for w in words)
        ):
            return "barred"
    return "party"
