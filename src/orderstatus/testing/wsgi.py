"""Serve WSGI apps (Django's, Flask's, your own) on loopback in tests, with the standard
library's server, as :func:`orderstatus.testing.asgi.serve` serves ASGI apps."""

from __future__ import annotations

import contextlib
import socketserver
import threading
import wsgiref.simple_server
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["WSGIApp", "running", "serve"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Server(socketserver.ThreadingMixIn, wsgiref.simple_server.WSGIServer):
    """One thread per request, so a request may wait on another one (a webhook on a fetch)."""

    daemon_threads = True


class _Quiet(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def running(server: socketserver.BaseServer) -> Iterator[None]:
    """Run any ``socketserver`` server in a background thread until the block ends."""
    thread = threading.Thread(target=server.serve_forever, name="orderstatus-wsgi", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def serve(app: WSGIApp, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` in a background thread; yield its base URL (``http://…/``)."""
    server = wsgiref.simple_server.make_server(host, port, app, server_class=_Server,
                                               handler_class=_Quiet)
    with running(server):
        yield f"http://{host}:{server.server_port}/"
