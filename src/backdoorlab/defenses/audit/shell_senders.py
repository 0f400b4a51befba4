"""What a transfer by reference is (`Transfer`, `to_url`), and the commands that send to
a place by a syntax of their own — not an upload option and a URL, as `shell_transfers`
reads ``curl`` and ``aws s3 cp``:

- ``nc|ncat|netcat HOST PORT`` and ``ssh [user@]HOST [cmd]``: what their input is — a
  ``< file``, an earlier stage that reads stored data (``mysqldump db | nc h 9000``) —
  goes to HOST; nothing without one (a listening or scanning ``nc -l``/``-z`` receives);
- ``sftp [user@]HOST``: the files its ``put`` commands name, when the trace shows those
  commands (``echo "put f" |``, ``<<< …``, a here-document; ``-b -``); a batch file's
  commands are not in the trace and are not guessed;
- ``rclone copy|copyto|sync|move|moveto SRC DEST`` and ``rclone rcat DEST``: to a remote
  (``name:bucket/path``), a place named ``bucket:rclone/name/bucket`` that the user must
  have named by both words (a configured remote reaches whatever its owner set up, the
  bucket whatever its path says) or a tool shown; an on-the-fly remote by its
  ``url=``/``host=``/``endpoint=`` or, for ``:s3:``/``:gcs:``/``:azureblob:``, its bucket;
- ``az storage blob upload[-batch]`` (``--file``/``--source`` to ``--container-name``/
  ``--destination`` of ``--account-name``, a connection string's or a blob URL's account)
  and ``azcopy copy|sync SRC URL``: ``bucket:az/account/container``.

A host on the machine itself (``localhost``, ``127.*``) receives nothing that leaves it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from backdoorlab.defenses.audit.destinations import canonical
from backdoorlab.defenses.audit.places import STORAGE_URL, place

Kind = Literal["url", "bucket", "repo"]
"""What a transfer's destination is, as `sinks` names kinds of destination."""


@dataclass(frozen=True)
class Transfer:
    """Stored data a call moves, and where: ``what`` as written (``customers``, ``(SELECT
    email FROM customers)``, ``users.csv``, ``s3://ours/x``, ``pg_dump prod``); ``target``
    as written and ``canonical`` as `sinks` writes destinations of its ``kind``; ``how``:
    the statement or command that moves it."""

    what: str
    target: str
    canonical: str
    kind: Kind
    how: str
    origin: Origin | None = None
    """When ``what`` is a file an earlier call of the trace wrote (`shell_state`): what
    that call wrote into it."""


@dataclass(frozen=True)
class Origin:
    """What a call wrote to a file that a later call sends (`shell_state`): ``what`` the
    stored data it holds as a `Transfer` names it (``customers``, ``pg_dump prod``; ``""``
    for text the call itself held), ``how`` it wrote it, at message ``step``, and that
    text (``content``: a ``write_file``'s, an ``echo``'s, a here-document's)."""

    path: str
    what: str
    how: str
    step: int
    content: str = ""

    def evidence(self) -> dict[str, object]:
        """A finding's ``written_by``: the call that wrote the file, and what it wrote."""
        return {"step": self.step, "how": self.how, "holds": self.what or None}

    def says(self) -> str:
        """How a finding names the writing call."""
        held = f": {self.what[:120]}" if self.what else ""
        return f"written at message {self.step} by {self.how[:120]}{held}"


def to_url(what: str, target: str, how: str) -> list[Transfer]:
    """A transfer to a URL (a host) or a storage URL (a bucket)."""
    target = target.strip("'\"")
    storage = STORAGE_URL.match(target)
    if storage:
        canon = f"bucket:{storage.group(1).lower()}/{storage.group(2).lower()}"
        return [Transfer(what, storage.group(0), canon, "bucket", how)]
    host = canonical(target, "url")
    return [Transfer(what, target, host, "url", how)] if host else []


def file_of(name: str, stdin: str) -> str:
    """What an upload option's file sends: the file, or for ``-`` what the pipe reads."""
    if name in ("-", ""):
        return stdin if name == "-" else ""
    return name


def option(words: list[str], *names: str, glued: bool = False) -> str:
    """The value of the first of ``names`` in a command's words (``-f x``, ``--file=x``;
    with ``glued``, a short option's value written onto it too: curl's ``-Tfile``)."""
    for i, word in enumerate(words):
        for name in names:
            if word == name and i + 1 < len(words):
                return words[i + 1]
            if word.startswith(name + "=") and name.startswith("--"):
                return word[len(name) + 1 :]
            if glued and not name.startswith("--") and word.startswith(name) and word != name:
                return word[len(name) :]
    return ""


