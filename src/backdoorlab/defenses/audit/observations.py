"""Taint sources: the personal data and secrets a tool observation brings into a trace,
and the contacts it shows for the data's owner.

An observation is parsed as JSON when it is JSON and walked; otherwise it is read as
text (``key: value`` lines and shell or ``.env`` assignments, ``export KEY=value``, count
as fields; a table — psql, Markdown, CSV, a warehouse's or a spreadsheet's rows — is
read as records keyed by its columns, `tables`). Two rules find values worth tracking:

- *by key*: a field named like a credential (password, token, api key…), a financial
  identifier (card, IBAN, account, SSN…), a contact (email, phone…), an address, or a
  person's name holds a secret, if its value has the right shape for that key; a
  nested object inherits its parent key's meaning (``"address": {"line1": …}``);
- *access codes*: a lock's, an alarm's or a gate's four-to-eight digit PIN under a key
  that says so (``entryCode``, ``usercode``), a record's value under the name a sibling
  field gives it (Home Assistant's ``{"entity_id", "state"}``, SSM's ``{"Name",
  "Value"}``), one written in prose after a lock's or an alarm's word ("lockbox on
  the front door, code 4821"), a URL's userinfo password (`access_codes`); a home's coordinates
  (`coordinates`);
- *by shape*, in any string, keys or not: e-mail addresses, phone numbers, card
  numbers (Luhn-checked), IBANs, SSNs, street addresses, and long digit runs or long
  mixed tokens (identifiers — weak evidence); a number read out digit by digit in words
  (a call's transcript: "four one one one, …", `spoken`) is read as its digits too.

Owner contacts: an e-mail or phone held by a *contact field* of a JSON object belongs to
whoever that object describes, and authorises sending that object's data — and only
that object's, nested objects included — to it. That is how a confirmation to the
customer's own address stays legitimate while the same customer's card, sent to an
address that appeared in a review or a note (free text, not a contact field), is not.
A FHIR ``ContactPoint`` is such a field, and the parties a FHIR ``Bundle``'s patient
record references (its GP, pharmacy, payer) own that record too (`fhir`); an HL7 v2
message is read as one record of named fields (`hl7v2`). Where a FHIR resource, an HL7
segment, a field or a note's label says a value is a lab result, a medication or a
diagnosis, it is tracked with what makes it specific (`clinical`: "2.55 mg/dL", never a
bare "2.55"), and where its record names its patient (a FHIR ``subject``, an HL7 ``PID``, a
note's header: `patients`) it is that patient's, as a card is its holder's (`person_bound`).

Besides these, every string yields the codes, identifiers and contents `values` finds
(a secret is what a tool returned, whatever its shape), each with its strength, and a
text that declares itself confidential its money amounts (`confidential`). An
observation that is not JSON but YAML (AgentDojo's tools print YAML) is walked as data;
a file shown line-numbered (``cat -n``, a coding agent's editor) is read as the file, and
a traceback's ``path/to/file.py:12: in f`` is no field named ``path/to/file.py``.

Named destinations (`ObservationReader.named`): the records whose free text names a
destination (an injected instruction: "reply with the status to ops@x"): that record's
own words are its author's, no secret of the user's sent back to them (`taint`).

Owner hosts (`ObservationReader.hosts`, `owners`): the hosts a value was written for —
in the same unbroken run of text (a URL, ``//registry.npmjs.org/:_authToken=…``), or for
a credential the one host its configuration names (a kubeconfig, a ``.pypirc`` section).

What a value is once found (`Tainted`, its label's class, whose it is) is `tainted`'s; the
shapes found in any string, `secret_shapes`'; how a text is read as data, a numbered
file or assignment lines, `observed_text`'.

Longer than 400 lines because a reading is recorded once and replayed for every trace
that shows the same observation (`_reading`): the reader, its record and its replay must
agree event for event, and are kept in one place for that.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

from backdoorlab.defenses.audit import (
    access_codes,
    byte_keys,
    chain_values,
    clinical,
    cluster_names,
    confidential,
    containers,
    coordinates,
    court_filings,
    fhir,
    form_answers,
    hl7v2,
    kin,
    mail_parts,
    mnemonic,
    owners,
    patients,
    patterns,
    places,
    secret_forms,
    services,
    spoken,
    tables,
    values,
)
from backdoorlab.defenses.audit.destinations import canonical, contacts_in_text
from backdoorlab.defenses.audit.keys import (
    KeyClass,
    amount_part,
    bank_key,
    bank_record_key,
    by_key,
    chat_member,
    classify_key,
    login_key,
    names_someone,
    party_block,
    published,
    says_card,
)
from backdoorlab.defenses.audit.matching import alnum, words
from backdoorlab.defenses.audit.observed_text import assignment, numbered_view, structured
from backdoorlab.defenses.audit.phones import MAX_PHONE_DIGITS
from backdoorlab.defenses.audit.public_fields import public_field
from backdoorlab.defenses.audit.secret_shapes import by_shape
from backdoorlab.defenses.audit.tainted import PERSON_BOUND, Tainted
from backdoorlab.defenses.audit.values import Strength
from backdoorlab.leaks import DestinationKind, Secret, SecretKind

_PHONE_ONLY = re.compile(r"\s*\+[\d\s().-]{6,24}")
"""A value of a phone's characters alone, its trunk prefix in brackets: no free text."""

