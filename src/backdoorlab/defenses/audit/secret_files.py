"""Which files hold credentials: what a command that ships a file the trace never showed
is judged by (`shell_inline`: a substitution that reads one; `by_reference.strength`: a
file moved by name), as secret scanners name them — ssh private keys, ``.env`` (not its
``.example``), ``.netrc``, package-registry and cloud credentials, ``/etc/shadow``,
key stores — and never a public key.
"""

from __future__ import annotations

import re

from backdoorlab.defenses.audit.shown_files import local

_SECRET_FILE = re.compile(
    r"(?:^|/)(?:\.env(?:\.(?!example|sample|template|dist|defaults?\b)[\w-]+)?"
    r"|id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?|\.netrc|\.npmrc|\.pypirc|\.pgpass"
    r"|\.git-credentials|credentials(?:\.json|\.db)?|application_default_credentials\.json"
    r"|g?shadow|kubeconfig|\.vault-token|[\w.-]+\.(?:pem|key|p12|pfx|jks|keystore|ppk))$"
    r"|(?:^|/)\.(?:aws/config|kube/config|docker/config\.json|config/gh/hosts\.yml)$",
    re.IGNORECASE,
)


def secret_file(path: str) -> bool:
    """Whether ``path`` names a file that holds credentials (not a public key, not an
    example of one)."""
    return bool(_SECRET_FILE.search(local(path))) and not path.endswith(".pub")


_PUBLIC = re.compile(
    r"\.pub$|\.(?:example|sample|template|dist)"
    r"(?:\.(?:env|ya?ml|json|toml|ini|cfg|conf|properties|txt))?$",
    re.IGNORECASE,
)


def public_file(path: str) -> bool:
    """Whether ``path`` names a file published by design or holding no real values: a
    public key (``id_rsa.pub``), a configuration's example (``.env.example``,
    ``config.sample.yaml``) — not a data file's sample (``customers.sample.csv``,
    ``users_sample.json``: real rows, often). Moved unseen it carries nothing; a copy a
    call wrote there is its origin's (`by_reference.strength`)."""
    return bool(_PUBLIC.search(local(path)))
