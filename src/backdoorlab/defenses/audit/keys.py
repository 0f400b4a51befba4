"""What a record's field names say its values are: a credential, a financial or identity
number, a contact, an address, a name — and whether a field holds a person.

Read by `observations` (which values of a tool result are secrets, and of what kind) and
`recipients` (whether a value is a document the user must have named).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Literal

from backdoorlab.defenses.audit import patterns, values
from backdoorlab.leaks import SecretKind

KeyClass = Literal["credential", "financial", "contact", "address", "name", "money"]

_CREDENTIAL_PARTS = (
    "password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey",
    "privatekey", "sessionid", "cookie", "bearer", "mnemonic", "seedphrase", "recoveryphrase",
    "seedwords", "xprv", "accesspass",
)  # fmt: skip
# Entra's ``temporaryAccessPass`` (and any "access pass"): an 8-character sign-in
# secret, often letters and symbols with no digit, which no shape rule reads
_CREDENTIAL_WORDS = frozenset({"pwd", "otp", "cvv", "cvc", "pin", "auth", "jwt", "psk"})
# a wireless network's key is its passphrase, often words with no digit ("wireless.
# radio0.key='sunny porch biscuit'", netsh's "Key Content"): no other credential rule
# reads a bare "key"
_WIRELESS = frozenset({"wireless", "wifi", "wlan", "wpa", "wpa2", "ssid", "radio0", "radio1"})
_FINANCIAL_PARTS = (
    "card", "iban", "account", "routing", "swift", "ssn", "socialsecurity", "taxid",
    "passport", "license", "licence", "birth", "bankaccount",
)  # fmt: skip
_FINANCIAL_WORDS = frozenset({"pan", "acct", "dob", "tin", "bic", "nin", "nino"})
# other languages' words, read from the key with its accents dropped and case folded
# (`_folded`: "dirección" → "direccion", "Straße" → "strasse"): a customer record from a
# European, Latin-American, Indian or Japanese system names its fields in its language
_LOCAL_CONTACT_PARTS = (
    "telefo", "movil", "celular", "cellulare", "handynummer", "mobiel", "komorka",
    "電話", "携帯",
)  # fmt: skip
_LOCAL_ADDRESS_PARTS = (
    "adres", "direccion", "endereco", "indirizzo", "domicilio", "anschrift", "strasse",
    "logradouro", "ulica", "住所",
)  # fmt: skip
_LOCAL_FINANCIAL_PARTS = (
    "ausweis", "ninumber", "steuerid", "steuernummer", "kontonummer", "codicefiscale", "numerosecu",
    "securitesociale", "aadhaar", "pesel", "curp", "clabe", "cuenta", "rekening",
    "マイナンバー", "口座",
)  # fmt: skip
_LOCAL_FINANCIAL_WORDS = frozenset(
    {"dni", "nif", "nie", "cpf", "cnpj", "rfc", "bsn", "insee", "nir", "konto", "conta", "conto"}
)
# what a person earns, in the languages a benefits or tax office's records are kept in
# (``einkommen_monatlich``, ``revenus_mensuels``, ``renda_mensal``, ``inkomen``)
_LOCAL_MONEY_PARTS = (
    "einkommen", "gehalt", "bruttolohn", "nettolohn", "verdienst", "inkomen", "salaris",
    "revenu", "salaire", "renda", "rendimento", "salario", "ingreso", "reddito", "stipendio",
    "wynagrodzenie", "dochod", "年収", "給与", "所得",
)  # fmt: skip
_CONTACT_PARTS = (
    "email", "phone", "mobile", "telephone", "participant", "attendee", "recipient",
    "sender", "invitee", "member",
)  # fmt: skip
_CONTACT_WORDS = frozenset(
    {"mail", "tel", "fax", "cell", "contact", "msisdn", "from", "to", "cc", "bcc", "organizer"}
    # a file's list of its people (an escrow order's or a Dotloop loop's ``parties``, an
    # envelope's ``signers``): each of them a party of the record, as a meeting's attendees
    | {"parties", "signers"}
    | {"mails"}  # Microsoft Graph's ``otherMails``: a user's secondary addresses
    # a message's or a post's writer (Discord's, GitHub's ``author`` block, a commit's
    # "Name <mail>"): the contact of what they wrote, as a mail's sender is
    | {"author"}
)
# the dates a birth or opening key holds besides ISO: HL7 v2's ``19800115`` (DTM), a US
# chart's ``01/15/1980``, a European ``15.01.1980``
_KEYED_DATE = re.compile(
    r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])|\d{1,2}[/.]\d{1,2}[/.](?:19|20)\d\d"
)
_ADDRESS_PARTS = ("address", "street", "residence", "domicile")
_ADDRESS_WORDS = frozenset({"addr", "line1", "line2"})
# what a person earns or holds, or a company's internal figures: a salary, a balance
# (never "amount", "price" or "total": a payment's sum is sent to whoever is paid)
_MONEY_PARTS = (
    "salary", "salaries", "wage", "compensation", "income", "payroll", "balance", "revenue",
    "earnings", "bonus", "networth",
)  # fmt: skip
# an adjusted gross income (a tax return's, an ISIR's); a contractor's or a creator's fee;
# an insurer's reserve on a claim (``reserveAmount``, ``outstandingReserve``), the figure it
# expects to pay and never tells the claimant (as a word: no ``reserved`` flag nor table)
_MONEY_WORDS = frozenset({"agi", "magi", "fee", "fees", "retainer", "honorarium"})
_MONEY_WORDS |= {"reserve", "reserves"}
_NAME_PARTS = (
    "firstname", "lastname", "fullname", "surname", "givenname", "middlename",
    "customername", "holdername", "cardholder", "legalname",
)  # fmt: skip


@lru_cache(maxsize=8192)
def classify_key(key: str) -> KeyClass | None:
    """What a JSON key says its value is, or None for an ordinary key."""
    tokens = patterns.name_tokens(key)
    flat = "".join(tokens)
    if not key.isascii():
        return _classify_local(key) or _classify(tokens, flat)
    return _classify(tokens, flat) or _classify_local(key)


def _folded(key: str) -> str:
    """A key without accents, case-folded ("Dirección" → "direccion")."""
    decomposed = unicodedata.normalize("NFKD", key.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _classify_local(key: str) -> KeyClass | None:
    """`classify_key` for a key in another language (the `_LOCAL_*` words)."""
    folded = _folded(key)
    # the key as written too: NFKD splits a kana's voicing mark off ("バ" → "ハ" + "゙")
    flat = "".join(ch for ch in folded if ch.isalnum()) + " " + key
    if any(p in flat for p in _LOCAL_CONTACT_PARTS):
        return "contact"
    if any(p in flat for p in _LOCAL_ADDRESS_PARTS):
        return "address"
    if any(p in flat for p in _LOCAL_FINANCIAL_PARTS):
        return "financial"
    if _LOCAL_FINANCIAL_WORDS.intersection(patterns.name_tokens(folded)):
        return "financial"
    if any(p in flat for p in _LOCAL_MONEY_PARTS):
        return "money"
    return None


def _classify(tokens: tuple[str, ...], flat: str) -> KeyClass | None:
    if any(p in flat for p in _NAME_PARTS):
        return "name"
    if any(p in flat for p in _CREDENTIAL_PARTS) or _CREDENTIAL_WORDS.intersection(tokens):
        return "credential"
    if "key" in tokens and (flat == "keycontent" or not _WIRELESS.isdisjoint(tokens)):
        return "credential"  # a Wi-Fi network's key: OpenWrt's, Windows' "Key Content"
    if any(p in flat for p in _CONTACT_PARTS) or _CONTACT_WORDS.intersection(tokens):
        return "contact"
    if any(p in flat for p in _ADDRESS_PARTS) or _ADDRESS_WORDS.intersection(tokens):
        return "address"
    if any(p in flat for p in _FINANCIAL_PARTS) or _FINANCIAL_WORDS.intersection(tokens):
        return "financial"
    if any(p in flat for p in _MONEY_PARTS) or _MONEY_WORDS.intersection(tokens):
        return "money"
    return None


_LOGIN_WORDS = frozenset({"login", "logon", "signin", "username", "upn", "principal", "user"})


@lru_cache(maxsize=8192)
def login_key(key: str | None) -> bool:
    """A key naming an account's sign-in (``login_id``, ``userPrincipalName``,
    ``portal_user``): an e-mail address under it is the account holder's own."""
    return key is not None and not _LOGIN_WORDS.isdisjoint(patterns.name_tokens(key))


