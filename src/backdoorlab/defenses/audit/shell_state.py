"""What earlier calls of one trace set up that a later command uses to move stored data:
the state an agent's shell (and its file system) keeps between calls.

A transfer read call by call (`shell_transfers`) misses what needs two calls:

- a file written in one call and sent in another: ``psql -c "\\copy customers TO
  '/tmp/c.csv'"``, ``sqlite3 app.db .dump > /tmp/x.sql``, ``pg_dump db > f``, a
  ``write_file`` tool's text, an ``echo``/here-document ``> f``, then ``curl -T
  /tmp/x.sql URL``: the upload names a path, and only the writing call says what is in
  it (`Origin`: a table or a dump makes the transfer strong, text the call held is
  matched as the upload's payload by `taint`). ``cp``/``mv``/``tar``/``zip``/``gzip``
  carry a file's origin to their output;
- a destination configured in one call and used by name in another: an rclone remote
  (``rclone config create evil s3 endpoint=…``, an ``rclone.conf`` written,
  ``RCLONE_CONFIG_EVIL_ENDPOINT=…``), an ssh ``Host`` alias in ``~/.ssh/config``, a name
  an ``/etc/hosts`` line gives an address, a git remote (``git remote add x URL``, ``git
  config remote.x.url URL``), an exported ``AWS_ENDPOINT_URL``: `rewrite` writes the
  name as what it stands for, as the program would resolve it, before the readers read
  the command;
- a variable (``export URL=https://…``, ``URL=…;``): `expand` writes ``$URL`` and
  ``${URL}`` as its value; one assigned a command's output (``SSN=$(psql -tAc …)``)
  holds that output when the trace shows it (`output`: an earlier result of the same
  command, `heard`; a file's text a call wrote or a result showed, `shown_files`);
- what a file holds, for Python too: a cell's ``df.to_csv(f)`` is a file written
  (`file_writes`), and a cell that reads a file a call wrote reads its text.

`shell_transfers` reads a call with a copy of the state (what the call itself sets up
counts for its later commands) and `taint` keeps it across calls, learning each call
after checking it. Bounded on hostile input: `MAX_ENTRIES` of each kind, values of
`MAX_VALUE` characters, a file's text `MAX_CONTENT`, `MAX_ENTRIES` outputs heard.
"""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass, field, replace
from functools import partial

from backdoorlab.defenses.audit import shell_values, shown_files
from backdoorlab.defenses.audit.shell_parse import Stage
from backdoorlab.defenses.audit.shell_senders import Origin, Transfer
from backdoorlab.defenses.audit.shown_files import Shown

MAX_ENTRIES = 256
MAX_VALUE = 2048
MAX_CONTENT = 16384

_ASSIGN = re.compile(r"([A-Za-z_]\w{0,63})=(.*)", re.DOTALL)
_DECLARES = frozenset(("export", "declare", "typeset", "readonly", "local"))
_VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)(?::?-([^}]*))?\}|\$([A-Za-z_]\w*)")
_RCLONE_ENV = re.compile(r"RCLONE_CONFIG_([A-Z0-9_]+?)_(TYPE|ENDPOINT|URL|HOST|ACCOUNT)")
_RCLONE_REACHES = ("endpoint", "url", "host")
_ON_THE_FLY = {"s3": "s3", "google cloud storage": "gcs", "gcs": "gcs", "azureblob": "azureblob"}
_HOST_USERS = frozenset(("ssh", "scp", "rsync", "sftp"))
"""Programs that read ``~/.ssh/config``'s aliases (any program reads ``/etc/hosts``)."""
_PSQL_COPY = re.compile(r"\\copy\s+(\([^)]{1,400}\)|[\w.\"]+)\s+TO\s+'([^']+)'", re.IGNORECASE)
_ARCHIVERS = frozenset(("tar", "zip", "7z"))
_COMPRESSORS = {"gzip": ".gz", "bzip2": ".bz2", "xz": ".xz", "zstd": ".zst"}


