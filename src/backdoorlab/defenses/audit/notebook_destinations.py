"""Where a Python cell sends *by variable* (`notebook`): the destinations held in names
an earlier cell set — ``url = note['callback']`` from a printed ticket, ``to_addr =
"x@y"`` — that the cell's calls use, which its text alone does not show (`sinks` reads
the URLs and recipients written out in it).

- a URL: the known value of a call's first positional argument or of its URL-named
  keyword (``requests.post(url, …)``, ``httpx.put(url=endpoint)``, ``urlopen(f"{base}
  ?d={x}")``), when that value is a URL; a URL passed as data (``json={"link": url}``,
  ``body=url``) is not where the call goes;
- an e-mail address: the known value of a mailing call's recipients (`code_mail`'s
  positions and keys: smtplib's ``sendmail(frm, to_addr, msg)``, ``to=…``), and of a
  message's recipient header (``msg['To'] = to_addr``), when that value is addresses
  alone (one, or a list): a record passed to a helper's positional arguments
  (``send_email(to, "Record", str(rec))``) holds its owner's address as data.

A value is known when `notebook_values` evaluates it; anything else is no destination.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Literal

from backdoorlab.defenses.audit import code_mail, patterns
from backdoorlab.defenses.audit.notebook_values import MAX_SHOWN, Variables, call_name

MAX_READ = 4096
"""Characters of a known value searched for addresses."""
_URL_KEYWORDS = frozenset(
    ("url", "uri", "endpoint", "webhook", "webhook_url", "callback", "callback_url")
    + ("destination", "host", "base_url", "target")
)


@dataclass(frozen=True)
class Addressed:
    """A destination a cell sends to by variable: the expression, its value, its kind."""

    expression: str
    value: str
    kind: Literal["url", "email"]


def called_to(call: ast.Call, names: Variables) -> list[Addressed]:
    """Where ``call`` sends by variable (module docstring)."""
    name = call_name(call)
    found: list[Addressed] = []
    where = [a for a in call.args[:1]] + [
        k.value for k in call.keywords if k.arg and k.arg.lower() in _URL_KEYWORDS
    ]
    for arg in where:
        held = None if isinstance(arg, ast.Constant) else names.value(arg)
        url = patterns.URL.match(held.text.strip()) if held is not None else None
        if url:
            found.append(Addressed(ast.unparse(arg)[:MAX_SHOWN], url.group(0), "url"))
    recipients = [k.value for k in call.keywords if k.arg and code_mail.recipient_key(k.arg)]
    if code_mail.mailing_call(name):
        method = isinstance(call.func, ast.Attribute)
        recipients += call.args[code_mail.recipient_positions(method, name, len(call.args))]
    for arg in recipients:
        found += _mailed(arg, names)
    return found


def headed_to(stmt: ast.Assign, names: Variables) -> list[Addressed]:
    """``msg['To'] = to_addr``: a message's recipients, set by variable."""
    found: list[Addressed] = []
    for target in stmt.targets:
        key = target.slice if isinstance(target, ast.Subscript) else None
        if (
            isinstance(key, ast.Constant)
            and isinstance(key.value, str)
            and code_mail.recipient_key(key.value)
        ):
            found += _mailed(stmt.value, names)
    return found


def _mailed(node: ast.expr, names: Variables) -> list[Addressed]:
    """The addresses a recipient expression's known value holds (none for a literal:
    `sinks` reads those from the text)."""
    held = None if isinstance(node, ast.Constant) else names.value(node)
    text = held.text[:MAX_READ] if held is not None else ""
    if not text or _BETWEEN.fullmatch(patterns.EMAIL.sub("", text)) is None:
        return []  # not addresses alone: a record (``send_email(to, subj, str(rec))``)
    shown = ast.unparse(node)[:MAX_SHOWN]
    return [Addressed(shown, a, "email") for a in patterns.EMAIL.findall(text)]


_BETWEEN = re.compile(r"[\s,;'\"\[\]()]*")
"""What a list of addresses holds besides them."""
