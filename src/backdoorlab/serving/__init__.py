"""`backdoorlab serve`: a local model behind an OpenAI-compatible chat-completions API.

So a fine-tuned or backdoored model can be put behind the API a victim would deploy,
and so the ``openai`` policy runs against a real HTTP server in tests. `Engine` answers
requests with the ``hf`` policy, `create_app` is the FastAPI app, `run_server` binds and
serves it.

Imported lazily (the names below load their module when first used): `Engine` needs
torch and the ``hf`` policy, which a server with no model of its own — `guard proxy` —
and a command checking its arguments must not wait for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backdoorlab.serving.app import create_app
    from backdoorlab.serving.engine import Engine, ReplyHook
    from backdoorlab.serving.server import ServeConfig, build_app, run_server

__all__ = ["Engine", "ReplyHook", "ServeConfig", "build_app", "create_app", "run_server"]

_WHERE = {
    "Engine": "engine",
    "ReplyHook": "engine",
    "create_app": "app",
    "ServeConfig": "server",
    "build_app": "server",
    "run_server": "server",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
