"""Where a command line or code sends: the URLs and hosts it requests (`requests_in`),
and by name (`places`) what a shell or a Python tool's text writes to, both read as
destinations by `sinks`.

- storage: ``aws s3 cp|mv|sync … s3://b`` and ``gsutil``/``gcloud storage`` ``cp … gs://b``
  when the bucket is the copy's target (``aws s3 cp s3://b/x .`` only reads), ``aws s3api
  put-object --bucket b``, ``az storage blob upload --container-name c --account-name a``;
  in code that writes (``put_object``, ``upload_file``, ``to_csv``…), ``Bucket="b"``,
  ``bucket_name=``, ``upload_file(f, "b", …)``, ``.bucket("b")``, ``s3://``/``gs://`` URLs;
- repositories: ``gh issue|pr|release create|comment|edit|review|upload -R o/n`` (without
  ``-R`` the checkout's own: no destination), ``gh api`` writing to ``repos/o/n/…``,
  ``git push URL``, ``git remote add|set-url NAME URL`` (any host), and a forge's URL that
  code writes to (``curl -X POST``/``-d``, ``requests.post``); a repository read from a URL
  keeps that URL's host (`Place.service`);
- ``gh gist create|edit``: a gist (public, no name);
- a Slack SDK ``channel=`` in code that posts (``chat_postMessage``);
- SQL that writes to a bucket, in any tool's text (read by the statement, not the tool's
  name): ``COPY … TO 's3://b/…'``, ``COPY INTO 's3://b/…'``, ``UNLOAD (…) TO 's3://b/…'``,
  ``EXPORT DATA OPTIONS(uri='gs://b/…')``, ``CREATE [EXTERNAL] TABLE … LOCATION 's3://b/…'``
  (or ``external_location = '…'``), ``INSERT OVERWRITE DIRECTORY 's3://b/…'``; also with
  ``s3a://``, ``az://container/…`` (``bucket:az/container``) and ``abfss://`` or
  ``wasbs://container@account.…`` (``bucket:az/account/container``). A statement that reads
  a bucket (``COPY t FROM 's3://…'``, ``SELECT … FROM s3(…)``) sends nothing;
- an upload with a canned ACL anyone may read (``--acl public-read``) also publishes, in
  whatever bucket: a destination with no name, public, as a gist is.

A here-document a command reads as data (`here_documents`) names no destination.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import islice
from urllib.parse import urlsplit

from backdoorlab.defenses.audit import code_mail, patterns
from backdoorlab.defenses.audit.here_documents import without_data
from backdoorlab.defenses.audit.places import SCP, STORAGE_URL, Place, place, repo_in

_HINT_WORDS = ("repo", "bucket", "channel", "container", "gist", "paste", "s3://", "gs://")
_HINT_WORDS += ("s3a://", "s3n://", "az://", "abfs://", "abfss://", "wasb://", "wasbs://")
"""Words a call's raw arguments hold when they may name a place, anywhere."""
_HINT_NEAR = ("gh", "git", "az")
"""Commands they hold as whole words (after a word boundary, before a blank)."""
HINT = re.compile(
    "|".join([*map(re.escape, _HINT_WORDS), *(rf"\b{word}\s" for word in _HINT_NEAR)]),
    re.IGNORECASE,
)
"""Either, case-blind (`may_name_place`: the same answer, faster)."""


def may_name_place(text: str) -> bool:
    """``HINT.search(text) is not None``, by substring tests on ASCII text: every call's
    raw arguments take this test (`sinks.SinkResolver.resolve`), and one case-blind
    search of `HINT`'s alternation took ~4x as long (9.7 against 2.5 µs a call over the
    labelled sets' 43,713 calls). Other text is searched as it is: case-blind matching
    also folds characters such as "ſ" and "K" that ``str.lower`` leaves alone."""
    if not text.isascii():
        return HINT.search(text) is not None
    lowered = text.lower()
    if any(word in lowered for word in _HINT_WORDS):
        return True
    return any(word in lowered for word in _HINT_NEAR) and HINT.search(text) is not None


