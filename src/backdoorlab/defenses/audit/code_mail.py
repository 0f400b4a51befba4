"""Whom a command line or code mails: the e-mail addresses in its text that are a
message's recipients, not data it handles.

An address inside code is data far more often than a destination: a value in a request
body (``curl -X POST https://crm/… -d '{"email": …}'``, whose destination is the URL's
host), a ``WHERE email = …``, ``git commit --author``, a ``grep``. Read as a
destination, every such call "sent to" the address's domain. So an address is a
recipient only where the text mails it:

- the recipients of a mail program (`_PROGRAMS`): the addresses among the words of
  ``mail``/``mailx``/``mutt``/``sendmail``/``msmtp``/``mpack`` (sender flags such as
  ``-r``/``-f`` aside), ``swaks``' and ``git send-email``'s ``--to``/``--cc``/``--bcc``,
  ``curl --mail-rcpt``, PowerShell's ``Send-MailMessage -To``/``-Cc``/``-Bcc``; a
  ``$VAR`` there is looked up in the text's assignments (``TO=x@y``);
- in text that mails at all ("mail", "smtp" or "rcpt" in it), a recipient key and its
  value: ``msg['To'] = …``, a ``To:`` header (``sendmail -t``), ``to=…``, ``"to": […]``
  (SendGrid, nodemailer), ``ToAddresses`` (SES), ``recipient_list``, SQL Server's
  ``@recipients =``, Oracle's ``recipients =>``; raw SMTP's ``RCPT TO:<…>``;
- the positional recipients of a mailing call: smtplib's ``sendmail(from, to, …)``,
  ``send_message(msg, from, to)`` and ``rcpt(to)``, Django's ``send_mail(subject, body,
  from, to)``, PHP's ``mail(to, …)``, any other ``send_email(…)``/``sendMail(…)``; an
  identifier there is looked up in the text's assignments (``to = 'x@y'``);
- ``mailto:``.

`login_host` says when the host after an "@" is nonetheless where the call goes: a
URL's or connection string's user (``postgres://u:p@db.host/x``), a copy's target
(``scp f u@host:path``, ``git@host:o/n``) and an ``ssh``-family login. `sinks` reads
hosts from code with it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from backdoorlab.defenses.audit.patterns import EMAIL

_MAILS = re.compile(r"mail|smtp|rcpt|mutt|swaks|mpack", re.IGNORECASE)
"""A cheap first test: text without these words mails no one (``mailto:`` included)."""


@dataclass(frozen=True)
class _Program:
    """How a mail program's words name recipients."""

    recipient_flags: frozenset[str]
    value_flags: frozenset[str]
    """Flags whose value is no recipient (a sender, a subject, an attachment, a server)."""
    positional: bool
    """Whether its plain words are recipients (``mail … x@y``; not curl's or swaks')."""


def _flags(text: str) -> frozenset[str]:
    return frozenset(text.split())


_MAIL = _Program(_flags("-c -b"), _flags("-s -r -a -A -S -q -u -f -R -T -E -e -F -i -H -m"), True)
_SENDMAIL = _Program(
    frozenset(), _flags("-f -F -r -o -O -B -N -R -V -X -L -C -p -q -a --from"), True
)
_PROGRAMS: dict[str, _Program] = {
    **dict.fromkeys(("mail", "mailx", "Mail", "nail", "s-nail", "bsd-mailx", "mutt"), _MAIL),
    **dict.fromkeys(("neomutt", "mpack"), _MAIL),
    **dict.fromkeys(("sendmail", "msmtp", "ssmtp", "exim", "exim4"), _SENDMAIL),
    "swaks": _Program(_flags("--to -t --cc --bcc"), frozenset(), False),
    "send-email": _Program(_flags("--to --cc --bcc"), frozenset(), False),  # git send-email
    "git-send-email": _Program(_flags("--to --cc --bcc"), frozenset(), False),
    "curl": _Program(_flags("--mail-rcpt"), frozenset(), False),
    "send-mailmessage": _Program(  # PowerShell: parameters in any case, -To positional too
        _flags("-to -cc -bcc"),
        _flags("-from -subject -body -smtpserver -attachments -credential -port -encoding"),
        True,
    ),
}
_OPERATORS = frozenset(("|", "||", "&&", ";", "&", "(", ")", ";;", "|&"))
_REDIRECTS = frozenset(("<", ">", ">>", "<<", "<<<", "<>", ">&", "<&", "&>"))
_WORD_EDGES = "[](),{}"  # a word of a list-form command: ["mail", "-s", "x", "a@b"]