_WORKSPACE_CHATS = frozenset(("slack", "teams", "mattermost", "webex", "zulip", "rocketchat"))
_MEMBER_WORDS = frozenset(("id", "uid", "user", "member", "handle"))
_MEMBER_ID = re.compile(r"[@#]?[A-Za-z0-9][\w:.-]{5,63}")


def chat_member(key: str | None, value: str) -> str | None:
    """The member id ``value`` is when ``key`` names a person's id in the operator's
    workplace chat (``slack_id``, ``slackUserId``, ``teams_user_id``), else None: the
    person the record lists, reached there, as a contact field's e-mail reaches them.
    Not a public messenger's (a Telegram ``chat_id`` anyone may open)."""
    if key is None or not _MEMBER_ID.fullmatch(value.strip()):
        return None
    tokens = patterns.name_tokens(key)
    if _WORKSPACE_CHATS.isdisjoint(tokens) or _MEMBER_WORDS.isdisjoint(tokens):
        return None
    return value.strip().lstrip("@#")


_ASCII_DIGITS = "0123456789"
# a currency's sign before the figure (``R$``, ``CA$``, ``₹``) or after it, as most of
# Europe writes it (``3.690,59 €``, ``1 250,00 zł``)
_SIGN = r"(?:[A-Z]{0,3}\$|[€£¥₹₩₽₺₴₦₱₪฿₫])"
_AMOUNT = re.compile(
    rf"[-+]?{_SIGN}?\s?\d[\d,.' \u00a0]*(?:\s?(?:[A-Z]{{3}}|{_SIGN}|zł|kr|Kč|Ft|lei))?"
)


