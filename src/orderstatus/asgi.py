"""Small ASGI plumbing shared by the webhook app and the sandboxes (no framework needed), and
:func:`serve`, which runs an app on loopback for the commands, the demo and tests."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

import httpx

from .errors import ConfigurationError

__all__ = [
    "FORWARDED_PREFIX",
    "ASGIApp",
    "Abort",
    "ClientDisconnected",
    "Handler",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "asgi_app",
    "lifespan",
    "listen",
    "mount",
    "not_http",
    "read_body",
    "respond",
    "route_path",
    "send_answer",
    "serve",
    "to_request",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Handler = Callable[[httpx.Request], "httpx.Response | Awaitable[httpx.Response]"]

MAX_BODY = 1024 * 1024


class Abort(Exception):
    """Raised by a handler to drop the connection without an answer (after ``delay`` s)."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__("connection aborted")
        self.delay = delay


class ClientDisconnected(Exception):
    """The client went away before its request body was complete: nothing may act on it."""


async def lifespan(receive: Receive, send: Send) -> None:
    """Answer the lifespan protocol: nothing to start, nothing to stop."""
    while True:
        event = (await receive())["type"]
        if event == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif event == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def not_http(scope: Scope, receive: Receive, send: Send) -> bool:
    """Answer a lifespan scope, ignore other non-HTTP ones; ``True`` unless ``scope`` is HTTP."""
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
    return bool(scope["type"] != "http")


async def read_body(receive: Receive, max_body: int) -> bytes | None:
    """Read the whole request body; ``None`` as soon as it grows past ``max_body`` bytes.

    Raises:
        ClientDisconnected: the client disconnected before the body's last part (short of
            its ``Content-Length``, or a chunked body without its final chunk); what did
            arrive is never taken for the whole body.
    """
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            raise ClientDisconnected
        body += message.get("body", b"")
        if len(body) > max_body:
            return None
        if not message.get("more_body"):
            return bytes(body)


def route_path(scope: Scope) -> str:
    """The request path below the app's mount point (``root_path``), as routers see it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    return path or "/"


def to_request(scope: Scope, body: bytes) -> httpx.Request:
    """Build the :class:`httpx.Request` an HTTP scope and its body describe."""
    host, port = scope.get("server") or ("127.0.0.1", 80)
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    url = httpx.URL(
        scheme=scope.get("scheme", "http"), host=host, port=port,
        path=scope.get("raw_path", scope["path"].encode()).decode("latin-1").split("?")[0],
        query=scope.get("query_string", b""),
    )
    return httpx.Request(scope["method"], url, headers=headers, content=body)


async def respond(send: Send, response: httpx.Response) -> None:
    """Send ``response`` as the ASGI answer."""
    await send_answer(send, response.status_code, response.read(),
                      response.headers.multi_items())


_FRAMING = frozenset({"content-length", "transfer-encoding"})


async def send_answer(send: Send, status: int, body: bytes,
                      headers: Iterable[tuple[str, str]] = ()) -> None:
    """Send an answer of ``status`` with ``body`` and ``headers`` as the two ASGI messages
    (the length is set here, from the body)."""
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers
           if k.lower() not in _FRAMING]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def asgi_app(handler: Handler, *, max_body: int = MAX_BODY) -> ASGIApp:
    """Wrap ``handler`` (sync: run in a thread; or async) as an ASGI 3 app.

    Bodies over ``max_body`` bytes are answered 413 without reading the rest; a request whose
    client disconnects before its body is complete never reaches ``handler``.
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if await not_http(scope, receive, send):
            return
        try:
            body = await read_body(receive, max_body)
        except ClientDisconnected:
            return  # a cut-off request: nothing to act on, and nobody to answer
        if body is None:
            await respond(send, httpx.Response(413, json={"error": "body too large"}))
            return
        request = to_request(scope, body)
        try:
            if inspect.iscoroutinefunction(handler):
                response = await handler(request)
            else:
                response = await asyncio.to_thread(handler, request)
                if inspect.isawaitable(response):
                    response = await response
        except Abort as abort:
            if abort.delay:
                await asyncio.sleep(abort.delay)
            # An error before any answer makes the server answer 500; an answer started but
            # never finished makes it drop the connection, which is what Abort promises.
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-length", b"1")]})
            raise
        await respond(send, response)

    return app


