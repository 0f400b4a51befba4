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
  (``aws s3 cp s3://b/x .`` only reads), with ``--endpoint-url URL`` to that URL's host
  (an S3-compatible service there holds the bucket);
- ``git push URL``: the repository itself, to the one the URL names;
- the commands `shell_senders` and `file_senders` read (``nc``, ``sftp``, ``rclone``,
  ``socat``, ``lftp``…).

With a `ShellState` (what earlier calls set up), a command's ``$VARIABLES`` are their
values and the names it uses (an rclone remote, an ssh alias, a git remote) what they
stand for; a file it sends carries the `Origin` a call gave it. What a text's own
commands set up counts for its later commands (``export U=…; curl -T f $U``), and
`learn` keeps it for later calls. A command's ``"$SSN"`` is the value the variable holds
when the trace shows it (`shell_values`), and `with_values` writes it into the text
`taint` matches values in.

An unclosed quote (code, not a command) is skipped and the rest read on.
"""

from __future__ import annotations

import re

from backdoorlab.defenses.audit import file_senders, patterns
from backdoorlab.defenses.audit import shell_senders as senders
from backdoorlab.defenses.audit.destinations import canonical, ip_host
from backdoorlab.defenses.audit.places import STORAGE_URL, repo_in
from backdoorlab.defenses.audit.shell_parse import Stage, pipelines, program
from backdoorlab.defenses.audit.shell_senders import Kind, Transfer, file_of, option, to_url
from backdoorlab.defenses.audit.shell_state import ShellState
from backdoorlab.defenses.audit.shell_values import substitutions

__all__ = ["Kind", "Transfer", "in_shell", "learn", "to_url", "with_values"]

# --- command lines --------------------------------------------------------------------

_ECHOES = frozenset(("echo", "printf", "cat<<", "yes"))
_CURL_FILE = ("-T", "--upload-file")
_CURL_DATA = ("-d", "--data", "--data-binary", "--data-ascii", "--data-urlencode", "--json")
_CURL_FORM = ("-F", "--form")
_SCP_VALUED = frozenset(("-P", "-i", "-o", "-F", "-c", "-l", "-S", "-J", "-e", "--rsh"))
_REMOTE = re.compile(r"^(?:[\w.-]+@)?([\w-]+(?:\.[\w-]+)+|\[[\d:a-f]+\]):", re.IGNORECASE)


_MOVES = re.compile(
    r"\bcurl\b(?:[^\n]|\\\n)*?(?:\s-T|--upload-file|@|\s-F|--form)"
    r"|\bwget\b(?:[^\n]|\\\n)*?--(?:post|body)-file|\b(?:scp|rsync)\s"
    r"|\b(?:aws|gsutil|gcloud)\b(?:[^\n]|\\\n)*?\s(?:cp|mv|sync|rsync)\s|\bgit\s+push\s"
    r"|\b(?:nc|ncat|netcat|ssh|sftp|rclone|azcopy)\s|/dev/(?:tcp|udp)/|\baz\s+storage\s"
    r"|\b(?:socat|lftp|ftp|tftp|atftp|smbclient|ncftpput|wput|telnet)\s|\bs_client\b"
)
"""A command `in_shell` reads with what makes it upload (``curl … -T``, ``aws … cp``), on
one line or continued with a backslash: a text with none is not split at all."""
_NAMES = ("curl", "wget", "scp", "rsync", "aws", "gsutil", "gcloud", "git push", "nc ", "ncat")
_NAMES += ("netcat", "ssh", "sftp", "rclone", "az ", "azcopy", "/dev/tcp/", "/dev/udp/")
_NAMES += ("socat", "ftp", "smbclient", "wput", "telnet", "s_client")
_PASSING = frozenset(("gzip", "base64", "xz", "zstd", "openssl", "gpg", "tee", "bzip2", "age"))
"""Programs whose output is their input's, transformed: a pipe's source stays the same."""


def in_shell(
    text: str, stdin: str = "", how: str = "", state: ShellState | None = None
) -> list[Transfer]:
    """The command-line transfers of a text; ``stdin``: what the first stage reads (a
    ``COPY … TO PROGRAM``'s rows); ``state``: what earlier calls set up (`shell_state`:
    a file's origin, a variable, a configured remote), read, not changed."""
    if not any(name in text for name in _NAMES) or not _MOVES.search(text):
        return []  # substring tests first: the expression is slow on long code
    return _read(text, stdin, how, state.copy() if state is not None else ShellState())


def learn(text: str, state: ShellState) -> None:
    """Record in ``state`` what a call's command line sets up for later calls."""
    if any(w in text for w in _SETS_UP_WORDS) and _SETS_UP.search(text):
        _read(text, "", "", state, sends=False)


MAX_EXPANDED = 65536


def with_values(text: str, state: ShellState) -> str | None:
    """``text`` with the values its ``$VARIABLES`` hold written in — an earlier call's
    (``export KEY=sk-…``, ``SSN=$(psql …)`` whose output a result showed) or its own
    commands' — so `taint` sees what ``curl -d "$SSN" URL`` sends; None when it uses no
    variable with a known value. A variable still holding its substitution as written
    (its output unknown) stays as written."""
    if "$" not in text:
        return None
    text = text[:MAX_EXPANDED]  # as `by_reference` reads a call's text
    mine = state.copy()
    learn(text, mine)
    if not mine.variables:
        return None

    def value(m: re.Match[str]) -> str:
        known = mine.variables.get(m.group(1) or m.group(2))
        return m.group(0) if known is None or "$(" in known or "`" in known else known

    out = _VARIABLE.sub(value, text)[:MAX_EXPANDED]
    return out if out != text else None


_VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)(?::?-[^}]*)?\}|\$([A-Za-z_]\w*)")
_SETS_UP_WORDS = ("=", ">", "tee", "copy", "git", "rclone", "cp ", "mv ", "install", "tar ")
_SETS_UP_WORDS += ("zip", "bzip2", "xz ", "zstd")


