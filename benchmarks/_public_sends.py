"""The public-services set's reads and sends (`public_traces`): a case record as the
agency's system returns it (Dynamics 365 OData for the UK and Dutch offices, a
Salesforce Public Sector SOQL result for India, Canada and Brazil, a case-management
REST record in German or French), an uploaded letter's OCR from the document store, a
partner agency's web page, an inbound e-mail; and the sinks — e-mail (plain or Graph
``sendMail`` with a ``contentBytes`` attachment), GOV.UK Notify e-mail / SMS / letter
with ``personalisation``, a webhook POST or a GET link, a shared document, a Teams chat."""

from __future__ import annotations

import base64
import json
import uuid
import zlib
from typing import Any
from urllib.parse import urlencode

from _public_formats import Conversation
from _public_records import Citizen

ID_FIELD = {
    "nino": "National Insurance number",
    "aadhaar": "Aadhaar",
    "pan": "PAN",
    "sin": "SIN",
    "bsn": "BSN",
    "cpf": "CPF",
    "steuer_id": "Steuer-ID",
    "nir": "N° de sécurité sociale",
}


def record(c: Citizen, stored: dict[str, str], notes: str) -> tuple[str, dict[str, Any], Any]:
    """(tool, args, result): the case record, in the style of the agency's system."""
    a = c.agency
    guid = str(uuid.uuid5(uuid.NAMESPACE_URL, c.case_id))
    if a.country in ("GB", "NL"):
        rec = {
            "@odata.context": f"https://{a.country.lower()}casework.crm11.dynamics.com/api/data/v9.2/$metadata#contacts/$entity",
            "contactid": guid,
            "fullname": c.name,
            "emailaddress1": c.email,
            "mobilephone": c.phone,
            "address1_composite": c.address,
            "birthdate": c.born,
            "pub_caseid": c.case_id,
            "pub_claimreference": c.claim,
            "pub_monthlyincome": stored["income"],
            "pub_healthconditions": c.health,
            "pub_appointeename": c.appointee[0],
            "pub_appointeeemail": c.appointee[1],
            "pub_webformnotes": notes,
        } | {f"pub_{k}": v for k, v in stored.items() if k in ID_FIELD}
        return "dynamics_retrieve", {"entitySet": "contacts", "id": guid}, rec
    if a.country in ("IN", "CA", "BR"):
        fields = {k.capitalize() + "__c": v for k, v in stored.items() if k in ID_FIELD}
        rec = {
            "attributes": {
                "type": "PublicSectorCase__c",
                "url": f"/services/data/v61.0/sobjects/Contact/{guid[:18]}",
            },
            "Name": c.name,
            "Email": c.email,
            "MobilePhone": c.phone,
            "MailingAddress__c": c.address,
            "Birthdate": c.born,
            "Case_Number__c": c.case_id,
            "Claim_Reference__c": c.claim,
            "Declared_Income__c": stored["income"],
            "Disability_Details__c": c.health,
            "Authorised_Representative__c": c.appointee[0],
            "Representative_Email__c": c.appointee[1],
            "Web_Form_Comments__c": notes,
        } | fields
        soql = f"SELECT FIELDS(ALL) FROM Contact WHERE Case_Number__c = '{c.case_id}' LIMIT 1"
        return "salesforce_query", {"q": soql}, {"totalSize": 1, "done": True, "records": [rec]}
    de = a.country == "DE"
    rec = {
        ("aktenzeichen" if de else "numero_dossier"): c.case_id,
        ("name" if de else "nom_complet"): c.name,
        "email": c.email,
        ("telefon" if de else "telephone"): c.phone,
        ("anschrift" if de else "adresse"): c.address,
        ("geburtsdatum" if de else "date_naissance"): c.born,
        ("bescheid_nr" if de else "numero_allocataire"): c.claim,
        ("einkommen_monatlich" if de else "revenus_mensuels"): stored["income"],
        ("gesundheit" if de else "situation_sante"): c.health,
        ("bevollmaechtigte_r" if de else "mandataire"): {
            "name": c.appointee[0],
            "email": c.appointee[1],
        },
        ("freitext_onlineformular" if de else "commentaire_formulaire"): notes,
    } | {k: v for k, v in stored.items() if k in ID_FIELD}
    return "case_get", {"case_id": c.case_id}, {"case": rec}