# an amount written first, then a remark on its terms: "$18,500 (net 30)", "€95,000 per
# year", "120,000 USD, paid monthly"
_AMOUNT_THEN = re.compile(
    r"([-+]?[$€£¥]?\s?\d[\d,.' \u00a0]*?(?:\s?[A-Z]{3})?)\s*(?=[(;/]|,\s|per\b|net\b|a year\b)"
)


def amount_part(value: str) -> str | None:
    """The amount of five digits or more a money field holds (`by_key`): the whole value,
    or the amount it starts with before a remark on its terms (``$18,500 (net 30)``)."""
    value = value.strip()
    if _AMOUNT.fullmatch(value):
        return value if digit_count(value) >= 5 and patterns.digits_of(value) else None
    found = _AMOUNT_THEN.match(value)
    if found is None or digit_count(found.group(1)) < 5:
        return None
    return found.group(1).strip()


def digit_count(text: str) -> int:
    """How many of ``text``'s characters are ASCII digits: ten `str.count` scans, which
    run at memory speed where a deleting `str.translate` goes a character at a time."""
    return sum(map(text.count, _ASCII_DIGITS))


_BANK_KEY_WORDS = frozenset({"account", "acct", "iban", "routing", "bankaccount"})
_BANK_RECORD_WORDS = frozenset({"bank", "routing", "iban", "sortcode", "bic", "swift", "aba"})


@lru_cache(maxsize=4096)
def bank_key(key: str | None) -> bool:
    """A key naming a bank account (``accountNumber``, ``routingNumber``, ``iban``): in a
    bank record (`bank_record_key`), the account that record pays into or is paid from."""
    return key is not None and not _BANK_KEY_WORDS.isdisjoint(patterns.name_tokens(key))


_BANK_CODE_WORDS = frozenset({"routing", "aba", "bic", "swift", "sortcode", "transit"})


@lru_cache(maxsize=4096)
def bank_code_key(key: str) -> bool:
    """A key naming a bank's code (``routingNumber``, ``bic``, ``sort_code``): it names
    the bank, which every payee of that bank shares, not where a payment goes."""
    tokens = patterns.name_tokens(key)
    return not _BANK_CODE_WORDS.isdisjoint(tokens) or ("sort" in tokens and "code" in tokens)


@lru_cache(maxsize=4096)
def bank_record_key(key: str) -> bool:
    """A key only a bank account's record has (``bankName``, ``routing_number``, ``iban``):
    its ``accountNumber`` is a bank account, not a customer's account with a carrier."""
    return not _BANK_RECORD_WORDS.isdisjoint(patterns.name_tokens(key))


@lru_cache(maxsize=8192)
def says_card(key: str | None) -> bool:
    return key is not None and ("card" in key.lower() or "pan" in patterns.name_tokens(key))


def by_key(
    cls: KeyClass, value: str, says_card: bool = False
) -> tuple[SecretKind, str, bool] | None:
    """(leak kind, label, strong) for a value under a key of class ``cls``, if it fits.

    A card number is recognised by a key that says card, or else by the Luhn check; a
    date under a financial or identity key (``dob``, ``birth_date``, ``account_opened``)
    is a ``date``, no account number (which, to the user, is a document they must name).
    """
    value = value.strip()
    ndigits = digit_count(value)
    if cls == "credential":
        return ("text", "credential", True) if len(value) >= 6 else None
    if cls == "financial":
        # a date of birth, an account's opening: no number (`_KEYED_DATE`'s forms too)
        if values.is_date(value) or _KEYED_DATE.fullmatch(value):
            return ("text", "date", True)
        if patterns.IBAN.fullmatch(value.upper().replace(" ", "")):
            return ("text", "iban", True)  # before the card check: an IBAN may pass Luhn
        digits = patterns.digits_of(value)
        cardlike = 12 <= len(digits) <= 19 and ndigits >= len(value) - 6
        if cardlike and (says_card or patterns.luhn_ok(digits)):
            return ("card", "card", True)
        if ndigits >= 6 and any(ch.isalpha() for ch in value.replace(" ", "")):
            return ("text", "identifier", True)  # a passport or licence number: as written
        if ndigits >= 6:
            return ("phone", "account", True)  # digit-run matching, separators ignored
        return None
    if cls == "contact":
        if patterns.contact_email(value):
            return ("email", "email", True)
        # "from: 2024-05-14" is no phone, nor "to agents: text it to +1 555 0100 999"
        spelled = sum(ch.isalpha() for ch in value) > 3
        if ndigits >= 7 and not spelled and not values.is_date(value):
            return ("phone", "phone", True)
        return None
    if cls == "address":
        if patterns.contact_email(value):  # an e-mail address ("Direct address: dr@…")
            return ("email", "email", True)
        return ("address", "address", True) if ndigits and len(value) >= 8 else None
    if cls == "money":  # an amount of five digits or more (a salary, a balance): `AMOUNT`
        return ("text", "amount", False) if amount_part(value) else None
    return ("name", "name", False) if len(value) >= 6 else None


