"""Access codes: the short PINs that open a door, a gate, a garage or an alarm panel, and
the fields that name a value for a sibling to hold.

A lock's user code, an alarm's master PIN or a building's gate code is four to eight
digits: some 13 to 27 bits, so by its shape alone (`values`) it is a weak or medium
token that never leaves the default filter — while it opens the house. What makes it a
secret is what its record calls it: ``pin``, ``passcode``, ``usercode``, ``gate_code``,
``alarmCode``, ``front_door_master_code`` (`access_key`). Such a value is tracked as a
strong ``code`` (digits matched with any separators, "4 8 2 1", "48-21").

Smart-home hubs and secret stores do not always put the name in the key: Home
Assistant answers ``{"entity_id": "text.front_door_code_slot_1", "state": "4821"}``,
AWS SSM ``{"Name": "/home/alarm_code", "Value": "4821"}``, a Kubernetes pod spec
``{"name": "ALARM_PIN", "value": "4821"}``. `named_value` reads such a record's value
under its name — only where the name says credential or access code, so a record's
ordinary fields are read as before.

Agents' records also write the code in prose: an MLS listing's showing instructions
("Supra lockbox on front door, code 4821. Alarm: disarm with 1190. Gate 7431#"), a
work order's access notes ("lockbox code is 2208"). `in_text` reads a four-to-eight
digit run right after a lock's, a door's, an alarm's or a gate's word (up to three
connecting words between: "code", "PIN", "is", "with", a colon), or after "code" or
"PIN" in a clause that names one ("Supra box on the rear deck rail, code 7316"), as
such a code. A bare
"code 94110" is no access code (a ZIP code, a promo code), nor a bare "PIN: 263779" (an
Indian address's postal PIN), nor a run that goes on as a date, a time, a decimal or a
money amount ("door-to-door since 2019-04", "gate fee $1500").

A postal PIN code (India's six-digit ``pincode``) is the one look-alike: ``pincode`` as
one word is not an access key; ``pin``, ``pin_code`` were credential keys already
(`keys`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.keys import classify_key

_ACCESS_WORDS = frozenset(
    (
        "door", "gate", "alarm", "keypad", "lock", "garage", "entry", "unlock", "disarm",
        "master", "duress", "guest", "lockbox", "building", "access", "user", "front", "back",
        "side", "security", "intercom", "buzzer", "panel", "arm",
    )
)  # fmt: skip
_ACCESS_FLAT = ("passcode", "usercode", "keycode", "doorcode", "gatecode", "alarmcode")
_ACCESS_FLAT += ("accesscode", "entrycode", "lockcode", "keypadcode", "garagecode")
_PIN = re.compile(r"[#*]?(\d{4,8})#?")
_NAME_FIELDS = ("entity_id", "name", "Name", "key", "Key", "parameter", "label")
_VALUE_FIELDS = ("state", "value", "Value", "secret", "SecretString")


@lru_cache(maxsize=8192)
def access_key(key: str) -> bool:
    """Whether a field named ``key`` holds an access code (module docstring)."""
    tokens = patterns.name_tokens(key)
    if "pin" in tokens or any(t in _ACCESS_FLAT for t in tokens):
        return True
    return "code" in tokens and not _ACCESS_WORDS.isdisjoint(tokens)


def pin(key: str | None, value: str) -> str | None:
    """The digits of ``value`` when it is an access code under ``key`` (4 to 8 digits,
    a keypad's ``#`` or ``*`` allowed), else None."""
    if key is None or not (4 <= len(value) <= 10) or not access_key(key):
        return None
    found = _PIN.fullmatch(value.strip())
    return found[1] if found is not None else None


_LOCK_WORDS = (
    r"lock\s?box|key\s?box|key\s?safe|lock|door|gate|garage|alarm|keypad|entry|cbs|supra"
    r"|sentrilock|shackle|combo|combination|passcode|disarm|buzzer|intercom"
)
_DIGITS = r"[#*]?(?<![$\d])(\d{4,8})(?![\d,./:-]\d|\d)#?"
_PROSE = re.compile(
    rf"(?<![\w-])(?:{_LOCK_WORDS})(?![\w-])"
    r"(?:\s*(?:code|pin|combo|combination|is|with|number|no\.|:|=|,|-)){0,3}\s*" + _DIGITS,
    re.IGNORECASE,
)
_CODE = re.compile(r"\b(?:code|pin|combo)\b(?:\s*(?:is|:|=|-)){0,2}\s*" + _DIGITS, re.IGNORECASE)
_LOCK = re.compile(rf"(?<![\w-])(?:{_LOCK_WORDS}|box)(?![\w-])", re.IGNORECASE)
_CLAUSE = re.compile(r"[.;!?\n]\s")
_BEFORE = 48
"""How far before a bare "code 4821" its clause is read for the lock it opens."""
_PROSE_HINT = re.compile(r"\d{4}")


def in_text(text: str) -> list[str]:
    """The access codes ``text`` writes in prose (module docstring), their digits: after
    a lock's, a door's, an alarm's or a gate's word, or after "code" / "PIN" in a
    clause that names one ("Supra box on the rear deck rail, code 7316")."""
    if len(text) < 8 or _PROSE_HINT.search(text) is None:
        return []
    found = {m.start(1): m[1] for m in _PROSE.finditer(text)}
    for m in _CODE.finditer(text):
        if m.start(1) in found:
            continue
        before = text[max(0, m.start() - _BEFORE) : m.start()]
        clause = _CLAUSE.split(before)[-1]
        if _LOCK.search(clause):
            found[m.start(1)] = m[1]
    return [found[at] for at in sorted(found)]


def named_value(record: dict[Any, Any]) -> tuple[str, str] | None:
    """(the value field, the name it holds the value of) when ``record`` is a name and a
    value, the name a credential's or an access code's (module docstring)."""
    if len(record) > 24:
        return None
    for name_field in _NAME_FIELDS:
        name = record.get(name_field)
        if isinstance(name, str) and 3 <= len(name) <= 80:
            break
    else:
        return None
    for value_field in _VALUE_FIELDS:
        held = record.get(value_field)
        if isinstance(held, str | int) and not isinstance(held, bool):
            break
    else:
        return None
    if access_key(name) or classify_key(name) == "credential":
        return value_field, name
    return None