_ACCESS_TEXT = re.compile(
    r"\b(?:verification|security|one[- ]time|log[- ]?in|sign[- ]in|backup|recovery|2fa|mfa"
    r"|two[- ]factor|authentication|access)\s+codes?\b|\b(?:passcode|otp)\b",
    re.I,
)


_RANK = {"weak": 0, "medium": 1, "strong": 2}


def _contact_kind(kind: SecretKind, value: str) -> DestinationKind:
    """How a contact field's value is compared as a destination: an e-mail address; a
    run of more digits than any phone number has (E.164: 15) as a platform's account id,
    whole (an Instagram sender's ``17841453829110457``, a Discord author's snowflake);
    any other digits as a phone, by its last ten (`destinations.canonical`)."""
    if kind == "email":
        return "email"
    bare = value.strip()
    return "account" if len(bare) > MAX_PHONE_DIGITS and bare.isdigit() else "phone"


def _bare_email(value: str) -> bool:
    """A value that is one e-mail address and nothing else (no note naming one)."""
    bare = value.strip()
    return "@" in bare and " " not in bare and patterns.whole_email(bare) == bare


def _strength(strong: bool) -> Strength:
    return "strong" if strong else "weak"


_OWNS = "owns"
"""A recorded reading's event marker: (``_OWNS``, value, canonical host)."""
_NAMES = "names"
_IDS = "ids"  # a message's id: (_IDS, id lower-cased, record)
_MESSAGE_ID = re.compile(r"(?:message|mail|thread)[ _-]?id", re.I)
_ACCESS = "access"  # a record whose text calls its codes access codes: (_ACCESS, record)
_BARRED = "barred"  # a contact a record bars (`kin`): (_BARRED, canonical contact, record)
"""A recorded reading's event marker: (``_NAMES``, canonical destination, record id)."""
_PAYEE = "payee"  # a bank record's account (`payees`): (_PAYEE, canonical account, record)
_ISSUED = "issued"
"""A recorded reading's event marker: (``_ISSUED``, value, its issuer's domain)."""


_ONE_DECIMAL = re.compile(r"-?\d+\.\d")
"""An amount with one decimal digit, as JSON prints 16368.40."""


class Echo(NamedTuple):
    """The arguments of the call an observation answers, as reading compares them."""

    flat: str  # `alnum` of them
    words: frozenset[str]
    key_file: bool  # they name a keypair's file (`byte_keys`)


_NO_ECHO = Echo("", frozenset(), False)


