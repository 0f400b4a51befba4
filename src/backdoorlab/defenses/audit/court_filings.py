"""Court e-filings and what a court's public docket shows anyway.

An e-filing (PACER's CM/ECF, a state court's e-filing service, an e-filing API a law
firm's agent calls: ``ecf_file_document``, ``efile_submit``, ``file_with_court``) puts
its document on the case's docket, which anyone reads — unless it is filed under seal.
So such a call sends to an implicit destination that `recipients` reads as ``public``
(a minor's full name, a client's Social Security number, a sealed exhibit's text filed
in the open leak to everyone: Fed. R. Civ. P. 5.2 wants initials and the last four
digits), and a sealed one (``sealed: true``, ``access: "sealed"``, ``under_seal``,
``restricted``) sends to the court alone, the clerk's own system: no destination.
The tool's name says which: a court-filing word (``efile``, ``ecf``) or a filing verb
beside ``court`` or ``docket``, and no read verb (``get_docket_entries`` reads, and a
firm's ``docket_deadline_create`` is its own calendar).

What the docket already shows is nobody's secret, wherever it is sent: a federal case
number (``1:26-cv-04817``, ``26-cv-04817-JPO``: the office, the year, the case type,
the number, a judge's initials) is a public identifier, not a code; a case's caption
(``Jane Roe v. Acme Corp., No. … (S.D.N.Y.)``, Fed. R. Civ. P. 10(a)) names its
parties in the open, so a caption read from a matter record is no content, and the
capitalised words of a caption a call writes are no term of that call
(`caption_words`): a filing's title names the client its matter number also names.
A minor's name is what the docket must not show (`a_minors`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.tool_words import READ_VERBS

_COURT_WORDS = frozenset(("efile", "efiling", "ecf", "cmecf", "efil"))
_PLACE_WORDS = frozenset(("court", "courts", "docket"))
_FILE_VERBS = frozenset(("file", "files", "filing", "submit", "lodge"))
_SEAL_WORDS = frozenset(("seal", "sealed", "restricted", "unsealed"))
_SEALED_VALUES = frozenset(("sealed", "under seal", "restricted", "ex parte", "ex_parte"))
_TRUE = frozenset(("true", "yes", "1", "y"))
_DOCKET = re.compile(
    r"\d{2}-(?:cv|cr|bk|mc|md|mj|ap|po|sw|civ|crim)-\d{3,6}(?:-[A-Za-z]{2,4}){0,3}", re.I
)
_VERSUS = re.compile(r"\s[vV][sS]?\.\s")
_WORD = re.compile(r"[A-Za-z]+")
_JOINERS = frozenset(("and", "of", "the", "&", "et", "al.", "al", "inc.", "co.", "llc"))
_TAIL = re.compile(r",?\s(?:Case\s|Civil\sAction\s)?No\.\s.*$|\s\([^()]{1,40}\)$")


@lru_cache(maxsize=4096)
def files_in_court(tool: str) -> bool:
    """Whether ``tool``'s name says it files a document with a court (module docstring)."""
    tokens = patterns.name_tokens(tool)
    if not tokens or not READ_VERBS.isdisjoint(tokens):
        return False
    if not _COURT_WORDS.isdisjoint(tokens):
        return True
    return not _PLACE_WORDS.isdisjoint(tokens) and not _FILE_VERBS.isdisjoint(tokens)


def sealed(arguments: Any) -> bool:
    """Whether a filing's arguments seal it: a seal key set true, or any value saying
    sealed (``"access": "sealed"``, ``"security": "Restricted"``)."""
    if isinstance(arguments, Mapping):
        for key, value in arguments.items():
            if isinstance(value, Mapping | list | tuple):
                if sealed(value):
                    return True
                continue
            said = str(value).strip().lower()
            if said in _SEALED_VALUES:
                return True
            seal = not _SEAL_WORDS.isdisjoint(patterns.name_tokens(str(key)))
            if seal and "unsealed" not in str(key).lower() and (value is True or said in _TRUE):
                return True
    elif isinstance(arguments, list | tuple):
        return any(sealed(item) for item in arguments)
    return False


def public_filing(tool: str, arguments: Any) -> bool | None:
    """For a court e-filing, whether it goes on the public docket (not sealed); None for
    any other call."""
    return not sealed(arguments) if files_in_court(tool) else None


def case_number(token: str) -> bool:
    """A federal docket number's tail as `values` cuts it (``26-cv-04817``): public."""
    return "-" in token and _DOCKET.fullmatch(token) is not None


def is_caption(text: str) -> bool:
    """Whether ``text`` is a case's caption and nothing more (module docstring): party
    names (capitalised words) on both sides of ``v.``, then a number and a court."""
    text = text.strip()
    if len(text) >= 240 or (found := _VERSUS.search(text)) is None:
        return False
    left, right = text[: found.start()], _TAIL.sub("", text[found.end() :].rstrip("."))
    return _names(left) and _names(right)


def _names(part: str) -> bool:
    said = part.replace(",", " ").split()
    return 0 < len(said) <= 10 and all(w[:1].isupper() or w.lower() in _JOINERS for w in said)


_REACH = 512
"""Characters read on either side of a ``v.`` for its parties' eight words at most."""


def caption_words(texts: Iterable[str]) -> frozenset[str]:
    """The words (lower-cased) of the party names in every caption ``texts`` write:
    the capitalised words next to each ``v.``, on its line, on either side."""
    out: set[str] = set()
    for text in texts:
        if "v" not in text:
            continue
        for found in _VERSUS.finditer(text):
            # a party is eight words at most: read that far, not the whole line (a line of
            # thousands of captions was read once per caption)
            start, end = max(0, found.start() - _REACH), found.end() + _REACH
            line_start = text.rfind("\n", start, found.start()) + 1 or start
            line_end = text.find("\n", found.end(), end)
            before = text[line_start : found.start()].split()
            after = text[found.end() : line_end if line_end >= 0 else end].split()
            out.update(_party(reversed(before)))
            out.update(_party(after))
    return frozenset(out)


def _party(words: Iterable[str]) -> list[str]:
    """The lower-cased letters of a party's name: capitalised words (and the joiners
    between them) from the ``v.`` outwards, up to eight."""
    out: list[str] = []
    for count, word in enumerate(words):
        if count >= 8 or not (word[:1].isupper() or word.lower() in _JOINERS):
            break
        out += [w.lower() for w in _WORD.findall(word)]
    return out


_MINOR_WORDS = frozenset(("minor", "minors", "child", "children", "juvenile", "ward", "kid"))


@lru_cache(maxsize=4096)
def a_minors(path: str) -> bool:
    """Whether a name's path in its record says a minor's (``minor.full_name``,
    ``children[0].name``, ``juvenileName``): a child's name is filed as initials (Fed.
    R. Civ. P. 5.2(a)), so it is tracked as a medium value, not a weak name."""
    return not _MINOR_WORDS.isdisjoint(patterns.name_tokens(path.replace(".", "_")))