FORWARDED_PREFIX = "x-forwarded-prefix"
"""The header :func:`mount` names the stripped prefix in."""


def mount(apps: Mapping[str, ASGIApp]) -> ASGIApp:
    """One app serving each of ``apps`` under ``/{name}/``.

    It works as a reverse proxy mounting apps at paths does (Traefik's ``StripPrefix``): the
    app sees the path below its prefix, as if it were served alone, and the prefix in an
    ``X-Forwarded-Prefix`` header, for links it writes. Any other path is answered ``404``
    with the paths served.
    """
    prefixes = {f"/{name}/": app for name, app in apps.items()}
    for prefix in prefixes:
        if prefix.count("/") != 2:
            raise ValueError(f"cannot mount an app at {prefix!r}: one path segment only")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if await not_http(scope, receive, send):
            return
        path: str = scope["path"]
        prefix = "/" + path.split("/", 2)[1] + "/" if path.count("/") >= 2 else None
        inner = prefixes.get(prefix) if prefix is not None else None
        if prefix is None or inner is None:
            await respond(send, httpx.Response(
                404, json={"error": f"nothing is served at {path}", "paths": sorted(prefixes)}
            ))
            return
        cut = len(prefix) - 1
        raw: bytes = scope.get("raw_path") or path.encode()
        if not raw.startswith(prefix.encode()):  # a prefix sent percent-encoded
            raw = path.encode()
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != FORWARDED_PREFIX.encode()]
        headers.append((FORWARDED_PREFIX.encode(), prefix[:-1].encode()))
        await inner({**scope, "path": path[cut:], "raw_path": raw[cut:], "headers": headers},
                    receive, send)

    return app


class _DropAborts(logging.Filter):
    """Keep uvicorn from logging a deliberate :class:`Abort` as an application error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], Abort))


_DROP_ABORTS = _DropAborts()


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` (``0``: a free port) and listening, for
    :func:`serve` or uvicorn; :class:`ConfigurationError` saying why when it cannot be.

    Its connections send without Nagle's delay (``TCP_NODELAY``, which they inherit; asyncio
    sets it only on sockets made with ``IPPROTO_TCP``, and this one is not): uvicorn writes
    an answer's head and body apart, and a keep-alive client would otherwise get each body
    only once it acknowledged the head, 40 ms later on Linux.
    """
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.create_server((host, port), family=family)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    except (OSError, OverflowError) as err:
        detail = getattr(err, "strerror", None) or err
        raise ConfigurationError(f"cannot listen on {host}:{port}: {detail}") from None


def base_url(sock: socket.socket) -> str:
    """``http://HOST:PORT/`` of a listening socket (an IPv6 host in brackets)."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


@contextlib.contextmanager
def serve(
    app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, sock: socket.socket | None = None
) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yield its base URL (``http://…/``).

    ``sock``, a socket from :func:`listen`, is served instead of binding ``host``:``port``;
    either way the socket is closed afterwards. A port that cannot be used raises
    :class:`ConfigurationError` saying why. Requires the ``server`` extra (uvicorn).
    """
    try:
        import uvicorn
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ConfigurationError(
            "serving needs uvicorn: pip install 'orderstatus[server]'"
        ) from err
    errors = logging.getLogger("uvicorn.error")
    if _DROP_ABORTS not in errors.filters:
        errors.addFilter(_DROP_ABORTS)
    sock = sock if sock is not None else listen(host, port)
    url = base_url(sock)
    config = uvicorn.Config(app, log_level="warning", lifespan="off",
                            timeout_graceful_shutdown=1, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name=f"orderstatus-serve-{url}", daemon=True)
    try:
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"could not serve on {url}")
            time.sleep(0.01)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