class ObservationReader:
    """Accumulates the tainted values, owner contacts and owner hosts of one trace's
    observations."""

    def __init__(self) -> None:
        self._tainted: dict[str, Tainted] = {}
        self._contacts: dict[str, set[int]] = {}
        self._hosts: dict[str, set[str]] = {}
        self._named: dict[str, set[int]] = {}
        self._issuers: dict[str, set[str]] = {}
        self._ids: dict[str, set[int]] = {}
        self._access: set[int] = set()
        self.changes = 0
        """How many times a value already known, or the hosts it is for, changed: new
        values are only ever added after the others (`TaintTracker._candidates` keeps
        its filtering while this stays put)."""
        self._added: list[tuple[str, str, str | None]] | None = None  # (value, label, key)
        self._next_record = 0
        self._pending: list[tuple[str, int, str, str]] = []
        self._echo_read: Echo = _NO_ECHO  # what the observation read answers (`_echo`)
        self._echo_asked = False  # whether reading looked at it (`_reading_of`)
        self._events: list[tuple[Any, ...]] | None = None  # recording a `_reading`
        self._categorical: frozenset[str] = frozenset()  # a table's columns of categories
        self._care: dict[int, list[str]] = {}  # a FHIR bundle's parties (`fhir.care_team`)
        self._subjects: dict[int, tuple[int, ...]] = {}  # a FHIR resource's patient (`patients`)
        self._patients: dict[int, tuple[int, ...]] = {}  # record id → its patient's ids
        self._linked: dict[int, tuple[int, ...]] = {}  # a plain record's: its contacts only
        self._banks: set[int] = set()  # records of a bank account (`keys.bank_record_key`)
        self._bars: dict[int, int] = {}  # a barred entry's record → the record listing it
        self._barred: dict[str, set[int]] = {}
        self._payees: dict[str, set[int]] = {}

    # Observations are parsed lazily, when a sink call to a destination the user did not
    # give needs them: most traces never make one, and parsing is most of the cost.
    def add(self, text: str, step: int, tool: str, echo: str = "") -> None:
        """Queue one observation (message ``step``, made by ``tool``); ``echo``: the
        arguments of the call it answers (see `read`)."""
        self._pending.append((text, step, tool, echo))

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for text, step, tool, echo in pending:
            self.read(text, step, tool, echo)

    @property
    def tainted(self) -> dict[str, Tainted]:
        """Lower-cased value → what we know about it, for every observation so far."""
        self._flush()
        return self._tainted

    @property
    def payees(self) -> dict[str, set[int]]:
        """Canonical bank account → ids of the bank records holding it (a payee's account
        on file, a vendor's remit-to): paying it pays that record's owner (`taint`)."""
        self._flush()
        return self._payees

    @property
    def contacts(self) -> dict[str, set[int]]:
        """Canonical contact → ids of the records whose owner it is."""
        self._flush()
        return self._contacts

    @property
    def hosts(self) -> dict[str, set[str]]:
        """Lower-cased value → the canonical hosts it was written for (module docstring)."""
        self._flush()
        return self._hosts

    @property
    def named(self) -> dict[str, set[int]]:
        """Canonical destination → the records whose free text names it (an instruction
        in a calendar invite's description, a message's body: `_names`)."""
        self._flush()
        return self._named

    @property
    def ids(self) -> dict[str, set[int]]:
        """A record's ``id`` (lower-cased) → the records it identifies: those with a
        contact field (a mail and its sender), for a reply that names the mail by id
        (`replies`)."""
        self._flush()
        return self._ids

    @property
    def barred(self) -> dict[str, set[int]]:
        """Canonical contact → the records that list its person as barred (`kin`)."""
        self._flush()
        return self._barred

    @property
    def access(self) -> set[int]:
        """The records whose text calls their codes access codes (`not_for_contacts`)."""
        self._flush()
        return self._access

    def _calls_codes(self, text: str, record: int) -> None:
        if ("ode" in text or "ODE" in text or "OTP" in text) and _ACCESS_TEXT.search(text):
            self._access_record(record)

    def _access_record(self, record: int) -> None:
        if self._events is not None:
            self._events.append((_ACCESS, record))
        else:
            self._access.add(record)

    def _prose_codes(self, codes: list[str], where: tuple[Any, ...]) -> None:
        """Codes a text calls a lock's (`access_codes.in_text`): strong, their kind the
        code's, not their field's ("ShowingInstructions.code"), their record's access
        codes (for no other record's contact, `not_for_contacts`)."""
        step, tool, path, ancestry = where
        at = (step, tool, f"{path}.code" if path else "code", ancestry)
        for code in codes:
            self._add("phone", code, "code", "strong", at)
        if ancestry:
            self._access_record(ancestry[-1])

    def _identify(self, value: dict[str, Any], record: int) -> None:
        ident = value.get("id")
        if not any(isinstance(k, str) and classify_key(k) == "contact" for k in value):
            return
        self._identified(ident, record)

    def _identified(self, ident: Any, record: int) -> None:
        if not isinstance(ident, str) or not 6 <= len(ident) <= 256:
            return
        if self._events is not None:
            self._events.append((_IDS, ident.lower(), record))
        else:
            self._ids.setdefault(ident.lower(), set()).add(record)

    def _names(self, text: str, record: int) -> None:
        """Note the destinations a record's free text (a field of several words) names."""
        if " " not in text or len(text) > _NAMING_CHARS:
            return
        marked = "@" in text or "://" in text or "+" in text
        if not marked and not patterns.may_hold_domain(text):
            return
        if "+" in text and (patterns.whole_phone(text) or _PHONE_ONLY.fullmatch(text)):
            return  # a phone number written in groups ("+1 206 418 7730", "+44(0)29 2018205")
        for contact in contacts_in_text(text):
            if self._events is not None:
                self._events.append((_NAMES, contact, record))
            else:
                self._named.setdefault(contact, set()).add(record)

    @property
    def issuers(self) -> dict[str, set[str]]:
        """Lower-cased value → the domains of the service a sibling field names as its
        issuer (`services.sections`: freqtrade's ``exchange.name``); `services` finds the
        others by the value's own key or prefix."""
        self._flush()
        return self._issuers

    def _issued(self, token: str, domain: str) -> None:
        if self._events is not None:
            self._events.append((_ISSUED, token, domain))
        else:
            self._issuers.setdefault(token, set()).add(domain)

    def _own(self, token: str, host: str) -> None:
        if self._events is not None:
            self._events.append((_OWNS, token, host))
        else:
            self._hosts.setdefault(token, set()).add(host)
            self.changes += 1

    def _record_id(self) -> int:
        self._next_record += 1
        return self._next_record

    def _echo(self) -> Echo:
        """What the call this observation answers gave; asking is recorded: a reading
        that never asks is the same whatever the call gave (`_reading_of`)."""
        self._echo_asked = True
        return self._echo_read

    def _add(
        self, kind: SecretKind, value: str, label: str, power: Strength, where: tuple[Any, ...]
    ) -> None:
        step, tool, key, ancestry = where
        value = value.strip()
        token = value.lower()
        echo_flat, echo_words, _ = self._echo()
        # a credential with no ASCII letter or digit (a Chinese seed phrase) is no echo:
        # its alnum, "", is in every text
        if echo_flat and (
            token in echo_words
            if label == "term"
            else (flat := alnum(value)) in echo_flat and (flat or label != "credential")
        ):
            return  # the tool repeating what the call gave it: nothing new came in
        if self._added is not None:
            self._added.append((token, label, key))
        secret = Secret(kind, value)
        if self._events is not None:  # recorded for a replay (`_reading`)
            self._events.append((secret, token, label, power, key, ancestry))
        else:
            self._merge(secret, token, label, power, (step, tool, key, ancestry))
        if label == "amount" and _ONE_DECIMAL.fullmatch(value):
            # a JSON number's one decimal (16368.4), also as money is written, with two
            # ("$16,368.40"): a digits needle must end where the digits do
            self._add(kind, value + "0", label, power, where)

    def _merge(
        self, secret: Secret, token: str, label: str, power: Strength, where: tuple[Any, ...]
    ) -> None:
        """Add ``secret`` (``token``: its value lower-cased) or merge it into what is known.

        A `Secret` is frozen, so a recorded reading's are shared by every replay."""
        step, tool, key, ancestry = where
        known = self._tainted.get(token)
        if known is None:
            self._tainted[token] = Tainted(secret, label, power, step, tool, key, set(ancestry))
        else:
            self.changes += 1
            known.records.update(ancestry)
            if _RANK[power] > _RANK[known.strength] or (
                power == known.strength and label in PERSON_BOUND
            ):  # a keyed reading beats a shape guess, a shape beats a bare token
                known.secret, known.label, known.strength = secret, label, power
                known._needle = None

    def _general(
        self,
        value: str,
        where: tuple[Any, ...],
        covered: str,
        field: bool = False,
        terms: bool = False,
    ) -> None:
        """The codes, identifiers and content in ``value`` (`values`); ``covered``: the
        digits of what a key or shape already found there (not tracked twice); ``terms``:
        a field that is no name or contact (a person's name alone stays weak)."""
        for seed in mnemonic.phrases(value):  # each spelling it may be sent in
            self._add("text", seed, "credential", "strong", where)
        for password in secret_forms.url_passwords(value):  # rtsp://admin:PASSWORD@cam
            self._add("text", password, "credential", "strong", where)
        for token, label, power in values.tokens(value):
            if (
                chain_values.public_shape(token)
                or cluster_names.generated(token)
                or court_filings.case_number(token)
                or containers.number(token)
            ):
                continue  # a chain's public value, a pod's name, a docket number, a box's
            digits = patterns.digits_of(token)
            if covered and digits and digits in covered:
                continue
            kind: SecretKind = "phone" if token.isdigit() else "text"
            self._add(kind, token, label, power, where)
        if " v" in value and court_filings.is_caption(value):
            pass  # a case's caption: on the court's docket for anyone (`court_filings`)
        elif values.is_content(value):
            self._add("text", value, "content", "medium", where)
            for amount in confidential.figures(value):  # a settlement's sum, an NDA'd price
                self._add("text", amount, "amount", "medium", where)
        elif field and (whole := values.field_value(value)) is not None:
            self._add("text", value, whole[0], whole[1], where)
        if terms:
            for term in values.terms(value):
                self._add("text", term, "term", "medium", where)

    def _leaf(
        self,
        key: str | None,
        inherited: KeyClass | None,
        value: str,
        step: int,
        tool: str,
        path: str,
        ancestry: tuple[int, ...],
    ) -> None:
        if chain_values.public(key, value):
            return  # an address, an xpub, a transaction's hash: the chain publishes them
        if key is not None and public_field(key):
            return  # a listing's ``PublicRemarks``: text everyone reads (`public_fields`)
        cls = (classify_key(key) if key else None) or inherited
        if cls is None and login_key(key) and patterns.whole_email(value.strip()):
            cls = "contact"  # an account's sign-in address: its holder's, a contact field
        where = (step, tool, path or None, ancestry)
        if (
            ancestry
            and (member := chat_member(key, value))
            and (at := places.place("channel", member))
        ):
            self._owned_by(at, ancestry[-1])  # {"slack_id": "U024BE7LH"}: the record's person
        if "[" in value:  # a key printed as its bytes ("SOLANA_PRIVATE_KEY=[174,47,…]")
            for found in byte_keys.in_text(value, key, self._echo().key_file):
                self._byte_key(found, where)
        if (code := access_codes.pin(key, value)) is not None:  # a door's, an alarm's PIN
            self._add("phone", code, "code", "strong", where)
            return
        if codes := access_codes.in_text(value):  # "lockbox on front door, code 4821"
            self._prose_codes(codes, (step, tool, path, ancestry))
        if key is not None and clinical.key_label(key) is not None:  # "Medications: …"
            self._clinical(clinical.values(key, value), where)
        if cls == "credential" and (inner := secret_forms.embedded(value)) is not None:
            self._walk(inner, None, None, step, tool, path, ancestry)  # a ``SecretString``
            return
        if cls is not None:
            keyed = by_key(cls, value, says_card(key))
            if keyed is not None:
                # an amount under a salary or balance key: a figure, medium (`keys.by_key`),
                # less a remark on its terms after it ("$18,500 (net 30)": `amount_part`)
                power = "medium" if keyed[1] == "amount" else _strength(keyed[2])
                if keyed[1] == "name" and court_filings.a_minors(path):
                    power = "medium"  # a child's name: initials only in public (Rule 5.2)
                value = (amount_part(value) or value) if keyed[1] == "amount" else value
                self._add(keyed[0], value, keyed[1], power, where)
                if keyed[1] == "credential" and (bare := chain_values.bare_hex(value)):
                    self._add("text", bare, "credential", power, where)  # sent without 0x
                elif keyed[1] == "credential" and (raw := byte_keys.from_base58(value)):
                    self._byte_key(raw, where)  # Phantom's export: its bytes, its hex too
                elif keyed[1] == "credential" and (" " in value or "\u3000" in value):
                    for seed in mnemonic.words_list(value.split()):  # "ábaco" as "abaco" too
                        self._add("text", seed, "credential", power, where)
                for form in secret_forms.decoded(value) if keyed[1] == "credential" else ():
                    self._add("text", form, "credential", power, where)  # its base64 undone
                # a bank record's account (a payee's on file): paying it pays that record's
                # owner, as mailing its e-mail mails them (`taint`: `CallCheck.paid`) — a
                # payee, not a contact: the record's other data is no one else's for it;
                # an account number that passes the Luhn check (one in ten) reads as a card
                if (
                    ancestry
                    and (
                        keyed[1] in ("account", "iban") or keyed[1] == "card" and not says_card(key)
                    )
                    and ancestry[-1] in self._banks
                    and bank_key(key)
                ):
                    self._payee(canonical(value, "account"), ancestry[-1])
                # a contact field, or an address field holding an e-mail (a Direct address)
                if ancestry and (cls == "contact" or keyed[1] == "email"):
                    self._owned_by(canonical(value, _contact_kind(keyed[0], value)), ancestry[-1])
                return
        if "\n" in value and (table := tables.from_text(value)) is not None:
            # a table inside a field (a notebook's output, a job's stdout): its rows
            self._walk(table[0], None, None, step, tool, path, (*ancestry, self._record_id()))
            value = table[1]
        if len(value) < 4:
            return
        covered = []
        for kind, found, label, strong in by_shape(value) if len(value) >= 6 else ():
            self._add(kind, found, label, _strength(strong), where)
            covered.append(patterns.digits_of(found))
        if (said := spoken.digits(value)) is not None:  # a card read out on a recorded call
            for kind, found, label, strong in by_shape(said):
                self._add(kind, found, label, _strength(strong), where)
        if cls is None and published(key) and value.count(" ") < values.TERM_MAX_WORDS:
            return  # a plan's name, an outage's incident number: the same for everyone
        field = key is not None
        terms = field and cls not in ("name", "contact") and not names_someone(key)
        terms = terms and key not in self._categorical
        self._general(value, where, " ".join(covered), field=field, terms=terms)

    def _byte_key(self, key: bytes, where: tuple[Any, ...]) -> None:
        """A secret key's bytes, tracked in each spelling it is sent in (`byte_keys`)."""
        for form in byte_keys.forms(key):
            self._add("text", form, "credential", "strong", where)

    def _clinical(self, found: list[tuple[str, str]], where: tuple[Any, ...]) -> None:
        """Track each (label, value) `clinical` read, medium: health data, named as such,
        with the ids of the patient its record names (`patients`)."""
        ids = [i for r in where[3] for i in self._patients.get(r, ())] if self._patients else ()
        if ids:
            where = (*where[:3], (*where[3], *dict.fromkeys(ids)))
        for label, value in found:
            if clinical.needle(value, label).usable:  # "9.5 %" alone is two digits
                self._add("text", value, label, "medium", where)

    def _patient(self, record: int, patient: tuple[int, ...], own: bool) -> None:
        """``record`` names the patient whose ids are ``patient`` (`patients`); ``own``:
        it is the patient's own record, reached by a message addressed to the patient."""
        self._patients[record] = patient
        for pid in patient if own else ():
            self._owned_by(patients.contact(pid), record)

    def _payee(self, account: str, record: int) -> None:
        """``account`` (canonical) is the bank account of ``record`` (`payees`)."""
        if self._events is not None:
            self._events.append((_PAYEE, account, record))
        else:
            self._payees.setdefault(account, set()).add(record)

    def _owned_by(self, contact: str, record: int) -> None:
        """``contact`` (canonical) belongs to the owner of ``record``, and to its patient
        where the record names one (`patients`)."""
        patient = self._patients.get(record, ()) or self._linked.get(record, ())
        if record in self._bars:  # barred from the record listing him (`kin`)
            barred = (_BARRED, contact, self._bars[record])
            if self._events is not None:
                self._events.append(barred)
            else:
                self._barred.setdefault(contact, set()).add(barred[2])
        for owner in (record, *patient):
            if self._events is not None:
                self._events.append((None, contact, owner))
            else:
                self._contacts.setdefault(contact, set()).add(owner)

    def _walk(
        self,
        value: Any,
        key: str | None,
        inherited: KeyClass | None,
        step: int,
        tool: str,
        path: str,
        ancestry: tuple[int, ...],
    ) -> None:
        if isinstance(value, dict):
            if "mimeType" in value or "payload" in value:
                value = mail_parts.as_record(value)  # a Gmail message: its text decoded
            point = fhir.contact_point(value) if "system" in value else None
            if point is not None:  # a FHIR ContactPoint: its holder's phone, fax, e-mail
                self._leaf(point[0], None, point[1], step, tool, f"{path}.value", ancestry)
                return
            cls = (classify_key(key) if key else None) or inherited
            # a contact or address block ({"contact": {"email": …}}), a work order's
            # ``vendor``, an application's ``applicant`` (`party_block`) belongs to the
            # record around it: its e-mail is that record's owner's
            nested_part = (
                cls in ("contact", "address") or mail_parts.item_body(value) or party_block(key)
            ) and ancestry
            here = ancestry if nested_part else (*ancestry, self._record_id())
            if not nested_part and (patient := self._subjects.get(id(value))):
                self._patient(here[-1], patient, value.get("resourceType") == "Patient")
            elif not nested_part and (linked := patients.record(value)):
                self._linked[here[-1]] = linked  # a plain record naming a patient
            kind = kin.relation(value, key) if not nested_part and ancestry else None
            if kind == "party":  # a guardian of record (`kin`): a party of the record too
                self._linked[here[-1]] = (*self._linked.get(here[-1], ()), ancestry[-1])
            elif kind == "barred":  # a parent a custody order bars: his contacts are
                self._bars[here[-1]] = ancestry[-1]
            for contact in self._care.get(id(value), ()) if here else ():
                self._owned_by(contact, here[-1])  # the parties a FHIR record names
            if "resourceType" in value:  # a FHIR resource's lab result, drug, diagnosis
                self._clinical(clinical.from_fhir(value), (step, tool, path or None, here))
            # {"entity_id": "text.door_code", "state": "4821"}: the value read under its name,
            # as a form's answer under its question when it asks for money (`form_answers`)
            named = access_codes.named_value(value) or form_answers.answered(value)
            if "id" in value and here:
                self._identify(value, here[-1])
            if here and any(bank_record_key(str(k)) for k in value):
                self._banks.add(here[-1])  # its account numbers are a bank's (`_leaf`)
            party = nested_part and party_block(key)
            for k, inner in value.items():
                at = f"{path}.{k}" if path else str(k)
                name = named[1] if named is not None and k == named[0] else str(k)
                self._walk(inner, name, cls, step, tool, at, here)
                if party and isinstance(inner, str) and _bare_email(inner):
                    # a party block's address under any key (a carrier's ``dispatch``,
                    # a supplier's ``orders``): that party's, a contact of the record
                    self._owned_by(canonical(inner.strip(), "email"), here[-1])
                if isinstance(inner, str) and here:
                    self._names(inner, here[-1])
                    self._calls_codes(inner, here[-1])
            for place in coordinates.home_coordinates(value, key):  # a home's, a car's fix
                self._add("text", place, "coordinates", "medium", (step, tool, path or None, here))
        elif isinstance(value, list):
            seeds = mnemonic.words_list(value)  # a phrase as its words
            for seed in seeds:
                self._add(
                    "text", seed, "credential", "strong", (step, tool, path or None, ancestry)
                )
            if (
                not seeds
                and len(value) in byte_keys.SIZES
                and (raw := byte_keys.from_list(value, key, self._echo().key_file)) is not None
            ):
                self._byte_key(raw, (step, tool, path or None, ancestry))  # Solana's id.json
            saved = self._categorical
            if len(value) >= 2 and isinstance(value[0], dict):  # rows: a column of categories?
                self._categorical = saved | tables.categorical(value)
            try:
                for i, inner in enumerate(value):
                    self._walk(inner, key, inherited, step, tool, f"{path}[{i}]", ancestry)
            finally:
                self._categorical = saved
        elif isinstance(value, str):
            self._leaf(key, inherited, value, step, tool, path, ancestry)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            # a long number; a salary's or a balance's (`keys`) from five digits
            money = key is not None and classify_key(key) == "money" and abs(value) >= 10**4
            big = isinstance(value, int) and abs(value) >= 10**5
            if money or big or (isinstance(value, int) and access_codes.pin(key, str(value))):
                text = str(int(value)) if float(value).is_integer() else str(value)
                self._leaf(key, inherited, text, step, tool, path, ancestry)

    def read(self, text: str, step: int, tool: str, echo: str = "") -> None:
        """Parse one observation now (message ``step``, made by ``tool``). What ``echo``
        (the arguments of the call it answers) already held is not new: a sent e-mail
        shown back, a saved record repeated. Such a value is tainted from where it
        first came, if anywhere; the echo brings in nothing.

        An observation up to ``CACHED_CHARS`` long is read once per (text, echo) and its
        reading replayed (`_reading`): product pages, profiles and stock replies recur
        across traces, and the reading depends on nothing else."""
        if len(text) + len(echo) > CACHED_CHARS:
            self._read_now(text, step, tool, echo)
            return
        events, records = _reading_of(text, echo)
        base = self._next_record
        tainted = self._tainted
        for event in events:
            if len(event) == 6:  # a value, the only event of six (3/4 of a retail pool's)
                secret, token, label, power, key, ancestry = event
                ids = {a + base if a > 0 else a for a in ancestry} if base else set(ancestry)
                if token not in tainted:  # `_merge`'s first case, written out
                    tainted[token] = Tainted(secret, label, power, step, tool, key, ids)
                else:
                    self._merge(secret, token, label, power, (step, tool, key, ids))
                continue
            if event[0] is None:  # an owner contact: (None, canonical contact, record)
                owner = event[2] + base if event[2] > 0 else event[2]  # a patient's: as is
                self._contacts.setdefault(event[1], set()).add(owner)
                continue
            if event[0] is _NAMES:  # a destination a record's text names
                self._named.setdefault(event[1], set()).add(event[2] + base)
                continue
            if event[0] is _IDS:  # a record's id
                self._ids.setdefault(event[1], set()).add(event[2] + base)
                continue
            if event[0] is _BARRED:  # a contact barred from a record (`kin`)
                self._barred.setdefault(event[1], set()).add(event[2] + base)
                continue
            if event[0] is _PAYEE:  # a bank record's account
                self._payees.setdefault(event[1], set()).add(event[2] + base)
                continue
            if event[0] is _ACCESS:  # a record calling its codes access codes
                self._access.add(event[1] + base)
                continue
            if event[0] is _OWNS:  # an owner host: (_OWNS, value, canonical host)
                self._hosts.setdefault(event[1], set()).add(event[2])
                self.changes += 1
                continue
            if event[0] is _ISSUED:  # an issuer a sibling named: (_ISSUED, value, domain)
                self._issuers.setdefault(event[1], set()).add(event[2])
        self._next_record = base + records

    def _read_now(self, text: str, step: int, tool: str, echo: str) -> None:
        text = mail_parts.readable(text)  # a mail's quoted-printable text, decoded
        if echo:
            self._echo_read = Echo(alnum(echo), frozenset(words(echo)), byte_keys.key_file(echo))
        self._added = []
        try:
            view = numbered_view(text)
            if view is not None:  # a file shown by `cat -n`: read as the file it shows
                head, text = view
                if head.strip():
                    self._read(head, step, tool)
            data = self._read(text, step, tool)
            if self._added:
                self._owner_hosts(text, data, self._added)
        finally:
            self._echo_read = _NO_ECHO
            self._added = None
            self._patients, self._linked, self._bars = {}, {}, {}
            self._banks = set()

    def _read(self, text: str, step: int, tool: str) -> Any:
        """Read one observation; its structured data, or None for text."""
        data = structured(text)
        message = hl7v2.fields(text) if data is None else None
        if message is not None:  # an HL7 v2 message: one record of named fields
            segments = hl7v2.segments(text)
            if patient := patients.hl7(segments):  # its PID's: the record `_walk` numbers
                self._patient(self._next_record + 1, patient, own=True)
            self._walk([message], None, None, step, tool, "", ())
            found = clinical.from_hl7(segments)
            self._clinical(found, (step, tool, None, (self._next_record,)))
            return message
        if isinstance(data, dict | list):
            table = tables.from_data(data)
            walked = data
            if table is not None:  # a header and rows: cells keyed by their column
                self._table(table[0], step, tool)
                walked = table[1]
            root = () if isinstance(walked, dict) else (self._record_id(),)
            self._care = fhir.care_team(walked)  # keyed by id(): only while ``data`` lives
            self._subjects = patients.fhir(walked) if "resourceType" in text else {}
            try:
                self._walk(walked, None, None, step, tool, "", root)
            finally:
                self._care, self._subjects = {}, {}
            return data
        found = tables.from_text(text)
        if found is not None:  # a psql, Markdown or CSV table, and what is around it
            self._table(found[0], step, tool)
            text = found[1]
        record = (self._record_id(),)
        if patient := patients.note(text):  # a note's header names its patient
            self._patient(record[0], patient, own=True)
        settings = 0  # assignments and [section] lines: a configuration file's
        section = None  # a note's "Medications:" heading, for the lines under it
        for line in text.splitlines():
            section = clinical.section(section, line)
            if section is not None and section != line.strip()[:-1]:  # an item under it
                self._clinical(clinical.values(section, line), (step, tool, section, record))
            assigned = assignment(line)
            if assigned is not None:  # "export NPM_TOKEN=…": a field, as in .env files
                self._leaf(assigned[0], None, assigned[1], step, tool, assigned[0], record)
                settings += 1
                continue
            if line[:1] == "[" and line.rstrip()[-1:] == "]":
                settings += 1
            key, sep, value = line.partition(":")
            # a key holding a path separator is a place ("src/app/auth.py:12: in f")
            plain_key = key.strip()[:1].isalnum() and "/" not in key and "\\" not in key
            if sep and plain_key and len(key.strip()) <= 30 and value.strip() and value[:2] != "//":
                self._leaf(key.strip(), None, value.strip(), step, tool, key.strip(), record)
                if _MESSAGE_ID.fullmatch(key.strip()):  # "Message ID: …" of a mail shown as text
                    self._identified(value.strip(), record[0])
            elif line.strip():
                self._leaf(None, None, line, step, tool, "", record)
                self._names(line, record[0])
                self._calls_codes(line, record[0])
                if sep and clinical.key_label(key.strip()):  # "Assessment/Plan: 1. HTN (I10)"
                    found = clinical.values(key.strip(), value)
                    self._clinical(found, (step, tool, key.strip(), record))
        lines = [line for line in text.strip().splitlines() if line.strip()]
        # a configuration file (mostly settings) is fields, not prose: its values are
        # tracked one by one, and a command repeating three of them carries no "text"
        prose = 1 < len(lines) > 2 * settings and not any(map(values.is_content, lines))
        if prose and values.is_content(text):  # prose in short lines: content as a whole
            self._add("text", text.strip(), "content", "medium", (step, tool, None, record))
        return None

    def _table(self, records: tables.Records, step: int, tool: str) -> None:
        """A table's rows, walked as records (`tables`; a list of records yields no
        terms from a column of categories, `_walk`)."""
        self._walk(records, None, None, step, tool, "", (self._record_id(),))

    def _owner_hosts(self, text: str, data: Any, added: list[tuple[str, str, str | None]]) -> None:
        """The owner hosts (`owners`) of what reading ``text`` (parsed as ``data``, or
        None for text) added."""
        found = list(owners.glued(text, [t for t, _, _ in added]))
        credentials = {(t, key or "") for t, label, key in added if label == "credential"}
        if data is not None and any(
            key and key.rpartition(".")[2].lower() in services.SECTION_VALUES for _, _, key in added
        ):  # a bare "key" or "secret": its section's name may be a service's (freqtrade's)
            for token, domain in services.sections(data, {t for t, _, _ in added}):
                self._issued(token, domain)  # its issuer's: used there (`auth_use`)
        codes = {t for t, label, _ in added if label == "code"}
        if codes and isinstance(data, (dict, list)):
            found += owners.recorded(data, codes)  # a record's ids, for its one host
        if credentials and data is not None:
            found += owners.configured(data, credentials)
        elif credentials:
            lines = text.splitlines()
            found += owners.in_sections(lines, [t for t, _ in credentials], assignment)
        for token, host in found:
            self._own(token, host)