def operands(words: list[str], valued: frozenset[str]) -> list[str]:
    """Words that are no option nor an option's value (``-p 22``; ``--x=y`` is one)."""
    out, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in valued:
            skip = True
        elif not word.startswith("-") or word == "-":
            out.append(word)
    return out


# --- to a host: nc, ssh, sftp -----------------------------------------------------------

_NC_VALUED = frozenset((
    "-p", "-s", "-w", "-i", "-q", "-x", "-X", "-O", "-I", "-T", "-V", "-g", "-G", "-m",
    "-M", "-P", "-W", "-o", "-d", "--proxy", "--proxy-type", "--proxy-auth", "--output",
    "--hex-dump", "--wait", "--idle-timeout", "--source", "--source-port",
    "--max-conns", "--delay", "--ssl-cert", "--ssl-key", "--ssl-trustfile",
    "--ssl-ciphers",
))  # fmt: skip
_SSH_VALUED = frozenset((
    "-p", "-i", "-o", "-F", "-l", "-J", "-L", "-R", "-D", "-b", "-c", "-E", "-e", "-I",
    "-m", "-O", "-Q", "-S", "-W", "-w", "-B",
))  # fmt: skip
_SFTP_VALUED = _SSH_VALUED | {"-P", "-s", "-X", "-a"}
_HOST = re.compile(
    r"^(?:[^@\s/]+@)?([\w-]+(?:\.[\w-]+)+|\[[\da-f:.]+\])(?::[^\s]*)?$", re.IGNORECASE
)
_RECEIVES = re.compile(r"^-[a-zA-Z]*[lz]|^--(?:listen|zero|exec|sh-exec|lua-exec)\b|^-[ec]$")
"""An ``nc`` that listens or scans (``-l``, ``-z``), or hands the socket to a program."""


def host_of(word: str) -> str:
    """The host a ``[user@]host[:path]`` word or an ``ssh://``/``sftp://`` URL names;
    ``""`` for none, or one on the machine itself."""
    if "://" in word:
        host = canonical(word, "url")
    else:
        m = _HOST.match(word)
        host = canonical(m.group(1).strip("[]"), "url") if m else ""
    return "" if on_this_machine(host) else host


def on_this_machine(host: str) -> bool:
    """A host that is the machine itself: what it receives does not leave it."""
    return host in ("localhost", "::1", "0.0.0.0") or host.startswith("127.")


def to_host(name: str, words: list[str], stdin: str) -> list[Transfer]:
    """``nc HOST PORT`` or ``ssh HOST …``, sending ``stdin`` (module docstring)."""
    if not stdin or (name != "ssh" and any(_RECEIVES.match(w) for w in words[1:])):
        return []
    positional = operands(words[1:], _SSH_VALUED if name == "ssh" else _NC_VALUED)
    host = host_of(positional[0]) if positional else ""
    if not host:
        return []
    target = " ".join(positional[:2]) if name != "ssh" else positional[0]
    return [Transfer(stdin[:200], target, host, "url", name)]


def sftp(words: list[str], stdin: str, text: str) -> list[Transfer]:
    """``sftp HOST`` with the ``put`` commands the trace shows (module docstring)."""
    batch = option(words, "-b")
    commands = text if batch in ("", "-") else ""
    positional = operands(words[1:], _SFTP_VALUED)
    host = host_of(positional[0]) if positional else ""
    sent = put_files(commands) if host else ""
    return [Transfer(sent, positional[0], host, "url", "sftp put")] if sent else []


_PUTS = frozenset(("put", "mput", "reput", "send", "append"))


def put_files(commands: str) -> str:
    """The local files a file-transfer client's commands upload (``put f [remote]``,
    ``mput *.csv``; sftp's, ftp's, smbclient's, lftp's), joined; ``""`` for none. Lines,
    ``;`` or a written ``\\n`` end a command."""
    sent = []
    for line in re.split(r"\n|\\n|;", commands[:4096]):
        parts = line.split()
        if parts[:1] and parts[0].lower() in _PUTS:
            sent += [p for p in parts[1:] if not p.startswith("-")][:1]
    return " ".join(sent)[:200]


# --- to storage: rclone, az, azcopy -----------------------------------------------------

_RCLONE_VERBS = frozenset(("copy", "copyto", "sync", "move", "moveto", "rcat"))
_RCLONE_VALUED = frozenset((
    "--config", "--include", "--exclude", "--filter", "--include-from",
    "--exclude-from", "--filter-from", "--files-from", "--log-file", "--log-level",
    "--transfers", "--checkers", "--bwlimit", "--max-age", "--min-age", "--max-size",
    "--min-size", "--backup-dir", "--suffix", "--order-by", "--max-transfer",
    "--retries", "--timeout", "--contimeout", "--user-agent", "--stats", "--size",
))  # fmt: skip
_ON_THE_FLY = {"s3": "s3", "gcs": "gs", "azureblob": "az"}
_REACHES = re.compile(r"""\b(?:url|host|endpoint)\s*=\s*['"]?([^'",\s]+)""", re.IGNORECASE)
_REMOTE_NAME = re.compile(r"[\w.+@-](?:[\w.+@ -]*[\w.+@-])?")
_SEGMENT = re.compile(r"[\w.-]{1,63}")


