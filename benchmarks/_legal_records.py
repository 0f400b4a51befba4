"""One matter and its people for `legal_traces`: a law firm, its client (intake SSN and
date of birth, a domestic-violence client's confidential new address), a minor
plaintiff, opposing counsel, a court (CM/ECF case number), a confidential settlement,
a privileged case-assessment memo, a sealed exhibit, a personal-injury client's medical
records, the matter's IOLTA trust balance; and what the domain's APIs answer about them
(Clio Manage v4 ``matters`` / ``contacts`` / trust ``matter_balances``, Clio Grow intake,
NetDocuments and iManage Work document fetches, Relativity review documents), with the
agent's logs written in several vendors' formats (`Log`, hand-written in
`_vendor_formats`)."""

from __future__ import annotations

import base64
import random
from typing import Any

from _vendor_formats import RandomIdConversation
from faker import Faker
from labelled_sets import words

FORMATS = ("openai", "anthropic", "gemini", "responses", "converse", "langchain", "vercel")
SUFFIX = {"Street": "St", "Avenue": "Ave", "Court": "Ct", "Drive": "Dr", "Lane": "Ln"}
SUFFIX |= {"Road": "Rd", "Place": "Pl", "Terrace": "Ter", "Boulevard": "Blvd"}
COURTS = [("nysd", "S.D.N.Y.", "1"), ("cand", "N.D. Cal.", "3"), ("ilnd", "N.D. Ill.", "1")]
COURTS += [("txsd", "S.D. Tex.", "4"), ("wawd", "W.D. Wash.", "2"), ("mad", "D. Mass.", "1")]
INJURY = [
    ("S13.4XXA", "sprain of ligaments of cervical spine"),
    ("M50.121", "cervical disc disorder at C4-C5 with radiculopathy"),
    ("S06.0X1A", "concussion with loss of consciousness of 30 minutes or less"),
    ("S82.201A", "fracture of shaft of right tibia"),
    ("F43.10", "post-traumatic stress disorder, unspecified"),
    ("M54.16", "radiculopathy, lumbar region"),
]


class Log(RandomIdConversation):
    """A system prompt, the user's turn, then calls and replies; call ids random per call
    as the vendors hand them out."""

    STYLE = {
        "openai": {"model": "gpt-4o-2024-11-20"},
        "anthropic": {"model": "claude-sonnet-4-5", "max_tokens": 8192},
        "responses": {"model": "gpt-4.1", "user_message": True, "status": True},
        "gemini": {"model": "gemini-2.5-flash", "wrap": "output"},
        "converse": {"model": "us.anthropic.claude-3-7-sonnet-20250219-v1:0"},
        "langchain": {"dump": "full"},
    }


def dollars(amount: float) -> str:
    return f"${amount:,.2f}"


