"""`view --serve`: one page served on the loopback interface, and nothing else.

The page is self-contained, so serving it is only a convenience (a browser on the same
machine, a port forwarded over SSH). The server binds 127.0.0.1 — never a public
interface — answers ``GET /`` with the page and every other path with 404, and reads
nothing from disk after start. ``http.server`` from the standard library is enough for
one static response; a web framework would add nothing here.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"


def page_server(page: bytes, port: int = 0) -> ThreadingHTTPServer:
    """A server (not yet serving) answering ``GET /`` with ``page`` on 127.0.0.1:``port``
    (0: any free port; the bound one is ``server.server_address[1]``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            if self.path.split("?", 1)[0] not in ("/", "/index.html"):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # a request log per page load is noise on the console

    return ThreadingHTTPServer((HOST, port), Handler)
