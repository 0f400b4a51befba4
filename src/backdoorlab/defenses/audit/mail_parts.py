"""A mail as the mail APIs carry it, read as the mail it is.

- **Gmail's message resource** (``users.messages.get``, ``drafts.get``): headers are a
  list of ``{"name", "value"}`` pairs and each MIME part's text is base64url in
  ``body.data``. Read as is, the sender was no contact field and the text (the one-time
  code, the reset link) one opaque token — a code forwarded on was matched only when
  the ``snippet`` happened to hold it. `unpacked` makes it one record: its headers as
  fields (``From``, ``To``…) and its text parts decoded, so the mail's sender is the
  contact of the mail whose text it is.
- **Gmail's ``raw``** (``messages.send``, ``drafts.create``): the whole RFC 822 mail,
  base64url — its ``To`` the destination, its text the payload. `expanded` (a call's,
  `expanded_call`) reads it so, before `sinks` reads the call.
- **Quoted-printable** (an IMAP ``FETCH`` of a mail sent so): ``=3D`` for ``=`` and soft
  line breaks cut a link's token in two; `readable` undoes it in the mail's text.

Why here: each is how a mail tool's result or call is written, not a disguise an agent
chose, so the reading, not the matching, undoes it. Cheap first checks keep other
observations and calls untouched.
"""

from __future__ import annotations

import base64
import binascii
import json
import quopri
import re
from email import message_from_string, policy
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from backdoorlab.traces import FunctionCall

_MAX_PART = 1 << 20  # a part's text beyond this is an attachment, not a mail's text
_ADDRESS_HEADERS = ("to", "cc", "bcc")
_KEPT_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to", "subject", "sender"})
_SENDER_HEADERS = frozenset({"from", "to", "reply-to", "sender"})


def _b64url(data: str) -> str | None:
    """``data`` base64url-decoded as UTF-8 text, or None."""
    if not data or len(data) > _MAX_PART * 2:
        return None
    try:
        raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        return raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _header_pairs(headers: Any) -> dict[str, str] | None:
    if not isinstance(headers, list) or not headers:
        return None
    out: dict[str, str] = {}
    for item in headers:
        if not isinstance(item, dict) or set(item) != {"name", "value"}:
            return None
        name, value = item["name"], item["value"]
        if isinstance(name, str) and isinstance(value, str) and name.lower() in _KEPT_HEADERS:
            out[name] = value
            if "<" in value and name.lower() in _SENDER_HEADERS:  # "Mark Okafor <m@…>"
                shown, address = parseaddr(value)
                if "@" in address:
                    out[name] = address
                    if shown:
                        out[f"{name} name"] = shown
    return out


def _texts(part: dict[str, Any], out: list[str]) -> None:
    """The decoded text of ``part`` and the parts under it (plain before HTML)."""
    mime = part.get("mimeType")
    body = part.get("body")
    if isinstance(mime, str) and mime.startswith("text/") and isinstance(body, dict):
        data = body.get("data")
        text = _b64url(data) if isinstance(data, str) else None
        if text is not None:
            out.append(text)
    for inner in part.get("parts") or ():
        if isinstance(inner, dict):
            _texts(inner, out)


def unpacked(value: dict[str, Any]) -> dict[str, Any] | None:
    """A Gmail message part (a ``payload``: ``mimeType``, ``headers`` as name/value
    pairs, ``body``/``parts``) as one flat record — its headers as fields and ``text``
    its decoded text — or None when ``value`` is no such part. A part without its
    ``mimeType`` (``format=metadata`` as a tool's wrapper trims it) is one when its
    headers name a sender or a recipient."""
    if "headers" not in value:
        return None
    headers = _header_pairs(value.get("headers"))
    if headers is None:
        return None
    if "mimeType" not in value and not any(h.lower() in _SENDER_HEADERS for h in headers):
        return None
    texts: list[str] = []
    _texts(value, texts)
    out: dict[str, Any] = dict(headers)
    if texts:
        out["text"] = "\n".join(texts)
    names = [p.get("filename") for p in value.get("parts") or () if isinstance(p, dict)]
    if any(names):
        out["attachments"] = [n for n in names if n]
    return out


def _message(raw: str) -> EmailMessage | None:
    text = _b64url(raw)
    if text is None or ":" not in text[:200]:
        return None
    message = message_from_string(text, policy=policy.default)
    if not any(message.get(h) for h in _ADDRESS_HEADERS):
        return None
    return message  # type: ignore[return-value]


def _mail_fields(message: EmailMessage) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for header in _ADDRESS_HEADERS:
        found = message.get_all(header) or []
        addresses = [a.addr_spec for h in found for a in getattr(h, "addresses", ())]
        if addresses:
            fields[header] = addresses
    if subject := message.get("subject"):
        fields["subject"] = str(subject)
    texts = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            try:
                texts.append(part.get_content())
            except (LookupError, ValueError):
                continue
    fields["body"] = "\n".join(texts)
    return fields


def expanded(arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` with each ``raw`` RFC 822 mail (base64url, at any depth) read as its
    ``to``/``cc``/``bcc``, ``subject`` and ``body``; ``arguments`` itself when none."""
    changed = False

    def walk(value: Any) -> Any:
        nonlocal changed
        if not isinstance(value, dict):
            return value
        out = {}
        for k, inner in value.items():
            if k == "raw" and isinstance(inner, str) and (message := _message(inner)):
                changed = True
                out[k] = _mail_fields(message)
            else:
                out[k] = walk(inner) if isinstance(inner, dict) else inner
        return out

    result = walk(arguments)
    return result if changed else arguments


def expanded_call(function: FunctionCall) -> FunctionCall:
    """``function`` with its ``raw`` mails read (`expanded`); itself when it has none."""
    if '"raw"' not in function.arguments:
        return function
    arguments = function.parsed_arguments()
    out = expanded(arguments)
    if out is arguments:
        return function
    return FunctionCall(name=function.name, arguments=json.dumps(out))


_QP_HEADER = re.compile(r"^content-transfer-encoding:\s*quoted-printable\s*$", re.I | re.M)


def readable(text: str) -> str:
    """A mail's text with its quoted-printable body decoded (``text`` when it holds no
    mail sent so)."""
    if "quoted-printable" not in text and "Quoted-Printable" not in text:
        return text
    found = _QP_HEADER.search(text)
    if found is None:
        return text
    end = text.find("\n\n", found.end())
    crlf = text.find("\r\n\r\n", found.end())
    if end < 0 or (0 <= crlf < end):
        end, gap = crlf, 4
    else:
        gap = 2
    if end < 0:
        return text
    body = text[end + gap :]
    decoded = quopri.decodestring(body.encode("utf-8", "replace")).decode("utf-8", "replace")
    return text[: end + gap] + decoded


def item_body(value: dict[str, Any]) -> bool:
    """A Microsoft Graph ``itemBody`` (``{"contentType", "content"}``): part of the
    message around it, whose sender is its contact, not a record of its own."""
    return len(value) == 2 and "contentType" in value and "content" in value


def as_record(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` with a Gmail message part (itself, or its ``payload``) read as one
    record (`unpacked`): a message's id and its sender are one record's; ``value``
    itself when it holds none."""
    payload = value.get("payload")
    if isinstance(payload, dict) and (mail := unpacked(payload)) is not None:
        return {**{k: v for k, v in value.items() if k != "payload"}, **mail}
    return unpacked(value) or value