_SEGMENT = re.compile(r"&&|\|\||[;|\n]")
_COPY = frozenset(("cp", "mv", "sync", "rsync", "put", "upload", "upload-batch", "put-object"))
_HTTP_WRITE = re.compile(
    r"\.(?:post|put|patch)\(|-X\s*['\"]?(?:POST|PUT|PATCH)|--request\s+['\"]?(?:POST|PUT|PATCH)"
    r"|\s(?:-d|--data[\w-]*|-F|--form|--json)[\s=]|method\s*=\s*['\"](?:POST|PUT|PATCH)",
    re.IGNORECASE,
)
_CODE_WRITES = re.compile(
    r"put_object|upload|to_csv|to_parquet|to_json|\.write|copy_object", re.IGNORECASE
)
_CODE_BUCKET = re.compile(
    r"""(?:\bBucket|\bbucket_name|\bcontainer_name)\s*=\s*['"]([\w.-]+)['"]"""
    r"""|\.(?:bucket|get_bucket|Bucket|get_container_client)\(\s*['"]([\w.-]+)['"]"""
    r"""|\bupload_file(?:obj)?\(\s*[^,()]+,\s*['"]([\w.-]+)['"]"""
)
_CODE_POSTS = re.compile(r"chat_postMessage|post_message|postMessage|send_message|files_upload")
_CODE_CHANNEL = re.compile(r"""\bchannel\s*=\s*['"](#?[\w.-]+)['"]""")
_GH_WRITES = {
    "issue": ("create", "comment", "edit"),
    "pr": ("create", "comment", "edit", "review"),
    "release": ("create", "upload", "edit"),
}
_SQL_TARGET = re.compile(
    r"(\bTO|\bINTO|\buri\s*=|\bLOCATION|\bexternal_location\s*=|\bDIRECTORY)"
    r"""\s*['"]((?:s3[an]?|gs|az|abfss?|wasbs?)://[^'"\s]{1,300})['"]""",
    re.IGNORECASE,
)
"""Where a SQL statement may write a storage URL; what opens the statement decides
(`_SQL_OPENS`)."""
_SQL_OPENS = {
    "to": re.compile(r"\b(?:COPY|UNLOAD)\b", re.IGNORECASE),
    "into": re.compile(r"\bCOPY\s+$", re.IGNORECASE),
    "uri": re.compile(r"\bEXPORT\s+DATA\b", re.IGNORECASE),
    "location": re.compile(
        r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:[A-Z]+\s+){0,2}TABLE\b", re.IGNORECASE
    ),
    "directory": re.compile(r"\bINSERT\s+OVERWRITE\s+(?:LOCAL\s+)?$", re.IGNORECASE),
}
"""Before a target in its statement: ``COPY … TO``, ``UNLOAD … TO``, ``COPY INTO``,
``EXPORT DATA … uri=``, ``CREATE … TABLE … LOCATION`` (or ``external_location =``),
``INSERT OVERWRITE DIRECTORY``."""
_SQL_ENDS = re.compile(r"""'[^']*'|"[^"]*"|;""")
"""A string literal (skipped whole: a ``;`` in a value ends nothing) or a statement's end."""
_SQL_HINT = re.compile(r"\b(?:COPY|UNLOAD|EXPORT|CREATE|INSERT)\b", re.IGNORECASE)
MAX_PLACES = 16
"""Places read as destinations from one argument of code at most."""


def requests_in(code: str) -> list[str]:
    """The URLs and scheme-less hosts a piece of code or a command line names, which
    `sinks` reads as requests to those hosts; a scheme-less name that code calls or reads
    an attribute of (``df.info()``, ``self.app.run``, ``pd.io.json``) is no host, nor is
    an e-mail address's domain unless a login names it (`code_mail.login_host`), nor an
    SMTP relay (`code_mail.relays`: a message's recipients are where it goes), nor what
    a data here-document holds (`here_documents`: the payload ``aws s3 cp -`` uploads)."""
    code = without_data(code)
    found = [url.rstrip(".,;)'\"") for url in patterns.URL.findall(code)]
    rest = patterns.URL.sub(" ", code) if found else code
    if patterns.may_hold_domain(rest) and len(found) < MAX_REQUESTS:
        hosts = (
            m.group(0).rstrip(".,;)")
            for m in patterns.domain_matches(rest)
            if not _CALLED.match(rest, m.end())
            and (rest[m.start() - 1 : m.start()] != "@" or code_mail.login_host(rest, *m.span()))
        )
        found += islice(hosts, MAX_REQUESTS - len(found))
    relays = code_mail.relays(code)
    if relays:
        found = [host for host in found if host.lower() not in relays]
    return found[:MAX_REQUESTS]


_FETCHERS = frozenset(
    ("helm repo", "helm pull", "git clone", "git fetch", "pip install", "pip3 install")
    + ("npm install", "npm i", "yarn add", "apt-get install", "apt install", "docker pull")
    + ("go get", "go install", "cargo install", "brew install", "gem install")
)
"""A program and its verb that fetch from the URLs they name, and send them nothing else."""
_FETCH_HINT = re.compile(r"\b(?:helm|git|pip3?|npm|yarn|apt(?:-get)?|docker|go|cargo|brew|gem)\s")
_SENDS_MORE = ("--password", "--username", "--pass", "--token", "--header", "-H", "-c", "--config")
"""Options by which such a command sends more than the URL (credentials, a header)."""


