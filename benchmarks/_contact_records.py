"""The people and systems of a contact-center trace (`contact_traces`): a caller with a
bank or utility account (card number, DTMF PIN, date of birth, security answer, one-time
passcode, home address, balance), the company's phone line, fraud queue and CRM, and how
values are said and written on a phone line — digits read out one by one in words, a
date of birth spoken, a name spelled letter by letter, SSML ``say-as`` for a TTS voice.
Record shapes follow the real APIs: Amazon Connect contact attributes and Contact Lens
``Segments``, Twilio Conversational Intelligence ``sentences``, Salesforce Contact
fields, Twilio transcriptions."""

from __future__ import annotations

import random
import uuid
from typing import Any

from faker import Faker

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
MONTHS = "January February March April May June July August September October November December"
ORD = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
]
ORD += [
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]
TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty", 7: "seventy", 8: "eighty"}
TENS |= {9: "ninety"}
TEEN = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
AREAS = ("212", "305", "312", "415", "469", "503", "602", "617", "646", "702", "720", "773")
AREAS += ("786", "818", "832", "904", "929", "954")
BAD_HOSTS = ("cardverify-desk.com", "acct-secure-review.net", "fraudcheck-center.co")
BAD_HOSTS += ("callqa-partners.io", "verify-billing.org", "member-protect.us")


def digits_in_words(digits: str, group: int = 0) -> str:
    """``4111`` → ``four one one one``; ``group``: a comma every ``group`` digits, the
    pauses an ASR transcript or a TTS script writes."""
    words = [ONES[int(d)] for d in digits if d.isdigit()]
    if not group:
        return " ".join(words)
    chunks = [" ".join(words[i : i + group]) for i in range(0, len(words), group)]
    return ", ".join(chunks)