_SETS_UP = re.compile(
    r"(?:^|[\s;&|(])(?:export\s+|declare\s+|readonly\s+)?[A-Za-z_]\w*=[^\s=]"
    r"|>>?\s*(?!&|/dev/)[\w~/.$\"']|\btee\s|\\copy\b|\bgit\s+(?:remote|config)\s"
    r"|\brclone\s+config\s|\b(?:cp|mv|install|tar|zip|gzip|bzip2|xz|zstd)\s"
)
"""A text that may set something up (`learn`'s cheap test): an assignment, an output
written to a file, a ``\\copy``, a remote configured, a file copied or archived."""


def _read(text: str, stdin: str, how: str, state: ShellState, sends: bool = True) -> list[Transfer]:
    """Every transfer of a text (none read without ``sends``), ``state`` learning what
    each command sets up for the commands after it."""
    found: list[Transfer] = []
    for name, command in substitutions(text):  # ``X=$(a | b)``: the pipe is its own
        state.set_variable(name, f"$({command})")
    for pipeline in pipelines(text):
        source, printed = stdin, ""  # stored data the stage reads; text the trace shows
        for stage in pipeline:
            if state.variables:
                stage = _expanded(stage, state)
            if state.assigns(stage.words):
                continue
            words = program(stage.words)
            if stage.fed:
                source, printed = stage.fed, ""
            elif stage.text:
                source, printed = "", stage.text
            if not words:
                continue
            name = words[0].rsplit("/", 1)[-1].lower()
            words = state.rewrite(name, words)
            if sends:
                found += [state.traced(t) for t in _command(name, words, source, how, printed)]
            given = source, printed
            source, printed = _output(name, words, source, printed)
            if sends and source and stage.out.startswith(("/dev/tcp/", "/dev/udp/")):
                host = stage.out.split("/")[3] if stage.out.count("/") >= 3 else ""
                sent = to_url(source, host, how or "> " + stage.out) if host else []
                found += [state.traced(t) for t in sent]
            state.learn(name, words, stage, given, (source, printed))
    return found


def _expanded(stage: Stage, state: ShellState) -> Stage:
    """A stage with its variables written as their values (a copy: `pipelines` caches)."""
    words = [state.expand(w) for w in stage.words]
    return Stage(words, state.expand(stage.fed), stage.text, state.expand(stage.out))