_NAMING_CHARS = 4096
"""A field longer than this (a document) is not read for the destinations it names."""
CACHED_CHARS = 4096
"""Observations (with the arguments they answer) up to this long have their readings
cached; `_reading` keeps ``READINGS_CACHED`` of them, so the cache stays under ~40 MB."""
READINGS_CACHED = 2048


ECHOLESS: set[str] = set()
"""Observations (up to ``CACHED_CHARS`` long) whose reading never looked at the arguments
of the call they answer (`_reading_of`), at most ``READINGS_CACHED`` of them."""


def _reading_of(text: str, echo: str) -> tuple[tuple[tuple[Any, ...], ...], int]:
    """`_reading` of ``text`` answering ``echo``, under one cache entry for every echo
    where the reading does not depend on it.

    The echo only matters where a value is added (`ObservationReader._add` drops what
    the call gave) or a key's bytes are read (`byte_keys`: does the call name a key
    file?). A reading that did neither is the same for any echo — "email sent", "address
    updated", ``{"ok": true}`` answering calls whose arguments differ every time, which
    were read afresh each time (~25 µs each; a sixth of a retail pool's observations)."""
    if echo and text in ECHOLESS:
        echo = ""
    events, records, asked = _reading(text, echo)
    if echo and not asked:
        if len(ECHOLESS) >= READINGS_CACHED:
            ECHOLESS.clear()
        ECHOLESS.add(text)
    return events, records


@lru_cache(maxsize=READINGS_CACHED)
def _reading(text: str, echo: str) -> tuple[tuple[tuple[Any, ...], ...], int, bool]:
    """What reading ``text`` (answering a call with arguments ``echo``) brings in: the
    values in `ObservationReader._add`'s order as (`Secret`, its lower-cased value,
    label, strength, key, record ids), the owner contacts as (None, contact, record
    id), record ids counted from 1, the owner hosts as (``_OWNS``, value, host), and how
    many record ids it took. Replayed, it gives what reading it does. Last, whether the
    reading looked at ``echo`` at all (`_reading_of`)."""
    reader = ObservationReader()
    reader._events = []
    reader._read_now(text, 0, "", echo)
    return tuple(reader._events), reader._next_record, reader._echo_asked
