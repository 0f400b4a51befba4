"""Load a model, bind a socket and serve the API with uvicorn.

The socket is bound here rather than by uvicorn so that ``--port 0`` works: the kernel
picks a free port and the announced URL carries the real one (tests and scripts read it
from the first line ``serve`` prints).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from backdoorlab.config import Config
from backdoorlab.errors import BackdoorlabError

if TYPE_CHECKING:  # the engine imports torch: not for a server with no model of its own
    from backdoorlab.serving.engine import ReplyHook

LOOPBACK = "127.0.0.1"


class ServeConfig(Config):
    """What `serve` serves, and where."""

    label: ClassVar[str] = "serve settings"

    model: str
    """A built-in model name, a model directory or a run directory (base + adapter)."""
    served_name: str | None = None
    """The name clients ask for (default: ``model`` as given)."""
    host: str = LOOPBACK
    """Address to bind; loopback by default (the API has no authentication)."""
    port: int = Field(8000, ge=0, le=65535)
    """Port to bind; 0 picks a free one."""
    device: str | None = None
    """Torch device (default: cuda if any)."""
    max_batch: int = Field(32, gt=0, le=4096)
    """Requests decoded together at most."""
    max_tokens: int = Field(4096, gt=0, le=1_048_576)
    """The most tokens a request may ask for per turn."""
    conversations: int = Field(64, ge=0, le=100_000)
    """Conversations whose key/value cache is kept between turns."""
    max_body_bytes: int = Field(16 << 20, gt=0, le=1 << 34)
    """The largest request body read (413 above it; `serving.limits`)."""
    max_waiting: int = Field(1024, gt=0, le=1_000_000)
    """Requests waiting for the model at most; one more is a 429 (the client retries)."""

    @property
    def name(self) -> str:
        return self.served_name or self.model


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_app(config: ServeConfig, *, on_reply: ReplyHook | None = None) -> Any:
    """The FastAPI app over ``config.model`` (loaded here, before any socket opens)."""
    from backdoorlab.policies.hf import GenerationConfig, HFPolicy
    from backdoorlab.serving.app import create_app
    from backdoorlab.serving.engine import Engine

    generation = GenerationConfig(max_batch_size=config.max_batch)
    policy = HFPolicy(config.model, generation=generation, device=config.device)
    engine = Engine(
        policy,
        max_batch=config.max_batch,
        conversations=config.conversations,
        on_reply=on_reply,
        max_waiting=config.max_waiting,
    )
    return create_app(
        engine, config.name, max_tokens=config.max_tokens, max_body_bytes=config.max_body_bytes
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (IPv4 or IPv6).

    `serve` checks the port before loading the model, but another process can take it
    while the model loads: that failure, here, is the same one line as the check's."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise BackdoorlabError(f"{host}:{port}: cannot listen there ({exc.strerror})") from None
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


def run_server(
    app: Any, host: str, port: int, *, announce: Callable[[str], None] | None = None
) -> None:
    """Serve ``app`` on ``host:port`` until interrupted; ``announce(url)`` once the socket
    is bound."""
    import uvicorn

    sock = bind(host, port)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, timeout_keep_alive=30)
    )
    if announce is not None:
        announce(base_url(sock))
    server.run(sockets=[sock])


@contextlib.contextmanager
def serving_in_thread(app: Any, host: str = LOOPBACK) -> Iterator[str]:
    """Serve ``app`` on ``host`` (a free port) in a thread while the block runs; yields
    the base URL. For tests and benchmarks that put a server and its client in one
    process (a stand-in upstream, the guard proxy)."""
    import threading
    import time

    import uvicorn

    sock = bind(host, 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server in a thread did not start")
        time.sleep(0.02)
    try:
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