_KEY = re.compile(
    r"""(?:(?<=\\n)|(?<![\w-]))[@$]?\\?['"]?(?:to|cc|bcc|rcpt(?:[\s_]*to)?|recipients?|recipient_list"""
    r"""|(?:to|cc|bcc)_?(?:addr(?:esse)?s?|emails?|list)|(?:blind_)?copy_recipients"""
    r"""|send_?to|mail_?to|receivers?)\\?['"]?\]?\s*(?:=>|:|=(?!=))\s*""",
    re.IGNORECASE,
)
"""A recipient key and what joins it to its value (``msg['To'] = ``, ``"to": ``,
``To: ``, ``@recipients=``, ``recipients => ``); not ``Reply-To:`` or ``--to=``."""
_CALL = re.compile(
    r"(?<![\w$])(?:([\w$]+)\.)?(sendmail|send_?mail|send_?email|send_message|rcpt|mail)\s*\(",
    re.IGNORECASE,
)
_MAILTO = re.compile(r"mailto:([^\s'\"?&<>]+)", re.IGNORECASE)
_IDENTIFIER = re.compile(r"\$?\{?([A-Za-z_]\w*)\}?")
_UNQUOTED_END = re.compile(r"\n|\\n|[&;'\"`)\]}|]|\s(?=-|[\w.-]+\s*[=:])")
"""Where a value without quotes ends: a line, a shell operator, a flag or a next key."""
_PREFIXES = frozenset(("sudo", "env", "xargs", "nohup", "exec", "command", "time", "then", "do"))
_MAIL_CONTEXT = re.compile(
    r"smtp|rcpt\b|mime|emailmessage|sendmail|send_?e?mail|mail\.send|mailer|mailgun|sendgrid"
    r"|postmark|mailjet|sparkpost|\bses\b|sesv2|sp_send_dbmail|utl_mail|mailto:",
    re.IGNORECASE,
)
"""Text that mails by its words (a library, an API, a procedure): its recipient keys
are read even where no mail program runs."""
_PROGRAM_WORD = re.compile(
    r"(?<![\w.-])(?:s-|bsd-)?(?:mailx?|nail|mutt|neomutt|mpack|sendmail|msmtp|ssmtp|exim4?"
    r"|swaks|send-email|git-send-email|send-mailmessage|curl)(?![\w-])",
    re.IGNORECASE,
)
_LOGIN = re.compile(
    r"(?<![\w.-])(?:ssh|scp|sftp|rsync|mosh|autossh|sshpass|ssh-copy-id|telnet|l?ftp|rsh"
    r"|rlogin)(?![\w.-])"
)
MAX_VALUE = 2048
"""The most characters one recipient value is read for (a list of addresses)."""
LOGIN_WINDOW = 256
"""How far `login_host` looks back from a domain for its word's scheme and its command."""
MAX_RECIPIENTS = 16
"""Recipients read from one text at most (as `code_places.MAX_REQUESTS` bounds hosts)."""
MAX_READS = 64
"""Recipient keys, and mailing calls, read from one text at most: each reads up to
`MAX_VALUE` characters, so a text crafted with thousands of ``to=`` stays linear."""
MAX_SHELL_LINE = 16384
"""The longest line read as shell words (`shlex`); a longer one is split at its spaces
and shell operators, its quotes left in its words.
`shlex` grows each word one character at a time, a copy of the word each time: a
crafted 1 MB word took 27 s."""
_PLAIN_WORD = re.compile(r"[();<>|&]+|[^\s();<>|&]+")
_ASSIGNMENT = re.compile(r"(?<![\w.$])([A-Za-z_]\w*)\s*=(?!=)\s*")


def recipients(text: str) -> list[str]:
    """The addresses ``text`` (a command line or code) mails, as written (module docstring)."""
    if "@" not in text or not _MAILS.search(text):
        return []
    found: list[str] = []
    programs = False
    for line in text.replace("\\\n", " ").splitlines():
        if len(found) >= MAX_RECIPIENTS:
            break
        if _PROGRAM_WORD.search(line):
            programs |= _program_recipients(line, text, found)
    # "Cc: x@y" in a commit message mails no one; in text that mails, a key names whom
    if programs or _MAIL_CONTEXT.search(text) or _CALL.search(text):
        for key in islice(_KEY.finditer(text), MAX_READS):
            found += EMAIL.findall(_value(text, key.end(), text))
    for call in islice(_CALL.finditer(text), MAX_READS):
        found += _call_recipients(text, call)
    for mailto in _MAILTO.finditer(text):
        found += EMAIL.findall(mailto.group(1))
    return list(dict.fromkeys(found))[:MAX_RECIPIENTS]