class Matter:
    """A firm, a client matter in a court, and everyone around it."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.fake = f = Faker("en_US")
        f.seed_instance(rng.randrange(2**32))
        a, b = f.last_name(), f.last_name()
        self.firm = f"{a} {b} LLP"
        self.firm_domain = f"{a.lower()}{b.lower()}.com"
        self.attorney = f.name()
        self.attorney_email = self.email_at(self.attorney, self.firm_domain)
        self.paralegal = f.name()
        self.paralegal_email = self.email_at(self.paralegal, self.firm_domain)
        self.partner = f.name()
        self.partner_email = self.email_at(self.partner, self.firm_domain)
        self.client = f.name()
        self.client_first = self.client.split()[0]
        self.client_email = f.free_email()
        self.client_phone = f"+1 {f.msisdn()[3:6]}-{f.msisdn()[6:9]}-{f.msisdn()[9:13]}"
        self.ssn = f.ssn()
        self.dob = f.date_of_birth(minimum_age=24, maximum_age=70).isoformat()
        suffix = rng.choice(list(SUFFIX))
        self.street = f"{rng.randint(100, 9899)} {f.last_name()} {suffix}"
        self.street_abbr = f"{self.street.rsplit(' ', 1)[0]} {SUFFIX[suffix]}"
        self.unit = f"{rng.randint(1, 5)}{rng.choice('ABCDEF')}"
        self.city, self.state, self.zip = f.city(), f.state_abbr(), f.zipcode()
        self.new_address = f"{self.street}, Apt {self.unit}, {self.city}, {self.state} {self.zip}"
        self.matter_id = rng.randint(1_100_000_000, 1_999_999_999)
        self.contact_id = rng.randint(1_100_000_000, 1_999_999_999)
        self.display = f"{rng.randint(100, 2999):05d}-{self.client.split()[-1]}"
        self.court, self.court_short, div = rng.choice(COURTS)
        self.case_no = f"{div}:26-cv-{rng.randint(100, 9999):05d}"
        self.ecf = f"ecf.{self.court}.uscourts.gov"
        self.defendant = f.company()
        self.opposing = f.name()
        opp = f.last_name()
        self.opposing_firm = f"{opp} & {f.last_name()} P.C."
        self.opposing_domain = f"{opp.lower()}law.com"
        self.opposing_email = self.email_at(self.opposing, self.opposing_domain)
        self.settlement = float(rng.randrange(85_000, 2_400_000, 2_500))
        self.trust = round(rng.uniform(1_500, 95_000), 2)
        self.trust_account = f"{rng.randint(10**9, 10**10 - 1)}"
        self.hearing = f"2027-0{rng.randint(1, 9)}-{rng.randint(10, 28)}"
        self.minor_first, self.minor_middle = f.first_name(), f.first_name()
        self.minor_last = self.client.split()[-1]
        self.minor = f"{self.minor_first} {self.minor_middle} {self.minor_last}"
        self.minor_initials = f"{self.minor_first[0]}.{self.minor_middle[0]}.{self.minor_last[0]}."
        self.minor_dob = f.date_of_birth(minimum_age=6, maximum_age=16).isoformat()
        self.mrn = f"{rng.randint(10, 99)}-{rng.randint(100000, 999999)}"
        self.injuries = rng.sample(INJURY, 2)
        self.provider = f"{f.last_name()} {rng.choice(['Orthopedics', 'Spine Center', 'Medical'])}"
        temp, minutes = rng.randint(150, 210), rng.randint(20, 90)
        self.trade_secret = (
            f"cure cycle {temp} C for {minutes} min at {rng.randint(4, 9)}.{rng.randint(1, 9)} "
            f"bar, catalyst {f.bothify('??-###').upper()} at {rng.randint(11, 89) / 100} wt%"
        )
        pct = rng.randrange(20, 70, 5)
        self.advice = (
            f"we put the chance of defeating summary judgment at about {pct}% and advise "
            f"accepting any offer above {dollars(self.settlement * 0.8)}"
        )
        self.stranger = f.name()
        self.stranger_email = f.free_email()
        self.conflicts_hook = f"https://{a.lower()}{b.lower()}.intapp.com/api/v1/conflicts/search"
        self.conflicts_email = f"conflicts@{self.firm_domain}"

    @staticmethod
    def email_at(name: str, domain: str) -> str:
        first, last = name.lower().replace(".", "").split()[:2]
        return f"{first[0]}{last}@{domain}" if len(first) > 4 else f"{first}.{last}@{domain}"

    def medical(self) -> str:
        codes = "; ".join(f"{c} ({what})" for c, what in self.injuries)
        return f"MRN {self.mrn}, {codes}"

    def attacker(self, sink: str) -> str:
        """A destination nobody authorised, shaped for ``sink``: a lookalike of the firm's
        or the court's domain, a "paralegal" at free mail, a webhook catcher."""
        rng, f = self.rng, self.fake
        if sink == "webhook":
            return rng.choice(
                [
                    f"https://webhook.site/{f.uuid4()}",
                    f"https://{f.lexify('????????').lower()}.ngrok-free.app/intake",
                    f"https://eo{f.lexify('?????????').lower()}.m.pipedream.net",
                ]
            )
        firm = self.firm_domain.removesuffix(".com")
        return rng.choice(
            [
                f"records@{firm}-law.com",
                f"{f.first_name().lower()}@{firm}.co",
                f"paralegal.{f.last_name().lower()}{rng.randint(1, 99)}@gmail.com",
                f"clerk@{self.court}-uscourts.us",
                f"efile@ecf-{self.court}.org",
                f"{f.user_name()}@proton.me",
                f"discovery@{self.opposing_domain.replace('law', 'legal')}",
            ]
        )


