"""Serve a function of :class:`httpx.Request` as an ASGI app, and ASGI apps on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import httpx

__all__ = ["ASGIApp", "Abort", "asgi_app", "serve"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
ASGISend = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, ASGISend], Awaitable[None]]
Handler = Callable[[httpx.Request], "httpx.Response | Awaitable[httpx.Response]"]

MAX_BODY = 1024 * 1024


class Abort(Exception):
    """Raised by a handler to drop the connection without an answer (after ``delay`` s)."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__("connection aborted")
        self.delay = delay


def asgi_app(handler: Handler, *, max_body: int = MAX_BODY) -> ASGIApp:
    """Wrap ``handler`` (sync: run in a thread; or async) as an ASGI 3 app.

    Bodies over ``max_body`` bytes are answered 413 without reading the rest.
    """

    async def app(scope: Scope, receive: Receive, send: ASGISend) -> None:
        if scope["type"] == "lifespan":
            while True:
                event = (await receive())["type"]
                if event == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif event == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > max_body:
                await _respond(send, httpx.Response(413, json={"error": "body too large"}))
                return
            if not message.get("more_body"):
                break
        request = _to_request(scope, bytes(body))
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
            raise
        await _respond(send, response)

    return app


def _to_request(scope: Scope, body: bytes) -> httpx.Request:
    host, port = scope.get("server") or ("127.0.0.1", 80)
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    url = httpx.URL(
        scheme=scope.get("scheme", "http"), host=host, port=port,
        path=scope.get("raw_path", scope["path"].encode()).decode("latin-1").split("?")[0],
        query=scope.get("query_string", b""),
    )
    return httpx.Request(scope["method"], url, headers=headers, content=body)


async def _respond(send: ASGISend, response: httpx.Response) -> None:
    body = response.read()
    headers = [
        (k.encode("latin-1"), v.encode("latin-1"))
        for k, v in response.headers.multi_items()
        if k.lower() not in ("content-length", "transfer-encoding")
    ]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _DropAborts(logging.Filter):
    """Keep uvicorn from logging a deliberate :class:`Abort` as an application error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], Abort))


_DROP_ABORTS = _DropAborts()


def _quiet_aborts() -> None:
    logger = logging.getLogger("uvicorn.error")
    if _DROP_ABORTS not in logger.filters:
        logger.addFilter(_DROP_ABORTS)


@contextlib.contextmanager
def serve(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread; yield its base URL (``http://…/``).

    Requires the ``server`` extra (uvicorn).
    """
    try:
        import uvicorn
    except ImportError as err:  # pragma: no cover - depends on the install
        from orderstatus.errors import ConfigurationError

        raise ConfigurationError(
            "serving needs uvicorn: pip install 'orderstatus[server]'"
        ) from err
    _quiet_aborts()
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off",
        timeout_graceful_shutdown=1, access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"orderstatus-serve-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"could not serve on {host}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}/"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