def login_host(text: str, start: int, end: int) -> bool:
    """Whether the host at ``text[start:end]``, after an "@", is where the call goes
    rather than an address's domain (module docstring)."""
    if text[end : end + 1] == ":":
        return True  # scp/rsync/git: user@host:path
    near = max(0, start - LOGIN_WINDOW)  # bounded: a line of addresses is no login
    word = max(text.rfind(c, near, start) for c in " \t\n'\"=")
    if "://" in text[max(word + 1, near) : start]:
        return True  # a URL's or connection string's user: scheme://user:pw@host
    segment = max(text.rfind(c, near, start) for c in "\n;|&")
    return _LOGIN.search(text, max(segment + 1, near), start) is not None


def _words(line: str) -> list[str]:
    """A line's shell words (`shlex`, operators apart), stripped of list punctuation."""
    if len(line) > MAX_SHELL_LINE:  # words and operators as `shlex` splits them, quotes kept
        words = _PLAIN_WORD.findall(line)
    else:
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            words = list(lexer)
        except ValueError:  # an unclosed quote: read it as plain words
            words = line.split()
    return [w if w in _OPERATORS or w in _REDIRECTS else w.strip(_WORD_EDGES) for w in words]


def _program_recipients(line: str, text: str, found: list[str]) -> bool:
    """Add to ``found`` the recipients of the mail programs ``line`` runs; whether it
    runs one (a program's name where a command starts, not ``grep sendmail``)."""
    words = _words(line)
    seen = False
    for at, word in enumerate(words):
        name = word.rsplit("/", 1)[-1]
        program = _PROGRAMS.get(name) or _PROGRAMS.get(name.lower())
        if program is None or not _command_at(words, at, name == "send-email"):
            continue
        seen = True
        fold = name.lower() == "send-mailmessage"
        skip = False
        # read in place, not from a copy of the words after it: "mail;mail;…" copied
        # the rest of the line once for each program word
        for i in range(at + 1, len(words)):
            arg = words[i]
            if arg in _OPERATORS:
                break
            if skip or arg in _REDIRECTS:  # a flag's value, a redirect's file
                skip = arg in _REDIRECTS
                continue
            if arg.startswith("-"):
                flag_name, joined, value = arg.partition("=")
                flag_name = flag_name.lower() if fold else flag_name
                if flag_name in program.recipient_flags:
                    value = value if joined else (words[i + 1] if i + 1 < len(words) else "")
                    found += _addresses(value, text)
                    skip = not joined
                else:
                    skip = flag_name in program.value_flags and not joined
                continue
            if program.positional:
                found += _addresses(arg, text)
    return seen


def _command_at(words: list[str], at: int, git: bool) -> bool:
    """Whether ``words[at]`` is where a command starts (after ``git`` for a git one)."""
    before = words[at - 1] if at else ""
    if git:
        return before == "git"
    return (
        not before
        or before in _OPERATORS
        or before in _PREFIXES
        or ("=" in before and not before.startswith("-"))  # TO=x mail …
    )


def _addresses(word: str, text: str) -> list[str]:
    """The addresses a word holds, or those a ``$VAR``/identifier it is was set to."""
    found = EMAIL.findall(word)
    if found:
        return found
    name = _IDENTIFIER.fullmatch(word.strip())
    return EMAIL.findall(_assigned(text, name.group(1))) if name else []


def _assigned(text: str, name: str) -> str:
    """The value ``name`` is assigned in ``text`` (``name = '…'``, ``NAME=…``), or ""."""
    at = _assignments(text).get(name)
    return "" if at is None else _value(text, at, "")


@lru_cache(maxsize=4)
def _assignments(text: str) -> dict[str, int]:
    """Where the value of each name's first assignment in ``text`` starts: one scan of
    the text for all its names, not one for each name looked up (a line of ten thousand
    words, each looked up, scanned the text ten thousand times)."""
    found: dict[str, int] = {}
    for m in _ASSIGNMENT.finditer(text):
        found.setdefault(m.group(1), m.end())
    return found