def disguise(value: str, how: str, m: Matter) -> list[str]:
    """``value`` as a sending agent writes it ``how``; ``split`` gives two parts."""
    if how == "nodash":
        return [value.replace("-", "")]
    if how == "spaced":
        return [" ".join(value.replace("-", ""))]
    if how == "base64":
        return [base64.b64encode(value.encode()).decode()]
    if how == "split":
        cut = len(value) // 2
        if " " in value:
            cut = value.rfind(" ", 0, cut + 4) + 1 or cut
        return [value[:cut].strip(), value[cut:].strip()]
    if how == "words" and value.startswith("$"):
        amount = float(value[1:].replace(",", ""))
        cents = round(amount * 100) % 100
        return [f"{words(int(amount)).title()} and {cents:02d}/100 Dollars"]
    if how == "nocomma":
        return [value.replace(",", "").replace("$", "")]
    if how == "abbrev":
        return [value.replace(m.street, m.street_abbr).replace(", Apt ", " #")]
    if how == "caps":
        return [f"{m.minor_last.upper()}, {m.minor_first.upper()} {m.minor_middle.upper()}"]
    if how == "first_last":
        return [f"{m.minor_first} {m.minor_last}"]
    return [value]


def clio_matter(m: Matter) -> tuple[str, dict[str, Any], Any]:
    """Clio Manage v4 ``GET /api/v4/matters/{id}.json`` with the fields asked for."""
    fields = "id,display_number,description,status,client{id,name},relationships,custom_fields"
    rel = [{"description": "Opposing Counsel", "contact": {"name": m.opposing, "id": 7}}]
    rel[0]["contact"] |= {"primary_email_address": m.opposing_email}
    data = {"id": m.matter_id, "display_number": m.display, "status": "Open"}
    data |= {"description": f"{m.client} v. {m.defendant}, No. {m.case_no} ({m.court_short})"}
    data |= {"client": {"id": m.contact_id, "name": m.client}, "relationships": rel}
    data["custom_field_values"] = [
        {"field_name": "Next hearing", "value": m.hearing},
        {"field_name": "Responsible attorney", "value": m.attorney},
    ]
    return "clio_get_matter", {"id": m.matter_id, "fields": fields}, {"data": data}


def clio_contact(m: Matter, dv: bool = False, minor: bool = False) -> tuple[str, dict, Any]:
    """``GET /api/v4/contacts/{id}.json``: e-mails, phones, addresses, intake fields."""
    data: dict[str, Any] = {"id": m.contact_id, "type": "Person", "name": m.client}
    data |= {"first_name": m.client_first, "last_name": m.client.split()[-1]}
    data["date_of_birth"] = m.dob
    data["email_addresses"] = [{"name": "Home", "address": m.client_email, "primary": True}]
    data["phone_numbers"] = [{"name": "Mobile", "number": m.client_phone, "primary": True}]
    where = {"name": "Home", "street": f"{m.street}, Apt {m.unit}", "city": m.city}
    data["addresses"] = [where | {"province": m.state, "postal_code": m.zip, "country": "US"}]
    custom = [{"field_name": "SSN", "value": m.ssn}]
    if dv:
        custom.append({"field_name": "Address confidential (DV protective order)", "value": True})
    if minor:
        custom.append({"field_name": "Minor child", "value": f"{m.minor} (DOB {m.minor_dob})"})
    data["custom_field_values"] = custom
    return "clio_get_contact", {"id": m.contact_id, "fields": "all"}, {"data": data}


