"""Command lines that move stored data by reference (`by_reference`): what they upload,
copy or push, and where — a file by its path, a pipe's source, a bucket's object, the
repository itself.

Read as a shell reads them (a ``|`` or ``;`` inside quotes is text):

- ``curl -T FILE``, ``-F k=@FILE`` (or ``<FILE``), ``-d|--data|--data-binary|--json
  @FILE``, ``--data-urlencode [name]@FILE``, ``wget --post-file|--body-file=FILE``; a
  file ``-`` (``@-``) is the pipe's: an earlier stage's command when it reads stored data
  (``pg_dump db | gzip | curl -T -``), nothing when it prints text the trace holds
  (``echo …|``: the taint's to read);
- ``scp``/``rsync`` SRC… ``[user@]host:path`` (or ``rsync://host/``), unless every source
  is on that host already;
- ``aws s3 cp|mv|sync``, ``gsutil cp|mv|rsync``, ``gcloud storage cp`` SRC… to a bucket
  (``aws s3 cp s3://b/x .`` only reads);
- ``git push URL``: the repository itself, to the one the URL names.

An unclosed quote (code, not a command) is skipped and the rest read on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from backdoorlab.defenses.audit import patterns
from backdoorlab.defenses.audit.destinations import canonical
from backdoorlab.defenses.audit.places import STORAGE_URL, repo_in

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


def to_url(what: str, target: str, how: str) -> list[Transfer]:
    """A transfer to a URL (a host) or a storage URL (a bucket)."""
    target = target.strip("'\"")
    storage = STORAGE_URL.match(target)
    if storage:
        canon = f"bucket:{storage.group(1).lower()}/{storage.group(2).lower()}"
        return [Transfer(what, storage.group(0), canon, "bucket", how)]
    host = canonical(target, "url")
    return [Transfer(what, target, host, "url", how)] if host else []


# --- command lines --------------------------------------------------------------------

_ECHOES = frozenset(("echo", "printf", "cat<<", "yes"))
_CURL_FILE = ("-T", "--upload-file")
_CURL_DATA = ("-d", "--data", "--data-binary", "--data-ascii", "--data-urlencode", "--json")
_CURL_FORM = ("-F", "--form")
_SCP_VALUED = frozenset(("-P", "-i", "-o", "-F", "-c", "-l", "-S", "-J", "-e", "--rsh"))
_REMOTE = re.compile(r"^(?:[\w.-]+@)?([\w-]+(?:\.[\w-]+)+|\[[\d:a-f]+\]):", re.IGNORECASE)


_ENDS = frozenset((";", "&&", "||", "&", ";;"))
_MOVES = re.compile(
    r"\bcurl\b(?:[^\n]|\\\n)*?(?:\s-T|--upload-file|@|\s-F|--form)"
    r"|\bwget\b(?:[^\n]|\\\n)*?--(?:post|body)-file|\b(?:scp|rsync)\s"
    r"|\b(?:aws|gsutil|gcloud)\b(?:[^\n]|\\\n)*?\s(?:cp|mv|sync|rsync)\s|\bgit\s+push\s"
)
"""A command `in_shell` reads with what makes it upload (``curl … -T``, ``aws … cp``), on
one line or continued with a backslash: a text with none is not split at all."""
_NAMES = ("curl", "wget", "scp", "rsync", "aws", "gsutil", "gcloud", "git push")
_TOKEN = re.compile(r"""\\\n|\|\||&&|;;|[;|&\n]|(?:'[^']*'|"(?:[^"\\]|\\.)*"|\\.|[^\s'"\\;|&])+""")
"""A shell's token: a line continuation (dropped), an operator, or a word of plain
characters, quoted strings (a ``|`` or ``;`` inside is text) and escapes. A lone quote (an
unclosed one: code, not a command) is skipped."""
_QUOTED = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)""", re.DOTALL)


def _word(token: str) -> str:
    """A word as the shell passes it: quotes taken off, escapes undone."""
    if "'" not in token and '"' not in token and "\\" not in token:
        return token
    return _QUOTED.sub(lambda m: next(g for g in m.groups() if g is not None), token)


def _pipelines(text: str) -> list[list[list[str]]]:
    """A command line's pipelines, each a list of its stages' words, read as a shell
    reads them (`_TOKEN`; a regular expression, not `shlex`: that is pure Python and
    took milliseconds on a coding agent's longer commands)."""
    pipelines: list[list[list[str]]] = [[[]]]
    for token in _TOKEN.findall(text):
        if token == "\\\n":
            continue
        if token in _ENDS or token == "\n":
            pipelines.append([[]])
        elif token == "|":
            pipelines[-1].append([])
        else:
            pipelines[-1][-1].append(_word(token))
    return pipelines


def in_shell(text: str, stdin: str = "", how: str = "") -> list[Transfer]:
    """The command-line transfers of a text; ``stdin``: what the first stage reads (a
    ``COPY … TO PROGRAM``'s rows)."""
    found: list[Transfer] = []
    if not any(name in text for name in _NAMES) or not _MOVES.search(text):
        return found  # substring tests first: the expression is slow on long code
    for pipeline in _pipelines(text):
        source = stdin
        for words in pipeline:
            if not words:
                continue
            name = words[0].rsplit("/", 1)[-1].lower()
            found += _command(name, words, source, how)
            if name in _ECHOES or "<<<" in words:
                source = ""  # its values are in the trace: the taint's to read
            elif name not in ("gzip", "base64", "xz", "zstd", "openssl", "gpg", "tee"):
                source = " ".join(words)[:120]
    return found


def _command(name: str, words: list[str], stdin: str, how: str) -> list[Transfer]:
    if name == "curl":
        return _curl(words, stdin, how)
    if name == "wget":
        sent = _option(words, "--post-file", "--body-file")
        return _targets(words, _file(sent, stdin), how or "wget --post-file")
    if name in ("scp", "rsync"):
        return _copy_to_host(name, words)
    if name in ("aws", "gsutil", "gcloud"):
        return _storage_copy(words, stdin)
    if name == "git" and words[1:2] == ["push"]:
        url = next((w for w in words[2:] if "://" in w or _REMOTE.match(w)), "")
        slug = repo_in(url, any_host=True) if url else None
        if slug:
            return [Transfer("the repository", url, "repo:" + slug, "repo", "git push")]
    return []


def _option(words: list[str], *names: str) -> str:
    for i, word in enumerate(words):
        for n in names:
            if word == n and i + 1 < len(words):
                return words[i + 1]
            if word.startswith(n + "=") and n.startswith("--"):
                return word[len(n) + 1 :]
            if not n.startswith("--") and word.startswith(n) and len(word) > len(n):
                return word[len(n) :]  # curl's -Tfile
    return ""


def _file(name: str, stdin: str) -> str:
    """What an upload option's file sends: the file, or for ``-`` what the pipe reads."""
    if name in ("-", ""):
        return stdin if name == "-" else ""
    return name


def _curl(words: list[str], stdin: str, how: str) -> list[Transfer]:
    sent = _file(_option(words, *_CURL_FILE), stdin)
    for i, word in enumerate(words[:-1]):
        value = words[i + 1]
        # ``-d @file`` reads a file; ``--data-urlencode name@file`` too (no ``=`` first)
        named = word == "--data-urlencode" and re.match(r"[^=]*@", value)
        if word in _CURL_DATA and (value.startswith("@") or named):
            sent = sent or _file(value.split("@", 1)[1], stdin)
        elif word in _CURL_FORM and re.search(r"=[@<]", value):
            sent = sent or _file(re.split(r"=[@<]", value, maxsplit=1)[1].split(";")[0], stdin)
    return _targets(words, sent, how or "curl upload")


def _targets(words: list[str], what: str, how: str) -> list[Transfer]:
    """``what`` to every URL and host the command's words name."""
    if not what:
        return []
    found: list[Transfer] = []
    for word in words[1:]:
        if "://" in word:
            found += [t for url in patterns.URL.findall(word) for t in to_url(what, url, how)]
        elif not word.startswith("-") and patterns.DOMAIN.fullmatch(word.split("/")[0]):
            found += to_url(what, word, how)
    return found


def _copy_to_host(name: str, words: list[str]) -> list[Transfer]:
    """``scp``/``rsync`` SRC… DEST with DEST on another host."""
    positional, skip = [], False
    for word in words[1:]:
        if skip:
            skip = False
        elif word in _SCP_VALUED:
            skip = True
        elif not word.startswith("-"):
            positional.append(word)
    if len(positional) < 2:
        return []
    *sources, dest = positional
    remote = _REMOTE.match(dest)
    host = remote.group(1) if remote else ""
    if dest.startswith("rsync://"):
        host = canonical(dest, "url")
    if not host or all(_host_of(s) == host for s in sources):
        return []  # from that host to itself: nothing leaves it
    return [Transfer(" ".join(sources)[:200], dest, host.lower(), "url", name)]


def _host_of(path: str) -> str:
    remote = _REMOTE.match(path)
    return remote.group(1) if remote else ""


def _storage_copy(words: list[str], stdin: str) -> list[Transfer]:
    """``aws s3 cp|mv|sync``, ``gsutil cp|mv|rsync``, ``gcloud storage cp``: SRC… to a
    bucket (``aws s3 cp s3://b/x .`` only reads)."""
    verbs = [i for i, w in enumerate(words) if w in ("cp", "mv", "sync", "rsync")]
    if not verbs:
        return []
    positional = [w for w in words[verbs[0] + 1 :] if w == "-" or not w.startswith("-")]
    # the last bucket named is the target (an option's value may follow: ``--profile p``)
    at = max((i for i, w in enumerate(positional) if STORAGE_URL.match(w)), default=0)
    storage = STORAGE_URL.match(positional[at]) if at else None
    if storage is None:
        return []  # no bucket, or one only read from (``cp s3://b/x ./x``)
    sources = positional[:at]
    what = " ".join(_file(s, stdin) if s == "-" else s for s in sources).strip()
    canon = f"bucket:{storage.group(1).lower()}/{storage.group(2).lower()}"
    how = " ".join(words[: verbs[0] + 1])
    return [Transfer(what[:200], storage.group(0), canon, "bucket", how)] if what else []