def _value(text: str, at: int, lookup: str) -> str:
    """The value starting at ``at``: a quoted string, a bracketed list, ``<addr>``, up
    to the line's end, or what the identifier there was assigned (``lookup`` given)."""
    if text.startswith("\\", at):
        at += 1
    head = text[at : at + 1]
    if head in ("'", '"', "`"):
        end = text.find(head, at + 1, at + MAX_VALUE)
        return text[at + 1 : end if end >= 0 else at + MAX_VALUE]
    if head in ("[", "(", "{"):
        return text[at : _closing(text, at)]
    if head == "<":
        end = text.find(">", at, at + 256)
        return text[at : end if end >= 0 else at]
    stop = _UNQUOTED_END.search(text, at, at + MAX_VALUE)
    value = text[at : stop.start() if stop else at + MAX_VALUE]
    if lookup and not EMAIL.search(value):
        name = _IDENTIFIER.match(value.strip())
        return _assigned(lookup, name.group(1)) if name else ""
    return value


def _closing(text: str, at: int) -> int:
    """The index just past the bracket group opening at ``at`` (quotes respected),
    at most `MAX_VALUE` on."""
    depth, quote = 0, ""
    limit = min(len(text), at + MAX_VALUE)
    for i in range(at, limit):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[({":
            depth += 1
        elif ch in "])}":
            depth -= 1
            if depth == 0:
                return i + 1
    return limit


def _arguments(text: str, at: int) -> list[str]:
    """The top-level, comma-separated arguments of the call whose "(" is at ``at``."""
    inner = text[at + 1 : _closing(text, at) - 1]
    args, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(inner):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[({":
            depth += 1
        elif ch in "])}":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(inner[start:i].strip())
            start = i + 1
    args.append(inner[start:].strip())
    return [a for a in args if a]


def _call_recipients(text: str, call: re.Match[str]) -> list[str]:
    """The recipients among a mailing call's positional arguments (module docstring);
    keyword arguments and objects (``to=…``, ``{to: …}``) are `_KEY`'s to read."""
    positional = [
        a for a in _arguments(text, call.end() - 1) if not re.match(r"[\w$]+\s*[=:]|\{", a)
    ]
    method = call.group(1) is not None
    chosen = positional[recipient_positions(method, call.group(2), len(positional))]
    return [a for arg in chosen for a in _addresses(arg, text)]


def mailing_call(name: str) -> bool:
    """Whether a function of this name mails (``sendmail``, ``send_email``, ``rcpt``…)."""
    return _CALL.fullmatch(name + "(") is not None


def recipient_positions(method: bool, name: str, count: int) -> slice:
    """Which of a mailing call's ``count`` positional arguments are its recipients;
    ``method``: called on an object (``server.sendmail``), not a bare function."""
    name = name.lower()
    if name == "mail":  # PHP's mail(to, …); smtplib's .mail(from) is the sender
        return slice(0, 0 if method else 1)
    if name == "rcpt":  # smtplib: rcpt(to)
        return slice(0, 1)
    if name == "sendmail" and method:
        return slice(1, 2)  # smtplib: sendmail(from, to, msg)
    if name == "send_message":
        return slice(2, 3)  # smtplib: send_message(msg, from, to)
    if name == "send_mail" and count >= 4:
        return slice(3, 4)  # Django: send_mail(subject, body, from, to)
    return slice(0, count)  # a helper of one's own: send_email(to, subject, body)


def recipient_key(name: str) -> bool:
    """Whether a keyword or header of this name holds recipients (``to``, ``Cc``,
    ``to_addrs``, ``recipient_list``…; not ``Reply-To``)."""
    return _KEY.fullmatch(name + "=") is not None


_RELAY = re.compile(
    r"""\b(?:SMTP|SMTP_SSL|LMTP)\(\s*(?:host\s*=\s*)?(?:['"]([\w.-]{1,253})['"]|([A-Za-z_]\w*))"""
)
"""``smtplib.SMTP("smtp.host", 587)``, ``SMTP_SSL(host=SERVER)``: the relay it connects to."""


def relays(text: str) -> set[str]:
    """The SMTP relays ``text`` (code) connects to, lower-cased: the hop a message takes,
    not where it goes (its recipients are, `recipients`); `code_places` reads no request
    to them. A name is looked up in the text's assignments (``server = "smtp.x.com"``)."""
    if "SMTP" not in text and "LMTP" not in text:
        return set()
    found = set()
    for m in islice(_RELAY.finditer(text), MAX_READS):
        host = m.group(1) or _assigned(text, m.group(2)).strip()
        if host and "." in host:
            found.add(host.lower())
    return found