_PERSON_KEY_WORDS = frozenset(
    (
        "name", "names", "by", "author", "owner", "assignee", "manager", "user", "username",
        "employee", "person", "people", "guest", "passenger", "traveler", "traveller",
        "patient", "customer", "client", "signer", "signature",
    )
)  # fmt: skip


_PARTY_ROLES = frozenset(("vendor", "supplier", "applicant", "coapplicant"))
# a shipment's parties (a bill of lading's, a load tender's): each is sent the shipment
_PARTY_ROLES |= {"carrier", "shipper", "consignee", "consignor"}
# a sale's or a loan's customer (a dealer's deal, a lender's account): the deal is theirs
_PARTY_ROLES |= {"customer", "buyer", "cobuyer", "borrower", "coborrower", "lessee"}


@lru_cache(maxsize=4096)
def party_block(key: str | None) -> bool:
    """A key whose object is the party a record is addressed to or comes from: a work
    order's or a purchase order's ``vendor``, an application's ``applicant``, a
    shipment's ``carrier``, ``shipper`` or ``consignee`` (a load tender's carrier is
    sent its pickup, seal and stops; a consignee its delivery), a deal's or a loan's
    ``customer``, ``buyer`` or ``borrower`` (sent their own deal recap). Its
    contact is the record's own (the vendor is sent the unit's address, the applicant
    their application), as a contact block's is (`observations`)."""
    tokens = patterns.name_tokens(key) if key else ()
    return bool(tokens) and tokens[-1] in _PARTY_ROLES


@lru_cache(maxsize=8192)
def names_someone(key: str | None) -> bool:
    """A key that says its value is a name or a person ("displayName", "created_by"):
    a person's name alone stays weak, so such a field yields no terms (`values.terms`)."""
    return key is not None and not _PERSON_KEY_WORDS.isdisjoint(patterns.name_tokens(key))


_PUBLISHED_KEY_WORDS = frozenset(("plan", "tier", "tariff", "incident", "outage"))
# a ship's name and its voyage: every carrier's public sailing schedule lists them
_PUBLISHED_KEY_WORDS |= {"vessel", "voyage"}
# a vehicle's identification number: printed under its windscreen, decoded and checked
# for recalls by anyone (NHTSA's public APIs), on every listing and history report
_PUBLISHED_KEY_WORDS |= {"vin"}
_ADVERTISED = frozenset(("list", "listing", "asking", "retail", "sticker"))
_CARE_KEY_WORDS = frozenset(("care", "treatment", "assessment", "soap", "clinical", "therapy"))


@lru_cache(maxsize=8192)
def published(key: str | None) -> bool:
    """A key whose short value is the same for everyone it concerns, so no one's secret:
    a service plan's, tier's or tariff's name from the operator's catalogue ("Unlimited
    Plus", "Fixed Rate 24"), an outage's incident number its status page shows, a
    vessel's name and voyage number (a carrier's sailing schedule: "MSC GULSUN 412W"), a
    car's VIN (read through its windscreen, decoded by public APIs), an
    advertised price (``ListPrice``, ``asking_price``: the sum a listing shows). Not a
    clinical plan ("carePlan", "treatment_plan"): that one is a patient's."""
    if key is None:
        return False
    tokens = patterns.name_tokens(key)
    if any(a in _ADVERTISED and b == "price" for a, b in zip(tokens, tokens[1:], strict=False)):
        return True  # an advertised price (an MLS ``ListPrice``, a retail price): anyone's
    return not _PUBLISHED_KEY_WORDS.isdisjoint(tokens) and _CARE_KEY_WORDS.isdisjoint(tokens)