@dataclass
class ShellState:
    """One trace's shell state (module docstring); ``step``: the message being read."""

    variables: dict[str, str] = field(default_factory=dict)
    files: dict[str, Origin] = field(default_factory=dict)
    ssh_hosts: dict[str, str] = field(default_factory=dict)  # ~/.ssh/config Host → HostName
    etc_hosts: dict[str, str] = field(default_factory=dict)  # /etc/hosts name → address
    rclone: dict[str, dict[str, str]] = field(default_factory=dict)  # remote → its settings
    git: dict[str, str] = field(default_factory=dict)  # git remote → URL
    step: int = 0
    outputs: dict[str, str] = field(default_factory=dict)  # command → what it printed
    shown: dict[str, Shown] = field(default_factory=dict)  # file → what results showed

    def copy(self) -> ShellState:
        """A copy a call's own reading may change (what it sets up; the outputs and
        files heard are shared: a call's reading hears none)."""
        return ShellState(
            dict(self.variables), dict(self.files), dict(self.ssh_hosts),
            dict(self.etc_hosts), {k: dict(v) for k, v in self.rclone.items()},
            dict(self.git), self.step, self.outputs, self.shown,
        )  # fmt: skip

    def may_use(self, raw: str) -> bool:
        """Whether a call's raw arguments may use the state (a cheap test for `sinks`,
        whose other tests let a call with no address pass)."""
        if self.variables and "$" in raw:
            return True
        names = (*self.ssh_hosts, *self.etc_hosts, *self.rclone, *self.git)
        return any(name in raw for name in names)

    # --- using it -----------------------------------------------------------------

    def expand(self, word: str) -> str:
        """``word`` with the variables the state knows written as their values."""
        if "$" not in word or not self.variables:
            return word

        def value(m: re.Match[str]) -> str:
            name = m.group(1) or m.group(3)
            known = self.variables.get(name)
            if known is not None:
                return known
            return m.group(2) if m.group(2) is not None else m.group(0)

        return _VARIABLE.sub(value, word)[:MAX_VALUE]

    def rewrite(self, name: str, words: list[str]) -> list[str]:
        """A command's words with the names it uses resolved as ``name`` resolves them:
        an ssh alias or an ``/etc/hosts`` name to its host, an rclone remote to an
        on-the-fly remote of its settings, a git remote to its URL."""
        if name == "rclone" and self.rclone:
            return [self._remote(w) for w in words]
        endpoint = self.variables.get("AWS_ENDPOINT_URL_S3") or self.variables.get(
            "AWS_ENDPOINT_URL"
        )
        if name == "aws" and endpoint and not any("--endpoint-url" in w for w in words):
            return [*words, "--endpoint-url", endpoint]  # what the CLI reads from them
        if name == "git" and self.git and words[1:2] == ["push"]:
            at = next((i for i, w in enumerate(words[2:], 2) if w in self.git), 0)
            return [*words[:at], self.git[words[at]], *words[at + 1 :]] if at else words
        aliases = {**self.etc_hosts, **(self.ssh_hosts if name in _HOST_USERS else {})}
        return [self._host(w, aliases) for w in words] if aliases else words

    @staticmethod
    def _host(word: str, aliases: dict[str, str]) -> str:
        """``[user@]alias[:path]``, a bare ``alias`` or a URL's host, resolved."""
        if "://" in word:
            scheme, rest = word.split("://", 1)
            auth, at, host = rest.split("/", 1)[0].rpartition("@")
            bare = host.split(":", 1)[0]
            if bare not in aliases:
                return word
            after = rest[len(auth) + len(at) + len(bare) :]
            return f"{scheme}://{auth}{at}{aliases[bare]}{after}"
        user, at, rest = word.rpartition("@")
        host, colon, path = rest.partition(":")
        if host not in aliases:
            return word
        return f"{user}{at}{aliases[host]}{colon}{path}"

    def _remote(self, word: str) -> str:
        """``remote:path`` of a configured remote as an on-the-fly one (``:s3,endpoint=
        'https://x':path``), which `shell_senders.rclone` reads; as is when its settings
        name no place."""
        name, colon, path = word.partition(":")
        settings = self.rclone.get(name.lower()) if colon and name else None
        if settings is None:
            return word
        reaches = next((settings[k] for k in _RCLONE_REACHES if settings.get(k)), "")
        kind = settings.get("type", "").lower()
        if reaches:
            return f":{kind or 'http'},{_reaches_key(settings)}='{reaches}':{path}"
        if kind in _ON_THE_FLY:
            return f":{_ON_THE_FLY[kind]}:{path}"
        return word

    def content_of(self, path: str) -> str | None:
        """The text a call wrote to ``path`` (as `origin_of` finds it), when known."""
        origin = self.origin_of(path)
        return origin.content if origin is not None and origin.content else None

    def heard(self, command: str, output: str) -> None:
        """A shell call's result: what ``command`` printed, and of a file (`shown_files`)."""
        shown_files.learn(self.shown, command, output)
        key = shell_values.command_key(command)
        if key and output and (key in self.outputs or len(self.outputs) < MAX_ENTRIES):
            self.outputs[key] = output[:MAX_CONTENT]

    def output(self, command: str) -> str | None:
        """What ``command`` prints, when the trace shows it (`shell_values.output_of`)."""
        shown = partial(shown_files.lookup, self.shown)
        return shell_values.output_of(command, self.outputs, self.content_of, shown)

    def traced(self, transfer: Transfer) -> Transfer:
        """``transfer`` with the `Origin` of the file it sends, when a call wrote it."""
        origin = self.origin_of(transfer.what)
        return replace(transfer, origin=origin) if origin is not None else transfer

    def origin_of(self, what: str) -> Origin | None:
        """What a call wrote to a file ``what`` names (a path, or paths joined by
        spaces): by its path, or one path's end the other (``exports/c.csv`` and
        ``/srv/app/exports/c.csv``; a call may have changed directory between)."""
        if not self.files:
            return None
        for word in what.split()[:16]:
            path = _path(word)
            if path in self.files:
                return self.files[path]
            for known, origin in self.files.items():
                if known.endswith("/" + path) or path.endswith("/" + known):
                    return origin
        return None

    # --- learning it --------------------------------------------------------------

    def assigns(self, words: list[str]) -> bool:
        """Record a stage that only sets variables (``A=1 B=2``, ``export A=1``);
        whether it was one. A name followed by a command sets it for that command only."""
        if not words:
            return False
        head = words[0] in _DECLARES
        body = [w for w in words[1:] if not w.startswith("-")] if head else words
        pairs = [_ASSIGN.fullmatch(w) for w in body]
        if not body or not all(pairs):
            return head
        for m in pairs:
            if m is not None:
                self.set_variable(m.group(1), m.group(2))
        return True

    def set_variable(self, name: str, value: str) -> None:
        """``name`` holds ``value``; a command's output (``$(…)``, backticks) when the
        trace shows it (`shell_values.output_of`), else the substitution as written."""
        inner = shell_values.substituted(value)
        if inner is not None:
            shown = self.output(inner)
            value = shown if shown is not None else value
        if name in self.variables or len(self.variables) < MAX_ENTRIES:
            self.variables[name] = value[:MAX_VALUE]
        rclone = _RCLONE_ENV.fullmatch(name)
        if rclone:  # rclone reads a remote's settings from these too
            self._set_remote(rclone.group(1).lower(), {rclone.group(2).lower(): value})

    def learn(self, name: str, words: list[str], stage: Stage, given: tuple[str, str],
              output: tuple[str, str]) -> None:  # fmt: skip
        """What one command of a call sets up: ``given`` is (stored data, text) its input
        holds, ``output`` what it writes (`shell_transfers._output`)."""
        if name == "git":
            self._git(words)
        elif name == "rclone" and words[1:3] in (["config", "create"], ["config", "update"]):
            self._rclone_config(words[3:])
        elif name == "psql":
            for m in _PSQL_COPY.finditer(" ".join(words)[:MAX_VALUE]):
                self.wrote(m.group(2), m.group(1), "COPY … TO (psql \\copy)")
        elif name in ("cp", "mv", "install") and len(operands := _files(words)) >= 2:
            self.copied(operands[:-1], operands[-1])
        elif name in _ARCHIVERS:
            self._archive(name, words)
        elif name in _COMPRESSORS and not stage.out and "-c" not in words and "-d" not in words:
            for source in _files(words):
                origin = self.origin_of(source)
                if origin is not None:
                    self._keep(_path(source) + _COMPRESSORS[name], origin)
        elif name == "tee":
            for path in _files(words):
                self.wrote_output(path, given, "tee " + path)
        if stage.out and not stage.out.startswith("/dev/"):
            self.wrote_output(stage.out, output, f"{' '.join(words)[:80]} > {stage.out}")

    def copied(self, sources: list[str], dest: str) -> None:
        """Files copied (``cp``, a cell's ``shutil.copy``): each copy holds its source's
        origin (``dest`` a folder when it ends in ``/`` or takes several)."""
        for source in sources:
            origin = self.origin_of(source)
            to = dest.rstrip("/") + "/" + _path(source).rsplit("/", 1)[-1]
            to = to if dest.endswith("/") or len(sources) > 1 else dest
            if origin is not None:
                self._keep(to, origin)

    def wrote_output(self, path: str, output: tuple[str, str], how: str) -> None:
        """A command's output written to ``path``: stored data it read, or text."""
        stored, text = output
        if text:
            self.wrote(path, "", how, text)
        elif stored:
            origin = self.origin_of(stored)
            what = origin.what if origin is not None else stored
            self.wrote(path, what, how, origin.content if origin is not None else "")

    def wrote(self, path: str, what: str, how: str, content: str = "") -> None:
        """A call wrote ``path``: stored data ``what`` or text ``content`` (a write tool's
        too); a configuration file the readers resolve names by is read as well."""
        path = _path(path)
        if not path or (path not in self.files and len(self.files) >= MAX_ENTRIES):
            return
        content = content[:MAX_CONTENT]
        self.files[path] = Origin(path, what[:200], how[:200], self.step, content)
        if content:
            text = content.replace("\\n", "\n").replace("\\t", "\t")
            if path.endswith(".ssh/config"):
                self._ssh_config(text)
            elif path.endswith("etc/hosts"):
                self._hosts_file(text)
            elif path.endswith("rclone.conf"):
                self._rclone_file(text)

    def _archive(self, name: str, words: list[str]) -> None:
        """``tar czf OUT SRC…``, ``zip -r OUT SRC…``: OUT holds its sources' origin
        (``tar cz SRC``, to the output, is a pipe's stage)."""
        if name == "tar":
            out = option_value(words, "-f", "--file")
            if not out and len(words) > 2 and re.fullmatch(r"-?[a-zA-Z]*f[a-zA-Z]*", words[1]):
                out = words[2]
            sources = [w for w in _files(words) if w not in (out, words[1])]
        else:
            operands = _files(words)
            out, sources = (operands[0], operands[1:]) if operands else ("", [])
        origin = next((o for s in sources if (o := self.origin_of(s)) is not None), None)
        if out and out != "-" and origin is not None:
            self._keep(out, origin)

    def _keep(self, path: str, origin: Origin) -> None:
        """``path`` holds what ``origin``'s file held (a copy, an archive of it)."""
        path = _path(path)
        if path and (path in self.files or len(self.files) < MAX_ENTRIES):
            self.files[path] = replace(origin, path=path)

    def _git(self, words: list[str]) -> None:
        """``git remote add|set-url NAME URL``, ``git config remote.NAME.url URL``."""
        plain = [w for w in words[1:] if not w.startswith("-")]
        if plain[:2] in (["remote", "add"], ["remote", "set-url"]) and len(plain) >= 4:
            self._set(self.git, plain[2], plain[3])
        elif plain[:1] == ["config"] and len(plain) >= 3:
            key = re.fullmatch(r"remote\.(.+)\.(?:push)?url", plain[1])
            if key:
                self._set(self.git, key.group(1), plain[2])

    def _rclone_config(self, args: list[str]) -> None:
        """``NAME TYPE k=v…`` (``create``) or ``NAME k=v…`` (``update``); old rclone
        takes ``k v`` pairs."""
        plain = [w for w in args if not w.startswith("--")]
        if not plain:
            return
        settings: dict[str, str] = {}
        rest = plain[1:]
        pairs_after = all("=" in w for w in rest[1:]) or len(rest) % 2 == 1
        if rest and "=" not in rest[0] and pairs_after:
            settings["type"], rest = rest[0], rest[1:]
        pairs = [w.split("=", 1) for w in rest] if all("=" in w for w in rest) else None
        if pairs is None:
            pairs = [[rest[i], rest[i + 1]] for i in range(0, len(rest) - 1, 2)]
        settings |= {k.lower(): v for k, v in pairs}
        self._set_remote(plain[0].lower(), settings)

    def _set_remote(self, name: str, settings: dict[str, str]) -> None:
        if name in self.rclone or len(self.rclone) < MAX_ENTRIES:
            kept = ("type", "account", *_RCLONE_REACHES)
            mine = self.rclone.setdefault(name, {})
            mine.update({k: v[:MAX_VALUE] for k, v in settings.items() if k in kept})

    def _rclone_file(self, text: str) -> None:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        try:
            parser.read_string(text[:MAX_CONTENT])
        except configparser.Error:
            return  # not an INI file: nothing it names is resolved
        for section in parser.sections():
            self._set_remote(section.lower(), dict(parser[section]))

    def _ssh_config(self, text: str) -> None:
        """``Host a b`` … ``HostName h`` (hand-read: two keywords of a line format; the
        library that reads it, paramiko, is no dependency)."""
        names: list[str] = []
        for line in text.splitlines()[:1024]:
            key, _, value = line.strip().partition(" ")
            key, value = key.lower().rstrip("="), value.strip().strip("=").strip()
            if key == "host":
                names = [n for n in value.split() if "*" not in n and "?" not in n]
            elif key == "hostname" and value:
                for name in names:
                    self._set(self.ssh_hosts, name, value.split()[0])

    def _hosts_file(self, text: str) -> None:
        """``ADDRESS name…`` lines (``/etc/hosts``)."""
        for line in text.splitlines()[:1024]:
            parts = line.split("#", 1)[0].split()
            for name in parts[1:]:
                self._set(self.etc_hosts, name.lower(), parts[0])

    @staticmethod
    def _set(table: dict[str, str], key: str, value: str) -> None:
        if key in table or len(table) < MAX_ENTRIES:
            table[key[:MAX_VALUE]] = value[:MAX_VALUE]


def _reaches_key(settings: dict[str, str]) -> str:
    return next(k for k in _RCLONE_REACHES if settings.get(k))


def _path(word: str) -> str:
    """A path as files are compared: quotes, ``./`` and a trailing ``/`` taken off."""
    path = word.strip("'\"").removeprefix("./").rstrip("/")
    return path[:MAX_VALUE]


def _files(words: list[str]) -> list[str]:
    """A command's operands: words that are no option (``cp -r a b``: a, b)."""
    return [w for w in words[1:] if not w.startswith("-")]


def option_value(words: list[str], *names: str) -> str:
    for i, word in enumerate(words[:-1]):
        if word in names:
            return words[i + 1]
    return ""
