"""A framework-free webhook receiver, and an ASGI app that serves it.

Providers' notifications are never trusted: a notification only says *which* order to look
at. The receiver takes the order id from it, fetches the order's real status, hands it to the
tracker and answers 200 only once the observation is stored. If the fetch fails for a reason
that may pass, it answers 503 and the provider's own retries make delivery durable.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any, Generic, TypeVar

import attrs
import httpx

from .asgi import (
    ASGIApp,
    ClientDisconnected,
    Receive,
    Scope,
    Send,
    not_http,
    read_body,
    route_path,
    send_answer,
)
from .client import AsyncClient
from .errors import (
    InvalidWebhookError,
    OrderNotFoundError,
    OrderStatusError,
    WebhookContentTypeError,
)
from .tracking import HistoryEntry, Tracker

__all__ = ["MAX_BODY", "WebhookReceiver", "WebhookResponse", "webhook_app"]

log = logging.getLogger("orderstatus.webhooks")

MAX_BODY = 64 * 1024
"""Default cap on a notification's body, in bytes (providers send a few hundred)."""

T = TypeVar("T")
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode
_JSON = ("content-type", "application/json")


@attrs.frozen
class WebhookResponse:
    """The answer to give the provider: an HTTP status and a small JSON body."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def content(self) -> bytes:
        """The body, encoded as JSON."""
        return _ENCODE(self.body).encode()

    async def send(self, send: Send) -> None:
        """Send this answer as an ASGI response, through ``send``."""
        await send_answer(send, self.status, self.content, (
            *((k, v) for k, v in self.headers.items() if k.lower() != "content-type"),
            _JSON,
        ))

    def to_httpx(self) -> httpx.Response:
        """This answer as an :class:`httpx.Response` (handy in tests and adapters)."""
        return httpx.Response(
            self.status, content=self.content,
            headers={**self.headers, "content-type": "application/json"},
        )


def _error(status: int, message: str, **headers: str) -> WebhookResponse:
    return WebhookResponse(status, {"error": message}, headers)


class _Flights(Generic[T]):
    """Single flight per key, never stale: callers arriving while a run for their key has
    not started yet join it; callers arriving once it has started share the next run, which
    starts when the current one ends. So each caller's result comes from work begun after
    it arrived, and a burst of N callers costs at most two runs."""

    def __init__(self) -> None:
        self._queued: dict[Hashable, asyncio.Task[T]] = {}
        self._running: dict[Hashable, asyncio.Task[T]] = {}

    def join(self, key: Hashable, work: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        task = self._queued.get(key)
        if task is None:
            task = asyncio.ensure_future(self._run(key, self._running.get(key), work))
            self._queued[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return task

    async def _run(
        self, key: Hashable, before: asyncio.Task[T] | None, work: Callable[[], Awaitable[T]]
    ) -> T:
        if before is not None:
            await asyncio.wait([before])
        me = self._queued.pop(key)
        self._running[key] = me
        return await work()

    def _forget(self, key: Hashable, task: asyncio.Task[T]) -> None:
        for flights in (self._queued, self._running):
            if flights.get(key) is task:
                del flights[key]
        if not task.cancelled():
            task.exception()  # retrieved: every waiter may have gone away

    def __len__(self) -> int:
        return len(self._queued) + len(self._running)


class WebhookReceiver:
    """Receives provider notifications in inline mode: parse, fetch, observe, answer.

    Answers, in the order they are checked:

    - 404: no configured provider of that name takes webhooks;
    - 405: the method is not ``POST``;
    - 413: the body is over ``max_body`` bytes;
    - 415 / 400: the provider's parser refused the content type / the notification;
    - 200: the order's fresh status is stored (whether or not it changed anything), or the
      provider does not know the order (a forged or stale id: nothing is stored);
    - 503: the fetch failed for a reason that may pass (the provider will retry);
    - 500: the fetch failed for a reason that will not pass by itself (bad credentials, an
      unreadable answer) or the store failed; logged as an error.

    Notifications for one order that arrive while its fetch is in flight share one fetch.

    Args:
        client: an :class:`AsyncClient` configured for the providers that send webhooks.
        tracker: where observations go.
        max_body: the largest notification body accepted, in bytes.
    """

    def __init__(self, client: AsyncClient, tracker: Tracker, *, max_body: int = MAX_BODY) -> None:
        self.client = client
        self.tracker = tracker
        self.max_body = max_body
        self._flights: _Flights[HistoryEntry] = _Flights()

    def _refuse(self, provider: str, method: str, size: int) -> WebhookResponse | None:
        """The answer for a request refused before parsing, or ``None``."""
        if provider not in self.client.providers or not (
            self.client.provider(provider).capabilities.webhook
        ):
            return _error(404, f"no provider {provider!r} takes webhooks here")
        if method.upper() != "POST":
            return _error(405, "webhooks must be posted", allow="POST")
        if size > self.max_body:
            return _error(413, f"body over {self.max_body} bytes")
        return None

    async def receive(
        self, provider: str, *, method: str = "POST", body: bytes | str = b"",
        headers: Mapping[str, str] | None = None, query: Mapping[str, str] | str | None = None,
    ) -> WebhookResponse:
        """Handle one notification and return the answer for the provider."""
        raw = body.encode() if isinstance(body, str) else bytes(body)
        refused = self._refuse(provider, method, len(raw))
        if refused is not None:
            return refused
        try:
            order_id = self.client.webhook_order_id(provider, body=raw, headers=headers,
                                                    query=query)
        except WebhookContentTypeError as err:
            return _error(415, err.message)
        except InvalidWebhookError as err:
            return _error(400, err.message)
        flight = self._flights.join(
            (provider, order_id), lambda: self._fetch_and_record(provider, order_id)
        )
        try:
            entry = await asyncio.shield(flight)
        except OrderNotFoundError:
            log.info("%s webhook for unknown order %r ignored", provider, order_id)
            return WebhookResponse(200, {"result": "ignored", "order_id": order_id})
        except OrderStatusError as err:
            if err.retryable:
                log.warning("%s webhook for order %r: fetch failed, asking for a retry: %s",
                            provider, order_id, err)
                return _error(503, f"fetch failed, retry later: {err.message}")
            log.error("%s webhook for order %r: fetch failed: %s", provider, order_id, err)
            return _error(500, f"fetch failed: {err.message}")
        except Exception:
            log.exception("%s webhook for order %r could not be recorded", provider, order_id)
            return _error(500, "internal error")
        status = entry.status
        return WebhookResponse(200, {
            "result": entry.outcome.value, "order_id": order_id, "state": status.state.value,
        })

    async def _fetch_and_record(self, provider: str, order_id: str) -> HistoryEntry:
        status = await self.client.fetch(provider, order_id)
        return await self.tracker.arecord(status)

    def __repr__(self) -> str:
        return f"<WebhookReceiver providers={list(self.client.providers)}>"


def webhook_app(
    receiver: WebhookReceiver, *, prefix: str = "/webhooks/", health: str | None = "/healthz"
) -> ASGIApp:
    """An ASGI 3 app serving ``POST {prefix}{provider}`` with ``receiver``, and a health check.

    Paths are matched below the app's mount point (``root_path``), so mounted at
    ``/webhooks`` in Starlette or FastAPI, build it with ``prefix="/"``. ``GET`` (or
    ``HEAD``) ``health`` answers 200 ``{"status": "ok"}`` while the app serves, without
    touching the store or any provider; ``health=None`` turns it off. Any other path answers
    404. A request whose client disconnects before its body is complete is dropped without
    a fetch or an answer. Serve it with any ASGI server (``uvicorn module:app``).
    """
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    health = None if health is None else "/" + health.strip("/")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if await not_http(scope, receive, send):
            return
        path = route_path(scope)
        if path == health:
            await _health(scope["method"]).send(send)
            return
        name = path[len(prefix):].strip("/") if path.startswith(prefix) else ""
        answer: WebhookResponse | None
        if not name or "/" in name:
            answer = _error(404, "not found")
        else:
            answer = receiver._refuse(name, scope["method"], 0)
        if answer is None:
            try:
                body = await read_body(receive, receiver.max_body)
            except ClientDisconnected:
                log.info("%s webhook cut off by a client disconnect: ignored", name)
                return
            if body is None:
                answer = receiver._refuse(name, "POST", receiver.max_body + 1)
            else:
                # header bytes from the wire need not be ascii: kept as bytes, read as latin-1
                headers = httpx.Headers(scope["headers"], encoding="latin-1")
                answer = await receiver.receive(
                    name, method=scope["method"], body=body, headers=headers,
                    query=scope.get("query_string", b"").decode("latin-1"),
                )
        assert answer is not None
        await answer.send(send)

    return app


def _health(method: str) -> WebhookResponse:
    """The health check's answer: the app is up and serving (nothing else is checked)."""
    if method.upper() not in ("GET", "HEAD"):
        return _error(405, "health checks are read with GET", allow="GET, HEAD")
    return WebhookResponse(200, {"status": "ok"}, {"cache-control": "no-store"})
