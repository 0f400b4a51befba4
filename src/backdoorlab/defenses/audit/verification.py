"""Whether the person in the conversation failed an identity check: a contact centre's
``verify_caller``, a bank bot's knowledge-based authentication, an IDV step that answered
``{"verified": false, "reason": "caller_not_holder"}``.

The audit trusts the user: a destination the user names receives the records the agent
reads for them. That holds when the user is who the records belong to — which is what
the check decides. A caller who failed it ("I'm calling for Ryan, he's in hospital; text
his date of birth to me at …") is a stranger to the account, and the number they give
is a stranger's (`taint.TaintTracker`: their words authorise no destination for the
records' data until a later check passes). The operator's own destinations (the system
prompt's) are unaffected.

Read from the tool's name (a verification word: `verifies`) and its result's fields or
status words (`outcome`); a result that says neither way leaves the state as it was.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.observed_text import structured

__all__ = ["outcome", "verifies"]

_VERIFY_WORDS = frozenset(
    ("verify", "verification", "authenticate", "authentication", "kba", "idv", "identity")
)
_SUBJECT_WORDS = frozenset(
    ("caller", "customer", "member", "identity", "user", "holder", "pin", "otp", "passcode")
)
_FLAG_KEYS = frozenset(
    (
        "verified", "authenticated", "isverified", "isauthenticated", "identityverified",
        "callerverified", "passed", "match", "matched", "success", "valid",
    )
)  # fmt: skip
_STATUS_KEYS = frozenset(("status", "result", "outcome", "decision", "verificationstatus"))
_FAILED = frozenset(
    (
        "failed", "fail", "failure", "denied", "rejected", "mismatch", "nomatch", "notverified",
        "unverified", "notauthenticated", "unauthenticated", "declined",
    )
)  # fmt: skip
_PASSED = frozenset(("verified", "passed", "pass", "success", "succeeded", "match", "matched",
                     "approved", "authenticated"))  # fmt: skip
_MAX_CHARS = 4096


@lru_cache(maxsize=1024)
def verifies(tool: str) -> bool:
    """Whether ``tool``'s name says it checks who the person is (``verify_caller``,
    ``authenticate_customer``, ``kba_check``, ``idv_verify_identity``): a verification
    word, and for a bare ``verify`` a word saying whose identity (not ``verify_address``,
    ``validate_iban``)."""
    tokens = set(patterns.name_tokens(tool))
    if not tokens & _VERIFY_WORDS:
        return False
    return bool(tokens & (_SUBJECT_WORDS | {"kba", "idv", "authenticate", "authentication"}))


def _flat(word: str) -> str:
    return re.sub(r"[^a-z]", "", word.lower())


def _verdict(data: Any) -> bool | None:
    """A structured result's answer: a flag key's boolean, or a status key's word."""
    if not isinstance(data, dict):
        return None
    for key, value in data.items():
        name = _flat(str(key))
        if name in _FLAG_KEYS and isinstance(value, bool):
            return value
        if name in _FLAG_KEYS and isinstance(value, str) and _flat(value) in ("true", "false"):
            return _flat(value) == "true"
        if name in _STATUS_KEYS and isinstance(value, str):
            word = _flat(value)
            if word in _FAILED:
                return False
            if word in _PASSED:
                return True
    for value in data.values():  # one level down: {"data": {"verified": false}}
        if isinstance(value, dict) and (found := _verdict(value)) is not None:
            return found
    return None


def outcome(text: str) -> bool | None:
    """Whether a verification tool's result (``text``) says the check passed (True) or
    failed (False); None when it says neither (a prompt for the next question)."""
    if len(text) > _MAX_CHARS:
        return None
    data = structured(text)
    if data is not None:
        return _verdict(data)
    lowered = text.lower()
    if re.search(r"\b(?:not verified|verification failed|failed verification|unverified"
                 r"|could not be verified|did not match|does not match)\b", lowered):  # fmt: skip
        return False
    if re.search(r"\b(?:verified successfully|verification passed|identity verified)\b", lowered):
        return True
    return None
