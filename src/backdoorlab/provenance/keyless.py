"""Sigstore keyless signing through model-signing, refused at once where there is no network.

Keyless signing trades a key file for an identity: an OIDC token (ambient in CI, given with
``--identity-token``, or from a browser login) buys a short-lived certificate from
Fulcio, and the signature is logged in Rekor; model-signing does all of it
(``signing.Config().use_sigstore_signer``). Every step needs Sigstore's servers — even
before the token, the client fetches its trust root over TUF — and an offline machine
would meet that as a resolver or TCP timeout deep inside sigstore, or as a login prompt
waiting for a browser. So the servers are probed first, with a short timeout, in daemon
threads (a resolver that hangs cannot hang the command), and an offline machine gets one
line naming what keyless signing needs.

Verifying such a bundle needs the network too (the trust root, the transparency log):
model-signing's own CLI does it (``model_signing verify sigstore --identity ...
--identity_provider ...``); ``provenance verify`` checks key and certificate signatures.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence
from pathlib import Path

from backdoorlab.errors import BackdoorlabError

HOSTS = ("tuf-repo-cdn.sigstore.dev", "oauth2.sigstore.dev", "fulcio.sigstore.dev")
"""The trust root, the identity provider and the certificate authority (production)."""
TIMEOUT_S = 3.0


class OfflineError(BackdoorlabError):
    """Keyless signing asked for where Sigstore's servers cannot be reached."""


def unreachable(hosts: Sequence[str] = HOSTS, timeout: float = TIMEOUT_S) -> dict[str, str]:
    """``{host: why}`` for each host whose HTTPS port does not accept a connection within
    ``timeout`` seconds (name resolution included); {} when all do."""
    why: dict[str, str] = {}

    def probe(host: str) -> None:
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
        except OSError as exc:
            why[host] = str(exc) or type(exc).__name__
        else:
            why[host] = ""

    threads = [threading.Thread(target=probe, args=(h,), daemon=True) for h in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return {h: why.get(h, f"no answer in {timeout:g} s") for h in hosts if why.get(h) != ""}


def require_network(hosts: Sequence[str] = HOSTS, timeout: float = TIMEOUT_S) -> None:
    """Raise `OfflineError` in one line unless every Sigstore host answers."""
    missing = unreachable(hosts, timeout)
    if missing:
        host, why = next(iter(missing.items()))
        raise OfflineError(
            f"--sigstore: keyless signing needs network access to Sigstore ({host}: {why}); "
            "offline, sign with a key: --key private.pem"
        )


def sign_keyless(artifact: Path, *, identity_token: str | None = None) -> Path:
    """Sign ``artifact`` with Sigstore (an ambient or given OIDC identity, else a browser
    login); returns the bundle's path. Checks the network first."""
    from model_signing import signing

    from backdoorlab.provenance.layout import signature_path
    from backdoorlab.provenance.signing import hashing_config

    artifact = Path(artifact)
    if not artifact.exists():
        raise BackdoorlabError(f"{artifact}: nothing to sign (no such file or directory)")
    require_network()
    config = signing.Config().set_hashing_config(hashing_config(artifact))
    config.use_sigstore_signer(use_ambient_credentials=True, identity_token=identity_token)
    target = signature_path(artifact)
    target.unlink(missing_ok=True)
    try:
        config.sign(artifact, target)
    except Exception as exc:  # sigstore's errors (OIDC, Fulcio, Rekor) as one line
        text = " ".join(str(exc).split())
        raise BackdoorlabError(f"--sigstore: signing failed ({type(exc).__name__}: {text})") from (
            None
        )
    return target