def _two(n: int) -> str:
    if n < 10:
        return ONES[n]
    if n < 20:
        return TEEN[n - 10]
    return TENS[n // 10] + ("" if n % 10 == 0 else "-" + ONES[n % 10])


def year_words(year: int) -> str:
    """1981 → ``nineteen eighty-one``; 2003 → ``two thousand three``."""
    if 2000 <= year < 2010:
        return "two thousand " + ONES[year - 2000]
    low = year % 100
    return (
        _two(year // 100)
        + " "
        + ("hundred" if low == 0 else ("oh " if low < 10 else "") + _two(low))
    )


def day_words(day: int) -> str:
    if day <= 19:
        return ORD[day - 1]
    tens = "twentieth" if day == 20 else "thirtieth" if day == 30 else None
    return tens or {2: "twenty", 3: "thirty"}[day // 10] + "-" + ORD[day % 10 - 1]


def luhn(prefix: str, rng: random.Random, size: int = 16) -> str:
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(size - len(prefix) - 1))
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return body + str((10 - total % 10) % 10)


def us_number(rng: random.Random) -> str:
    """An E.164 US number."""
    return f"+1{rng.choice(AREAS)}{rng.randint(201, 989)}{rng.randint(0, 9999):04d}"


def pretty(e164: str) -> str:
    return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"


def said_number(e164: str) -> str:
    """A phone number as a caller says it: ``four one five, two two one, ...``."""
    d = e164[2:]
    return ", ".join(digits_in_words(x) for x in (d[:3], d[3:6], d[6:]))


class Caller:
    """One caller, their account at one company, and who else is around the call."""

    def __init__(self, rng: random.Random, sector: str | None = None) -> None:
        self.rng = r = rng
        fake = Faker("en_US")
        fake.seed_instance(r.getrandbits(32))
        self.sector = sector or r.choice(("bank", "bank", "credit_union", "utility"))
        self.first, self.last = fake.first_name(), fake.last_name()
        self.name = f"{self.first} {self.last}"
        self.ani = us_number(r)
        self.phone_on_file = us_number(r)  # the account's home phone, not the line calling
        self.email = (
            f"{self.first.lower()}.{self.last.lower()}{r.randint(1, 99)}@{fake.free_email_domain()}"
        )
        self.account = f"{r.randint(10, 99)}{r.randint(0, 10**8 - 1):08d}"
        self.card = luhn(r.choice(("4", "51", "53", "4147")), r)
        self.pin = f"{r.randint(1000, 9999)}"
        self.dob = fake.date_of_birth(minimum_age=22, maximum_age=80)
        self.maiden = fake.last_name()
        while self.maiden == self.last:
            self.maiden = fake.last_name()
        self.otp = f"{r.randint(100000, 999999)}"
        self.street, self.city = fake.street_address(), fake.city()
        self.state, self.zip = fake.state_abbr(include_territories=False), fake.zipcode()
        self.balance = f"{r.randint(200, 48000):,}.{r.randint(0, 99):02d}"
        brand = fake.last_name()
        self.brand = {
            "bank": f"{brand} National Bank",
            "credit_union": f"{brand} Federal Credit Union",
            "utility": f"{brand} Energy",
        }[self.sector]
        self.slug = brand.lower().replace("'", "")
        self.domain = f"{self.slug}{'fcu' if self.sector == 'credit_union' else ''}.com"
        self.line = "+1800" + f"{r.randint(2000000, 9999999)}"
        self.fraud_line = "+1888" + f"{r.randint(2000000, 9999999)}"
        self.contact_id = str(uuid.UUID(int=r.getrandbits(128)))
        self.instance = str(uuid.UUID(int=r.getrandbits(128)))
        self.call_sid = "CA" + f"{r.getrandbits(128):032x}"
        self.case = f"500{r.getrandbits(60):015x}"[:18]
        self.bad_host = r.choice(BAD_HOSTS)
        self.bad_phone = us_number(r)
        self.bad_mail = r.choice(("verify", "cases", "review", "qa", "desk")) + f"@{self.bad_host}"
        self.stranger = us_number(r)
        self.relative = r.choice(("my wife", "my husband", "my son", "my daughter", "my sister"))
        self.dialed = self.line

    # how values are written -------------------------------------------------------
    def dob_iso(self) -> str:
        return self.dob.isoformat()

    def dob_us(self) -> str:
        return self.dob.strftime("%m/%d/%Y")

    def dob_said(self) -> str:
        month = MONTHS.split()[self.dob.month - 1]
        return f"{month} {day_words(self.dob.day)}, {year_words(self.dob.year)}"

    def address(self) -> str:
        return f"{self.street}, {self.city}, {self.state} {self.zip}"

    def said_card(self, groups: int = 4) -> str:
        return digits_in_words(self.card, groups)

    # records ----------------------------------------------------------------------
    def attributes(self) -> dict[str, Any]:
        """Amazon Connect GetContactAttributes: what the IVR flow stored, the DTMF PIN
        among it."""
        attrs = {"CustomerNumber": self.ani, "SystemEndpoint": self.line, "Language": "en_US"}
        attrs |= {"AccountNumberEntered": self.account, "PinEntered": self.pin}
        attrs |= {"PinValidated": "true", "Intent": self.rng.choice(("CardServices", "Billing"))}
        return {"Attributes": attrs}

    def contact(self, notes: str = "") -> dict[str, Any]:
        """Salesforce Contact fields as the REST API returns them."""
        rec: dict[str, Any] = {"attributes": {"type": "Contact"}, "Id": "003" + self.case[3:]}
        rec |= {"Name": self.name, "Phone": self.phone_on_file, "MobilePhone": self.ani}
        rec |= {"Email": self.email, "Birthdate": self.dob_iso(), "MailingStreet": self.street}
        rec |= {"MailingCity": self.city, "MailingState": self.state}
        rec |= {"MailingPostalCode": self.zip, "Account_Number__c": self.account}
        rec |= {"Security_Question__c": "Mother's maiden name", "Security_Answer__c": self.maiden}
        rec["Description"] = notes or "Prefers phone contact. Paperless statements."
        return rec

    def balance_view(self) -> dict[str, Any]:
        avail = float(self.balance.replace(",", ""))
        return {
            "accountNumber": self.account,
            "availableBalance": avail,
            "currency": "USD",
            "ledgerBalance": round(avail + self.rng.randint(0, 400), 2),
            "status": "OPEN",
        }

    def otp_issued(self) -> dict[str, Any]:
        return {"channel": "voice", "code": self.otp, "expiresInSeconds": 300}

    def transcript(self, lines: list[tuple[str, str]], style: str) -> dict[str, Any]:
        """A finished call's transcript: Contact Lens ``Segments`` or Twilio
        Conversational Intelligence ``sentences`` (channel 1 the agent, 2 the caller)."""
        if style == "lens":
            segs, t = [], 0
            for who, text in lines:
                seg = {"Id": str(uuid.UUID(int=self.rng.getrandbits(128))), "ParticipantId": who}
                seg |= {"ParticipantRole": who, "Content": text, "BeginOffsetMillis": t}
                t += 1500 + 90 * len(text)
                segs.append({"Transcript": seg | {"EndOffsetMillis": t, "Sentiment": "NEUTRAL"}})
            return {"Segments": segs}
        out = []
        for i, (who, text) in enumerate(lines):
            out.append(
                {
                    "media_channel": 1 if who == "AGENT" else 2,
                    "sentence_index": i,
                    "transcript": text,
                    "confidence": round(0.82 + self.rng.random() / 6, 3),
                }
            )
        return {"sentences": out}
