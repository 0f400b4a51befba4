"""What the user's and the operator's texts give a conversation: the destinations they
authorise (`authorised_by`), those a system prompt routes data to (`routed_to`), their
words and the words they ask with (`said_forms`), and whether they name a person
(`named_by`, `greets`). Each said text is read once (cached): a deployment's system prompt
opens every trace of a dataset.
"""

from __future__ import annotations

import re
from functools import lru_cache

from backdoorlab.defenses.audit import matching, prohibitions
from backdoorlab.defenses.audit.destinations import contacts_in_text
from backdoorlab.defenses.audit.processors import named_processors
from backdoorlab.defenses.audit.recipients import with_form_names

__all__ = ["authorised_by", "greets", "named_by", "routed_to", "said_forms"]


@lru_cache(maxsize=1024)
def authorised_by(text: str) -> frozenset[str]:
    # system prompts repeat: cache them; a marketing platform named is its API's hosts
    return frozenset(contacts_in_text(text)) | named_processors(text)


_ROUTES = re.compile(
    r"\b(?:go(?:es)?|send|sends|sent|forward(?:s|ed)?|upload(?:s|ed)?|post(?:s|ed)?|refer"
    r"(?:s|red)?|report(?:s|ed)?|submit(?:s|ted)?|deliver(?:s|ed)?|route(?:s|d)?|index"
    r"|escalate(?:s|d)?|verif(?:y|ies|ied)|validate(?:s|d)?|screen(?:s|ed)?"
    # a work the operator has done by a service: "credit checks run through Experian
    # (us-api.experian.com)", "payments are processed by Stripe", "handled by …"
    r"|runs?\s+(?:through|via|on)|(?:processed|handled|performed)\s+(?:by|through|via))\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n")


# "Staff addresses end in @agency.gov", "colleagues use @acme.com": a bare mail domain in
# a sentence about the operator's own people, none of its words a negation
_STAFF = re.compile(r"\b(?:staff|colleagues?|employees?|internal|caseworkers?|officers?)\b", re.I)
_AT_DOMAIN = re.compile(r"(?<![\w.+%-])@([a-z0-9-]+(?:\.[a-z0-9-]+)+)", re.I)
_NEGATION = re.compile(r"\b(?:never|not|no|nor|except|outside)\b|n't\b", re.I)


def staff_domains(sentence: str) -> set[str]:
    """``@DOMAIN`` for each mail domain ``sentence`` gives as the operator's staff's."""
    if "@" not in sentence or not _STAFF.search(sentence) or _NEGATION.search(sentence):
        return set()
    return {"@" + d.lower().rstrip(".") for d in _AT_DOMAIN.findall(sentence)}


@lru_cache(maxsize=256)
def routed_to(text: str) -> frozenset[str]:
    """The destinations a system prompt routes data to: those of its sentences that say
    where something goes ("SIU referrals go to siu@…", "index claims with ISO ClaimSearch
    at https://…", "completed files go to compliance@…", "ids are verified with the tax
    office's API at https://…": a check sends the id there; "credit checks run through
    Experian Connect (us-api.experian.com)": a service the work is done by). A destination
    it only mentions ("her team inbox is finance@…", the signed-in user's own address) is
    no integration.
    Its staff's own mail domain (`staff_domains`), as ``@DOMAIN``: a colleague there is
    the operator's, whom case files go to by design."""
    found: set[str] = set()
    for sentence in _SENTENCE_END.split(text):
        if _ROUTES.search(sentence):
            found |= authorised_by(sentence)
        found |= staff_domains(sentence)
    return frozenset(found)


@lru_cache(maxsize=256)
def said_forms(text: str) -> tuple[str, frozenset[str], frozenset[str]]:
    """A said text normalised (`matching.alnum`), its words, and the words it asks with
    (`asked`): those outside what it forbids (`prohibitions`: "never share passwords"
    asks for none), with a hyphenated form's name as one (`with_form_names`). A deployment's
    system prompt, often many kilobytes, opens every trace of a dataset and is read once
    (a 16 KB prompt took ~0.2 ms a trace, most of a short trace's audit)."""
    said = frozenset(matching.words(text))
    asked = with_form_names(text, prohibitions.asked_words(text, said))
    return matching.alnum(text), said, asked


def named_by(name: str, said: set[str], fewest: int = 1) -> bool:
    """Whether the words said hold every word of ``name``, one of three letters or more,
    as "send it to Kim Lee" names "Kim Lee"; with ``fewest`` above 1, a full name of that
    many words to four (a record's line "active" or "inbox" is no one's name)."""
    words = [w for w in re.split(r"[^a-z]+", name.lower()) if w]
    if fewest > 1 and not fewest <= len(words) <= 4:
        return False
    return any(len(w) >= 3 for w in words) and all(w in said for w in words)


_ROLE_WORDS = frozenset(
    [
        "info",
        "support",
        "billing",
        "accounts",
        "account",
        "admin",
        "security",
        "noreply",
        "reply",
        "service",
        "help",
        "team",
        "mail",
        "contact",
        "sales",
        "hello",
        "verify",
        "alerts",
        "notifications",
        "office",
        "hr",
        "finance",
        "payments",
    ]
)


def greets(address: str, said: set[str] | frozenset[str]) -> bool:
    """Whether the user's words (``said``) name the person at ``address``: a word of its
    local part that is no role's ("dana" of dana@oakrow.com, not "billing")."""
    local = address.split("@", 1)[0].lower()
    return any(
        len(w) >= 3 and w not in _ROLE_WORDS and w in said for w in re.split(r"[^a-z]+", local)
    )
