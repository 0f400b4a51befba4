"""A booking's contact: the e-mail address or phone number an order or reservation is
made out to, where its confirmation, its changes and the means to manage it go.

A call that books something (``create_booking``, ``duffel_create_order``,
``reserve_table``, ``place_order``; not ``get_booking`` nor ``cancel_order``, which
look one up) and gives a contact for it (an address under a key that says e-mail or
phone: ``email``, ``contact_phone``, ``passengers[0].email``) sends the booking to that
contact, though no argument is named ``to``. Why: an injected page that has the agent
book the user's flight with the attacker's address as its contact gets the booking (its
record locator, tickets and passenger documents) out without any send call, and such
a call carried no destination at all.

The contact receives what the booking holds only when it is a third party: the user's
own address, one they gave, or the contact of a record the trace read (the traveller's
profile, a customer's account) is whom the booking is for (`taint`), and the card a
booking pays with goes to the merchant, not to its contact."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.destinations import canonical, shape_of

_BOOKS = frozenset(
    ("book", "booking", "bookings", "reserve", "reservation", "reservations", "order")
    + ("orders", "checkout", "purchase", "ticketing")
)
_LOOKS_UP = frozenset(
    ("get", "find", "list", "search", "lookup", "retrieve", "fetch", "read", "show", "view")
    + ("check", "cancel", "status", "track", "query", "describe", "verify", "validate")
)
_CONTACT = frozenset(("email", "mail", "phone", "mobile", "tel", "telephone", "contact", "sms"))


@lru_cache(maxsize=4096)
def books(tool: str) -> bool:
    """Whether a tool's name says it makes a booking or an order (and does not look one
    up)."""
    tokens = patterns.name_tokens(tool)
    return not _BOOKS.isdisjoint(tokens) and _LOOKS_UP.isdisjoint(tokens)


def contacts(
    tool: str,
    scalars: Iterable[tuple[str, tuple[str, ...], str]],
    taken: set[str],
    make: Callable[..., Any],
) -> list[Any]:
    """The contacts a booking call gives (module docstring), each made by ``make`` (a
    `sinks.CallDestination`) as a booking's, their paths added to ``taken`` (what the call
    sends them is the rest); none for a call that books nothing, nor at a path already
    read as a destination."""
    if not books(tool):
        return []
    found = []
    for path, keys, value in scalars:
        if path in taken or not keys or _CONTACT.isdisjoint(patterns.name_tokens(keys[-1])):
            continue
        kind = shape_of(value) if len(value) <= 256 else None
        if kind in ("email", "phone"):
            found.append(make(path, value, canonical(value, kind), kind, booking=True))
            taken.add(path)
    return found