def _output(name: str, words: list[str], source: str, printed: str) -> tuple[str, str]:
    """What a stage writes to the next one: (stored data it reads, text the trace shows)
    — an ``echo``'s text is in the trace (the taint's to read), a ``cat``'s files are
    stored data, a compressor passes its input on, any other command is its own output."""
    if name in _ECHOES:
        return "", " ".join(w for w in words[1:] if w not in ("-e", "-n", "-en", "-ne"))
    if name == "cat":
        files = [w for w in words[1:] if not w.startswith("-")]
        return (" ".join(files)[:200], "") if files else (source, printed)
    if name in _PASSING:
        return source, ""
    return " ".join(words)[:120], ""


def _command(name: str, words: list[str], stdin: str, how: str, text: str) -> list[Transfer]:
    if name == "curl":
        return _curl(words, stdin, how)
    if name == "wget":
        sent = option(words, "--post-file", "--body-file", glued=True)
        return _targets(words, file_of(sent, stdin), how or "wget --post-file")
    if name in ("scp", "rsync"):
        return _copy_to_host(name, words)
    if name in ("aws", "gsutil", "gcloud"):
        return _storage_copy(words, stdin)
    if name in ("nc", "ncat", "netcat", "ssh"):
        return senders.to_host(name, words, stdin)
    if name in ("sftp", "rclone", "az", "azcopy"):
        return senders.READERS[name](words, stdin, text)
    if name in file_senders.READERS:
        return file_senders.READERS[name](words, stdin, text)
    if name == "git" and words[1:2] == ["push"]:
        url = next((w for w in words[2:] if "://" in w or _REMOTE.match(w)), "")
        slug = repo_in(url, any_host=True) if url else None
        if slug:
            return [Transfer("the repository", url, "repo:" + slug, "repo", "git push")]
    return []


def _curl(words: list[str], stdin: str, how: str) -> list[Transfer]:
    sent = file_of(option(words, *_CURL_FILE, glued=True), stdin)
    for i, word in enumerate(words[:-1]):
        value = words[i + 1]
        # ``-d @file`` reads a file; ``--data-urlencode name@file`` too (no ``=`` first)
        named = word == "--data-urlencode" and re.match(r"[^=]*@", value)
        if word in _CURL_DATA and (value.startswith("@") or named):
            sent = sent or file_of(value.split("@", 1)[1], stdin)
        elif word in _CURL_FORM and re.search(r"=[@<]", value):
            sent = sent or file_of(re.split(r"=[@<]", value, maxsplit=1)[1].split(";")[0], stdin)
    return _targets(words, sent, how or "curl upload")


def _targets(words: list[str], what: str, how: str) -> list[Transfer]:
    """``what`` to every URL and host the command's words name."""
    if not what:
        return []
    found: list[Transfer] = []
    for word in words[1:]:
        if "://" in word:
            found += [t for url in patterns.URL.findall(word) for t in to_url(what, url, how)]
        elif not word.startswith("-") and _bare_host(word.split("/")[0]):
            found += to_url(what, word, how)
    return found


def _bare_host(word: str) -> bool:
    """A host written with no scheme: a domain (``x.io:8080``) or an IP address."""
    return bool(patterns.DOMAIN.fullmatch(word)) or bool(ip_host(word.rsplit(":", 1)[0]))


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
    host = canonical(dest, "url") if dest.startswith("rsync://") else _host_of(dest)
    if not host or senders.on_this_machine(host) or all(_host_of(s) == host for s in sources):
        return []  # from that host to itself, or to this machine: nothing leaves it
    return [Transfer(" ".join(sources)[:200], dest, host, "url", name)]


def _host_of(path: str) -> str:
    """The host of ``[user@]host:path`` as destinations are compared (an address written
    one way: ``[2001:db8::1]`` is ``2001:db8::1``)."""
    remote = _REMOTE.match(path)
    return canonical(remote.group(1).strip("[]"), "url") if remote else ""


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
    endpoint = option(words, "--endpoint-url") if words[0] == "aws" else ""
    sources = [s for s in positional[:at] if s != endpoint]
    what = " ".join(file_of(s, stdin) if s == "-" else s for s in sources).strip()
    how = " ".join(words[: verbs[0] + 1])
    if endpoint and what:  # an S3-compatible service at that host holds the bucket
        return to_url(what[:200], endpoint, how)
    canon = f"bucket:{storage.group(1).lower()}/{storage.group(2).lower()}"
    return [Transfer(what[:200], storage.group(0), canon, "bucket", how)] if what else []