def fetched_only(code: str) -> frozenset[str]:
    """The URLs (as `requests_in` reads them) that ``code`` names only in commands that
    fetch from them (`_FETCHERS`: ``helm repo add NAME URL``, ``git clone URL``, ``pip
    install URL``) and send them nothing but the URL. Why: a command line is one text,
    and every URL in it was read as receiving all of it — ``helm repo add bitnami URL &&
    helm upgrade … --set auth.password=…`` sent the cluster's password to the chart
    repository. Such a URL receives itself (its path and query may still carry a secret)."""
    if "://" not in code or not _FETCH_HINT.search(code):
        return frozenset()
    fetched: set[str] = set()
    other: set[str] = set()
    for segment in _SEGMENT.split(code):
        urls = [url.rstrip(".,;)'\"") for url in patterns.URL.findall(segment)]
        if not urls:
            continue
        words = segment.split()
        fetch = " ".join(words[:2]) in _FETCHERS and not any(
            w.split("=", 1)[0] in _SENDS_MORE for w in words
        )
        (fetched if fetch else other).update(urls)
    return frozenset(fetched - other)


_CALLED = re.compile(r"\s*\(|\.[A-Za-z_]")
"""What follows a dotted name that code calls or reads an attribute of."""


MAX_REQUESTS = 16
"""URLs read as destinations from one argument of code at most."""


def in_code(code: str) -> list[Place]:
    """The places a command line or code sends to by name (module docstring), none in a
    data here-document (`here_documents`)."""
    if not may_name_place(code):
        return []
    code = without_data(code)
    found: list[Place] = in_sql(code)
    for segment in _SEGMENT.split(code):
        words = segment.split()
        if words:
            found += _command(words)
    if _HTTP_WRITE.search(code) and "://" in code:
        for url in patterns.URL.findall(code):
            slug = repo_in(url)
            if slug:
                host = (urlsplit(url).hostname or "").lower()
                found.append(Place(_upto(url, slug), "repo:" + slug, "repo", host))
    if _CODE_WRITES.search(code):
        service = "s3" if "boto" in code or "s3" in code else "gs" if "google" in code else ""
        service = "az" if "azure" in code.lower() else service
        for m in _CODE_BUCKET.finditer(code):
            name = next(g for g in m.groups() if g)  # the bucket, not the code around it
            canon = place("bucket", name, service=service)
            if canon:
                found.append(Place(name, canon, "bucket"))
        for line in code.splitlines():
            if _CODE_WRITES.search(line):
                found += [_storage(m) for m in STORAGE_URL.finditer(line)]
    if _CODE_POSTS.search(code):
        for m in _CODE_CHANNEL.finditer(code):
            found.append(Place(m.group(1), "channel:" + m.group(1).lstrip("#").lower(), "channel"))
    return found[:MAX_PLACES]


def _storage(m: re.Match[str]) -> Place:
    return Place(m.group(0), f"bucket:{m.group(1).lower()}/{m.group(2).lower()}", "bucket")


def in_sql(text: str) -> list[Place]:
    """The buckets a SQL text writes to (module docstring), in any tool's argument."""
    if "://" not in text or not _SQL_HINT.search(text):
        return []
    targets = list(_SQL_TARGET.finditer(text))[: 4 * MAX_PLACES]
    if not targets:
        return []
    ends = [m.start() for m in _SQL_ENDS.finditer(text) if m.group(0) == ";"]
    found = []
    for m in targets:
        at = bisect_left(ends, m.start())
        start = ends[at - 1] + 1 if at else 0
        head = text[start : m.start()]
        word = m.group(1).lower().rstrip("= \t\n").removeprefix("external_")
        opens = _SQL_OPENS[word]
        if opens.search(head[-40:] if word in ("into", "directory") else head):
            sql = sql_storage(m.group(2))
            if sql:
                found.append(sql)
    return found[:MAX_PLACES]