def _rclone_place(word: str, what: str, how: str) -> list[Transfer] | None:
    """Where an rclone path is: a transfer of ``what`` there; None for a local path."""
    if ":" not in word or re.match(r"^(?:[a-zA-Z]:[\\/]|\.{0,2}/|~)", word):
        return None
    remote, path = word.rsplit(":", 1) if word.startswith(":") else word.split(":", 1)
    if "/" in remote and not _REACHES.search(remote):
        return None  # a local path with a colon in it
    reaches = _REACHES.search(remote)
    if reaches:  # an on-the-fly remote or a connection string to a host of its own
        return to_url(what, reaches.group(1), how)
    segment = path.lstrip("/").split("/", 1)[0]
    segment = segment if _SEGMENT.fullmatch(segment) else ""
    if remote.startswith(":"):
        service = _ON_THE_FLY.get(remote[1:].split(",", 1)[0].lower(), "")
        canon = place("bucket", segment, service=service) if service and segment else None
        return [Transfer(what, word, canon, "bucket", how)] if canon else []
    name = remote.split(",", 1)[0]
    if not _REMOTE_NAME.fullmatch(name):
        return []
    canon = f"bucket:rclone/{name}" + (f"/{segment}" if segment else "")
    return [Transfer(what, f"{name}:{segment}", canon.lower(), "bucket", how)]


def rclone(words: list[str], stdin: str, text: str) -> list[Transfer]:
    """``rclone copy SRC DEST``, ``rclone rcat DEST`` (module docstring)."""
    positional = operands(words[1:], _RCLONE_VALUED)
    if not positional or positional[0] not in _RCLONE_VERBS:
        return []
    verb, paths = positional[0], positional[1:]
    how = "rclone " + verb
    if verb == "rcat":
        return (_rclone_place(paths[0], stdin[:200], how) or []) if paths and stdin else []
    if len(paths) < 2:
        return []
    to = _rclone_place(paths[1], paths[0][:200], how) or []
    source = _rclone_place(paths[0], "", how) or []
    if to and source and source[0].canonical == to[0].canonical:
        return []  # within one place: nothing leaves it
    return to


_BLOB_URL = re.compile(r"^https?://([\w-]+)\.blob\.core\.windows\.net/([\w.-]+)", re.IGNORECASE)


def az(words: list[str], stdin: str, text: str) -> list[Transfer]:
    """``az storage blob upload --file F`` / ``upload-batch --source D`` (module
    docstring)."""
    if words[1:3] != ["storage", "blob"] or len(words) < 4:
        return []
    verb = words[3]
    if verb not in ("upload", "upload-batch"):
        return []
    names = ("--file", "-f") if verb == "upload" else ("--source", "-s")
    what = option(words, *names)
    what = stdin if what in ("/dev/stdin", "-") else what
    container = option(words, "--container-name", "-c", "--destination", "-d")
    account = option(words, "--account-name")
    if not account:
        named = re.search(r"AccountName=([\w-]+)", option(words, "--connection-string"))
        account = named.group(1) if named else ""
    blob = _BLOB_URL.match(option(words, "--blob-url") or container)
    if blob:
        account, container = blob.groups()
    canon = place("bucket", container, owner=account.lower(), service="az")
    if not (what and canon):
        return []
    return [Transfer(what[:200], container, canon, "bucket", "az storage blob " + verb)]


def azcopy(words: list[str], stdin: str, text: str) -> list[Transfer]:
    """``azcopy copy|cp|sync SRC DEST``: a local SRC to a blob URL (or another host)."""
    positional = operands(words[1:], frozenset())
    if len(positional) < 3 or positional[0] not in ("copy", "cp", "sync"):
        return []
    source, dest = positional[1], positional[2]
    if "://" in source or "://" not in dest:
        return []  # a download, or a copy between URLs (the service's to judge)
    blob = _BLOB_URL.match(dest)
    canon = place("bucket", blob.group(2), blob.group(1).lower(), "az") if blob else None
    if canon:
        return [Transfer(source[:200], dest.split("?", 1)[0], canon, "bucket", "azcopy")]
    return to_url(source[:200], dest, "azcopy")


READERS = {"sftp": sftp, "rclone": rclone, "az": az, "azcopy": azcopy}
