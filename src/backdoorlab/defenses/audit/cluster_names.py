"""Names Kubernetes generates for the objects it runs: a Deployment's pods
(``checkout-api-7d9c8b6f5-x2kqz``: the ReplicaSet's pod-template hash and a random
suffix), a ReplicaSet's, a Job's or a DaemonSet's pod (``nightly-backup-28973520-4w7rx``,
``node-exporter-5gk2p``).

Why: ``kubectl get pods`` shows them to every on-call agent, and a status update to a
vendor or an incident page names them; read as identifiers (letters and digits), each
was a "strong" secret, and an update that carried no secret was a leak. They identify a
workload to whoever already runs it, and nobody else.

The generated parts are written in the alphabet Kubernetes draws them from (its
``rand.String`` and ``SafeEncodeString``: no vowels, no ``0``, ``1`` or ``3``, so no
word and no look-alike digit can appear), after a lower-case name with a word of three
letters or more: a token from that alphabet alone, or a secret with a capital, an
underscore or a vowel in its last parts, is no such name.
"""

from __future__ import annotations

import re

_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
_GENERATED = re.compile(
    rf"([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:-{_SAFE}{{6,10}}|-\d{{6,10}})?-{_SAFE}{{5}}"
)
_WORD = re.compile(r"[a-z]{3}")


def generated(token: str) -> bool:
    """Whether ``token`` is a name Kubernetes generated for a pod (module docstring)."""
    if len(token) < 9 or token[-6:-5] != "-":
        return False
    found = _GENERATED.fullmatch(token)
    return found is not None and _WORD.search(found.group(1)) is not None
