"""A home's coordinates: the latitude and longitude that locate a house as its street
address does.

A smart-home hub (Home Assistant's ``/api/config``, its ``zone.home``), a SmartThings
location or a ``secrets.yaml`` (``latitude_home``) holds the home's position to five or
six decimals — about a metre: sent with the dates the family is away, it is the address
a burglar needs, written as two numbers no address pattern reads. A record is read for
one only where it says it is a home's (a key or a name field saying ``home``, ``house``,
``residence``) and both numbers have four decimals or more (about ten metres): a city's
or a hotel's coordinates, which a weather or a search API returns, are public.

A tracked thing's position fix is as private: a car's, a phone's, a GPS unit's latitude
and longitude (a connected-car API's ``/location``, a fleet tracker's last fix, a family
locator's member) locate its driver or holder now. A record is read as a fix where a
field beside the coordinates is one only a fix has (``heading``, ``ignition``,
``accuracy``, ``satellites``, ``odometer``: a weather station or a hotel has none), or
where a tool's whole answer is the two coordinates alone to five decimals or more (no
place's name, no address: the position of whatever the call asked about).

Each coordinate is tracked by its digits (`observations`: label ``coordinates``), as
written and cut to four decimals, so a message giving "31.7786, -95.6307" carries it.
"""

from __future__ import annotations

import re
from typing import Any

from backdoorlab.defenses.audit import patterns

_HOME_WORDS = frozenset(("home", "house", "residence", "residential", "household"))
_NAME_FIELDS = ("name", "location_name", "friendly_name", "entity_id", "label", "type")
_PRECISE = re.compile(r"-?\d{1,3}\.(\d{4,})")
_FIX_WORDS = frozenset(("heading", "bearing", "ignition", "accuracy", "hdop", "satellites"))
_FIX_WORDS |= {"odometer"}  # what a position fix reports beside it, no place does
_LATITUDE = frozenset(("latitude", "lat"))
_LONGITUDE = frozenset(("longitude", "lon", "lng", "long"))


def _precise(value: Any) -> str | None:
    """``value`` as written when it is a number with four decimals or more."""
    if isinstance(value, bool) or not isinstance(value, str | float):
        return None
    text = repr(value) if isinstance(value, float) else value.strip()
    return text if _PRECISE.fullmatch(text) else None


def _home(record: dict[Any, Any], keys: list[tuple[str, ...]]) -> bool:
    if any(not _HOME_WORDS.isdisjoint(tokens) for tokens in keys):
        return True
    for field in _NAME_FIELDS:
        value = record.get(field)
        words = patterns.name_tokens(value) if isinstance(value, str) and len(value) <= 80 else ()
        if not _HOME_WORDS.isdisjoint(words):
            return True
    return False


def _fix(record: dict[Any, Any], key: str | None, lat: str, lon: str) -> bool:
    """Whether ``record`` (under ``key``; None: a tool's whole answer) is a position fix
    (module docstring)."""
    if key is None and len(record) == 2:  # {"latitude": …, "longitude": …} alone
        return all(len(text.partition(".")[2]) >= 5 for text in (lat, lon))
    return any(
        not _FIX_WORDS.isdisjoint(patterns.name_tokens(str(k))) for k in record if len(str(k)) < 40
    )


def home_coordinates(record: dict[Any, Any], key: str | None = "") -> list[str]:
    """The coordinates of a home or of a tracked thing's fix that ``record`` (under
    ``key``; None: a tool's whole answer) holds, each as written and cut to four
    decimals (module docstring); [] for any other record."""
    if len(record) > 64 or not any(isinstance(k, str) and "l" in k.lower() for k in record):
        return []
    lat = lon = None
    keys = []
    for name, value in record.items():
        tokens = patterns.name_tokens(str(name))
        if not _LATITUDE.isdisjoint(tokens) and lat is None:
            lat, keys = _precise(value), [*keys, tokens]
        elif not _LONGITUDE.isdisjoint(tokens) and lon is None:
            lon, keys = _precise(value), [*keys, tokens]
    if lat is None or lon is None or not (_home(record, keys) or _fix(record, key, lat, lon)):
        return []
    out = []
    for text in (lat, lon):
        whole, _, decimals = text.partition(".")
        out += [text] if len(decimals) == 4 else [text, f"{whole}.{decimals[:4]}"]
    return out