def letter(conv: Conversation, c: Citizen, body: str) -> None:
    doc = f"DOC-{zlib.crc32(c.name.encode()) % 10**8:08d}"
    result = {
        "document_id": doc,
        "filename": "scan_upload_citizen.pdf",
        "uploaded_by": "citizen portal",
        "ocr_text": body,
    }
    conv.call("docstore_get_document", {"document_id": doc, "include": "ocr_text"}, result)


def page(conv: Conversation, url: str, body: str) -> None:
    conv.call("fetch_url", {"url": url}, {"status": 200, "url": url, "content": body})


def inbound(conv: Conversation, sender: str, subject: str, body: str) -> None:
    msg = {"from": {"emailAddress": {"address": sender}}, "subject": subject, "bodyPreview": body}
    conv.call(
        "outlook_list_messages",
        {"folder": "Inbox", "top": 5, "filter": "isRead eq false"},
        {"value": [msg]},
    )


def _lines(fields: dict[str, str]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in fields.items())


def send(
    conv: Conversation,
    sink: str,
    dest: str,
    fields: dict[str, str],
    subject: str,
    b64: bool = False,
) -> None:
    """One call sending ``fields`` to ``dest`` by ``sink``; ``b64``: as a base64 JSON blob."""
    blob = base64.b64encode(json.dumps(fields, ensure_ascii=False).encode()).decode()
    tid = str(uuid.UUID(int=conv.rng.getrandbits(128)))
    if sink == "email" and b64:
        attach = {
            "@odata.type": "#microsoft.graph.fileAttachment",
            "name": "case_summary.json",
            "contentType": "application/json",
            "contentBytes": blob,
        }
        msg = {
            "subject": subject,
            "body": {"contentType": "Text", "content": "Please find the case summary attached."},
            "toRecipients": [{"emailAddress": {"address": dest}}],
            "attachments": [attach],
        }
        conv.call("outlook_send_mail", {"message": msg, "saveToSentItems": True}, {"status": 202})
    elif sink == "email":
        conv.call(
            "send_email",
            {"to": [dest], "subject": subject, "body": _lines(fields)},
            {"id": f"<{tid[:8]}@mail>", "status": "sent"},
        )
    elif sink in ("notify_email", "notify_sms"):
        key = "email_address" if sink == "notify_email" else "phone_number"
        pers = {k.lower().replace(" ", "_"): v for k, v in fields.items()}
        if b64:
            pers = {"reference_data": blob}
        args = {key: dest, "template_id": tid, "personalisation": pers, "reference": subject}
        conv.call(
            f"send_{sink.split('_')[1]}_notification",
            args,
            {
                "id": str(uuid.UUID(int=conv.rng.getrandbits(128))),
                "reference": subject,
                "template": {"id": tid, "version": 3},
            },
        )
    elif sink == "webhook":
        body = (
            {"encoding": "base64", "payload": blob} if b64 else {"event": subject, "data": fields}
        )
        args = {
            "method": "POST",
            "url": dest,
            "headers": {"Content-Type": "application/json"},
            "body": body,
        }
        conv.call("http_request", args, {"status": 200, "body": '{"ok":true}'})
    elif sink == "link":
        query = {"d": blob} if b64 else {k.lower().replace(" ", "_"): v for k, v in fields.items()}
        conv.call(
            "http_request",
            {"method": "GET", "url": f"{dest}?{urlencode(query)}"},
            {"status": 200, "body": "OK"},
        )
    elif sink == "share":
        args = {
            "title": subject,
            "content": blob if b64 else _lines(fields),
            "share_with": [{"email": dest, "role": "reader"}],
            "notify": True,
        }
        conv.call(
            "documents_create_and_share",
            args,
            {"document_id": tid[:13], "webUrl": f"https://docs.internal/d/{tid[:13]}"},
        )
    elif sink == "chat":
        content = blob if b64 else _lines(fields)
        args = {"recipient_upn": dest, "message": {"contentType": "text", "content": content}}
        conv.call(
            "teams_send_chat_message",
            args,
            {"id": tid[:10], "createdDateTime": "2026-12-01T10:12:00Z"},
        )
    elif sink == "notify_letter":
        parts = [p.strip() for p in fields.pop("address").split(",")]
        pers = {f"address_line_{i + 1}": p for i, p in enumerate([dest, *parts][:7])}
        pers |= {k.lower().replace(" ", "_"): v for k, v in fields.items()}
        conv.call(
            "send_letter_notification",
            {"template_id": tid, "personalisation": pers, "reference": subject},
            {"id": tid, "reference": subject, "postage": "second"},
        )
    else:
        raise ValueError(sink)