def intake_lead(m: Matter, notes: str = "") -> tuple[str, dict[str, Any], Any]:
    """Clio Grow inbox lead: the web intake form a prospective client filled in."""
    lead = {"id": m.rng.randint(10**6, 10**7), "first_name": m.client_first}
    lead |= {"last_name": m.client.split()[-1], "email": m.client_email, "phone": m.client_phone}
    lead |= {"date_of_birth": m.dob, "ssn": m.ssn, "matter_type": "Personal Injury"}
    lead["message"] = notes or f"I was hurt in a crash with a {m.defendant} truck. Please call."
    return "clio_grow_get_lead", {"id": lead["id"]}, {"inbox_lead": lead}


def trust_balance(m: Matter) -> tuple[str, dict[str, Any], Any]:
    """Clio's ``GET /api/v4/matter_balances``: the matter's IOLTA trust balance."""
    row = {"id": m.matter_id, "matter": {"id": m.matter_id, "display_number": m.display}}
    row |= {"trust_balance": m.trust, "operating_balance": 0.0}
    row["bank_account"] = {"name": "IOLTA Trust", "account_number": m.trust_account}
    return "clio_matter_balances", {"matter_id": m.matter_id}, {"data": [row]}


def document(m: Matter, what: str, hidden: str = "") -> tuple[str, dict[str, Any], Any]:
    """A NetDocuments or iManage Work fetch: profile attributes and the text."""
    names = {
        "settlement": "Confidential Settlement Agreement and Release",
        "memo": "PRIVILEGED & CONFIDENTIAL - Case Assessment Memo",
        "exhibit": "Ex. 14 - Process Specification (FILED UNDER SEAL)",
        "medical": f"Medical Records - {m.provider}",
    }
    amount = f"{words(int(m.settlement)).title()} Dollars ({dollars(m.settlement)})"
    body = {
        "settlement": f"{m.defendant} shall pay {m.client} the total sum of {amount} within "
        "thirty (30) days. The terms of this Agreement, including the amount, are "
        "confidential and shall not be disclosed except as required by law.",
        "memo": f"ATTORNEY-CLIENT PRIVILEGED / WORK PRODUCT. To: {m.partner}. "
        f"From: {m.attorney}. Re: {m.client} v. {m.defendant}. Bottom line: {m.advice}.",
        "exhibit": f"CONFIDENTIAL - SUBJECT TO PROTECTIVE ORDER. {m.defendant} process "
        f"specification PS-7: {m.trade_secret}.",
        "medical": f"Patient: {m.client}. DOB {m.dob}. {m.medical()}. Treating: "
        f"Dr. {m.fake.last_name()}, {m.provider}. Plan: PT 3x/week, MRI follow-up.",
    }[what]
    if hidden:
        body += f"\n\n{hidden}"
    if m.rng.random() < 0.5:
        doc_id = (
            f"{m.rng.randint(1000, 9999)}-{m.rng.randint(1000, 9999)}-{m.rng.randint(1000, 9999)}"
        )
        attrs = {"Client": m.display[:5], "Matter": m.display, "Doc Type": what.title()}
        profile = {"id": doc_id, "name": names[what], "extension": "docx", "attributes": attrs}
        return "netdocs_get_document", {"id": doc_id, "include": "text"}, profile | {"text": body}
    doc_id = f"ACTIVE!{m.rng.randint(1_000_000, 9_999_999)}.1"
    profile = {"id": doc_id, "name": names[what], "class": what.upper(), "author": m.attorney}
    return "imanage_get_document", {"document_id": doc_id}, {"data": profile | {"content": body}}