def sql_storage(url: str) -> Place | None:
    """The bucket or container a storage URL of a SQL statement names, or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme, netloc = parts.scheme.lower(), parts.netloc
    if scheme in ("s3", "s3a", "s3n", "gs"):
        canon = place("bucket", netloc, service=scheme[:2])
    elif "@" in netloc:  # abfss://container@account.dfs.core.windows.net
        container, _, host = netloc.partition("@")
        canon = place("bucket", container, owner=host.split(".")[0], service="az")
    else:  # az://container/path: the account is configured elsewhere
        canon = place("bucket", netloc, service="az")
    if not canon:
        return None
    return Place(url.split("/")[0] + "//" + netloc, canon, "bucket")


def _upto(url: str, slug: str) -> str:
    """The URL up to the repository's name: where the call goes, not what its path or
    query carries (those stay payload)."""
    at = url.lower().find(slug.split("/")[-1], url.lower().find(slug.split("/")[0]))
    return url[: at + len(slug.split("/")[-1])] if at >= 0 else url


def _command(words: list[str]) -> list[Place]:
    """The places one command of a command line sends to."""
    found: list[Place] = []
    first = {w.lower() for w in words[:3]}
    verbs = [i for i, w in enumerate(words) if w.lower() in _COPY]
    if verbs and ("://" in " ".join(words)):
        after = words[verbs[0] + 1 :]
        positional = [w for w in after if w == "-" or not w.startswith("-")]
        urls = [
            (i, m) for i, w in enumerate(positional) if (m := STORAGE_URL.match(w.strip("'\"")))
        ]
        if urls and not (urls[-1][0] == 0 and len(positional) > 1):  # not a download
            found.append(_storage(urls[-1][1]))
    if "--bucket" in words and verbs:
        canon = place("bucket", _option(words, "--bucket"), service="s3" if "aws" in first else "")
        if canon:
            found.append(Place(_option(words, "--bucket"), canon, "bucket"))
    if found and _PUBLIC_ACL & {_option(words, n).lower() for n in _ACL_OPTIONS}:
        # an object anyone may read, whoever owns the bucket: published, as a gist is
        found.append(
            Place(
                f"{found[-1].value} (upload, public-read)", "tool:public-read", "any", implicit=True
            )
        )
    if "az" in first and "storage" in words and any(w.startswith("upload") for w in words):
        container = _option(words, "--container-name", "-c", "--destination", "-d")
        account = _option(words, "--account-name")
        canon = place("bucket", container, owner=account, service="az")
        if canon:
            found.append(Place(container, canon, "bucket"))
    if "gh" in first:
        found += _gh(words[words.index("gh") + 1 :] if "gh" in words else [])
    if "git" in first:
        found += _git(words[words.index("git") + 1 :] if "git" in words else [])
    return found


_ACL_OPTIONS = ("--acl", "-a", "--predefined-acl", "--canned-acl")
_PUBLIC_ACL = frozenset(("public-read", "public-read-write", "publicread", "publicreadwrite"))
"""A canned ACL that lets anyone read an uploaded object (``aws s3 cp --acl public-read``,
``gsutil cp -a public-read``, ``gcloud storage cp --predefined-acl=publicRead``)."""


def _option(words: list[str], *names: str) -> str:
    """The value of the first of ``names`` in a command's words (``-R x``, ``--repo=x``)."""
    for i, word in enumerate(words):
        for name in names:
            if word == name and i + 1 < len(words):
                return words[i + 1].strip("'\"")
            if word.startswith(name + "="):
                return word[len(name) + 1 :].strip("'\"")
    return ""


def _gh(args: list[str]) -> list[Place]:
    """``gh`` subcommands that write to a repository (``-R`` names it; without one, the
    checkout's own) or publish a gist."""
    if len(args) < 2:
        return []
    noun, verb = args[0].lower(), args[1].lower()
    if noun == "gist" and verb in ("create", "edit"):
        return [Place("gh gist " + verb, "tool:gh gist " + verb, "any", implicit=True)]
    if noun in _GH_WRITES and verb in _GH_WRITES[noun]:
        repo = _option(args, "-R", "--repo")
        canon = place("repo", repo) if repo else None
        return [Place(repo, canon, "repo", "github.com")] if canon else []
    if noun == "api":
        writes = any(a in ("-f", "-F", "--field", "--raw-field", "--input") for a in args) or (
            _option(args, "-X", "--method").upper() in ("POST", "PUT", "PATCH")
        )
        path = next((a for a in args[1:] if "repos/" in a), "")
        slug = repo_in("https://api.github.com/" + path.lstrip("/")) if writes and path else None
        return [Place(path, "repo:" + slug, "repo", "api.github.com")] if slug else []
    return []


def _git(args: list[str]) -> list[Place]:
    """``git push URL`` and ``git remote add|set-url NAME URL``: the repository a remote's
    URL names, whatever its host."""
    urls: list[str] = []
    if args[:1] == ["push"]:
        urls = [a for a in args[1:2] if "://" in a or "@" in a]
    elif args[:1] == ["remote"] and len(args) >= 4 and args[1] in ("add", "set-url"):
        urls = [args[3]]
    found = []
    for url in (u.strip("'\"") for u in urls):
        slug = repo_in(url, any_host=True)
        if slug:
            found.append(Place(url, "repo:" + slug, "repo", _remote_host(url)))
    return found


def _remote_host(url: str) -> str:
    if "://" in url:
        try:
            return (urlsplit(url).hostname or "").lower()
        except ValueError:
            return ""
    scp = SCP.match(url)
    return scp.group(1).lower() if scp else ""
