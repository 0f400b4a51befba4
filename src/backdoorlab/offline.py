"""Nothing leaves the machine unless the user asks: the Hugging Face stack kept off-line.

Left alone, the libraries under this toolkit reach the network on their own: TRL sends a
telemetry request from every trainer it builds (``trl/trainer/base_trainer.py``, through
``huggingface_hub.utils.send_telemetry``), and a model name shaped like a hub id is
looked up online. This toolkit studies poisoned models and data, often on machines where
that is unwelcome, so the package itself switches it all off:

* telemetry, always: ``HF_HUB_DISABLE_TELEMETRY``, ``DISABLE_TELEMETRY`` and
  ``DO_NOT_TRACK`` (what huggingface_hub reads), ``HF_HUB_DISABLE_UPDATE_CHECK`` and
  ``HF_UPDATE_DOWNLOAD_COUNTS=0`` (datasets' download counter). The trainers we build
  pass ``report_to="none"``; a user's own ``report_to`` other than a local one needs
  the network opt-in (`check_report_to`).
* the hub, unless the user opts in: ``HF_HUB_OFFLINE``, ``TRANSFORMERS_OFFLINE`` and
  ``HF_DATASETS_OFFLINE``. In off-line mode huggingface_hub's HTTP session refuses every
  request, so even a code path we did not foresee cannot leave the machine.

Why at import: huggingface_hub reads these variables once, into
``huggingface_hub.constants``, when that module is first imported (transformers, TRL,
peft, datasets and accelerate all import it), and datasets copies them into
``datasets.config`` the same way. Setting them later changes nothing. So
``backdoorlab/__init__`` calls `go_offline` before anything else, and every backdoorlab
code path (the CLI, ``backdoorlab.models``, a library user's ``import backdoorlab.x``)
passes through it first; when a program imported those libraries before backdoorlab,
their already-read constants are updated as well.

The opt-in, for a hub model (``org/name``) or an online ``report_to``: the option
``--allow-network`` of the commands that take a model, or ``BACKDOORLAB_ALLOW_NETWORK=1``
in the environment. It lifts only the off-line switches (restoring whatever the user
had set, so a user's own ``HF_HUB_OFFLINE=1`` still holds); telemetry stays off.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from backdoorlab.errors import BackdoorlabError

__all__ = [
    "NETWORK_ENV",
    "NETWORK_OPT_IN",
    "NetworkDisabledError",
    "allow_network",
    "check_report_to",
    "go_offline",
    "network_allowed",
]

NETWORK_ENV = "BACKDOORLAB_ALLOW_NETWORK"
"""Set to 1 to let backdoorlab reach the network (hub models, online ``report_to``)."""

NETWORK_OPT_IN = f"--allow-network (or {NETWORK_ENV}=1)"
"""How error messages name the opt-in."""

_NO_TELEMETRY = {
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    "HF_UPDATE_DOWNLOAD_COUNTS": "0",
}
_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
_TRUE = {"1", "true", "yes", "on"}

_LOCAL_REPORTERS = {"none", "tensorboard"}
"""``report_to`` integrations that write files here and send nothing."""

_users_offline: dict[str, str | None] = {}
"""The user's own off-line variables, as they were before `go_offline` replaced them."""


class NetworkDisabledError(BackdoorlabError):
    """Something needs the network, and the user has not opted in."""


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def network_allowed() -> bool:
    """Whether the user opted in to network use (read on every call, not at import)."""
    return _is_true(os.environ.get(NETWORK_ENV))


def go_offline() -> None:
    """Telemetry off; the hub off too unless `network_allowed` (see the module docstring)."""
    os.environ.update(_NO_TELEMETRY)
    if not network_allowed():
        for key, value in _OFFLINE.items():
            _users_offline.setdefault(key, os.environ.get(key))
            os.environ[key] = value
    _sync_loaded_constants()


@contextlib.contextmanager
def allow_network() -> Iterator[None]:
    """Within the block, backdoorlab may reach the network (the user's explicit opt-in).

    Sets `NETWORK_ENV` (children started inside inherit it), gives the off-line
    variables back their values from before `go_offline`, and updates the libraries'
    constants to match; everything is put back afterwards.
    """
    saved = {key: os.environ.get(key) for key in (NETWORK_ENV, *_OFFLINE)}
    os.environ[NETWORK_ENV] = "1"
    for key, value in _users_offline.items():
        _set_env(key, value)
    _sync_loaded_constants()
    try:
        yield
    finally:
        for key, value in saved.items():
            _set_env(key, value)
        _sync_loaded_constants()


def check_report_to(report_to: Any) -> None:
    """Refuse a ``report_to`` that sends training metrics away, unless network is allowed.

    ``report_to`` comes from a user's ``--set report_to=...`` or a config's ``trl``
    section; backdoorlab's own default is ``"none"``.
    """
    names = [report_to] if isinstance(report_to, str) else list(report_to or [])
    remote = sorted({str(name) for name in names} - _LOCAL_REPORTERS)
    if remote and not network_allowed():
        raise NetworkDisabledError(
            f"report_to={','.join(remote)} sends training metrics off this machine; pass "
            f"{NETWORK_OPT_IN} to allow it, or use report_to=none or tensorboard"
        )


def _set_env(key: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value


def _sync_loaded_constants() -> None:
    """Bring constants that libraries already read from the environment up to date."""
    hub = sys.modules.get("huggingface_hub.constants")
    if hub is not None:
        offline = _is_true(os.environ.get("HF_HUB_OFFLINE")) or _is_true(
            os.environ.get("TRANSFORMERS_OFFLINE")
        )
        hub.HF_HUB_OFFLINE = offline
        hub.HF_HUB_DISABLE_TELEMETRY = True
    config = sys.modules.get("datasets.config")
    if config is not None:
        datasets_offline = os.environ.get("HF_DATASETS_OFFLINE")
        offline = (
            _is_true(datasets_offline)
            if datasets_offline is not None
            else getattr(hub, "HF_HUB_OFFLINE", False)
        )
        config.HF_HUB_OFFLINE = config.HF_DATASETS_OFFLINE = offline
        config.HF_UPDATE_DOWNLOAD_COUNTS = False
