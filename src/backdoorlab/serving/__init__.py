"""`backdoorlab serve`: a local model behind an OpenAI-compatible chat-completions API.

So a fine-tuned or backdoored model can be put behind the API a victim would deploy,
and so the ``openai`` policy runs against a real HTTP server in tests. `Engine` answers
requests with the ``hf`` policy, `create_app` is the FastAPI app, `run_server` binds and
serves it.
"""

from backdoorlab.serving.app import create_app
from backdoorlab.serving.engine import Engine, ReplyHook
from backdoorlab.serving.server import ServeConfig, build_app, run_server

__all__ = ["Engine", "ReplyHook", "ServeConfig", "build_app", "create_app", "run_server"]
