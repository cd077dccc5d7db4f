"""Requests cut off by a client disconnect: never taken for whole ones, never acted on.

A notification whose body stops short (fewer bytes than its ``Content-Length``, a chunked body
without its final chunk) and whose client then goes away must not be fetched, stored or
answered: ``orderId=83432183`` cut to ``orderId=834`` is not order 834. Driven in-process with
every way of splitting and cutting a real notification, and over loopback against uvicorn with
a raw socket that sends part of a request and closes.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import socket
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderstatus import AsyncClient, default_registry
from orderstatus.asgi import ASGIApp, Message, Receive, Scope, Send, asgi_app
from orderstatus.testing.asgi import serve
from orderstatus.testing.sandbox import Sandbox
from orderstatus.tracking import Tracker
from orderstatus.webhooks import WebhookReceiver, webhook_app
from tests.providers import LOCAL, SANDBOXED, new_sandbox

from .conftest import HOSTILE, NO_RETRY

WEBHOOK_PROVIDERS = tuple(
    n for n in SANDBOXED if default_registry().provider(n).capabilities.webhook
)


@attrs.define
class Hooked:
    """A receiver for one provider, its sandbox, and one real notification about an order."""

    provider: str
    sandbox: Sandbox
    order_id: str
    body: bytes
    content_type: str
    target: str
    """The request target: ``/webhooks/{provider}`` and the provider's query, if any."""
    tracker: Tracker
    client: AsyncClient
    app: ASGIApp

    @classmethod
    def build(cls, provider: str) -> Hooked:
        sandbox = new_sandbox(provider)
        sandbox.subscribe(f"http://hooks.test/webhooks/{provider}")
        order_id = sandbox.create_order()
        found = sandbox.webhook_notification(order_id)
        assert found is not None
        body, content_type, suffix = found
        client = AsyncClient({provider: sandbox.settings(LOCAL)}, transport=sandbox.transport(),
                             retry=NO_RETRY)
        tracker = Tracker()
        app = webhook_app(WebhookReceiver(client, tracker))
        return cls(provider, sandbox, order_id, body, content_type,
                   f"/webhooks/{provider}{suffix}", tracker, client, app)

    @property
    def acted(self) -> bool:
        """Whether anything happened: a request to the provider, or a stored observation."""
        return bool(self.sandbox.requests) or bool(self.tracker.tracked())

    def head(self, framing: str) -> bytes:
        """The request line and headers, declaring the whole body (``Content-Length``) or
        chunks."""
        length = (b"transfer-encoding: chunked" if framing == "chunked"
                  else b"content-length: %d" % len(self.body))
        return b"\r\n".join([
            b"POST %s HTTP/1.1" % self.target.encode(), b"host: 127.0.0.1",
            b"content-type: " + self.content_type.encode(), length, b"connection: close",
            b"", b"",
        ])



@pytest.fixture(params=WEBHOOK_PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _scope(target: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    parts = urlsplit(target)
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": parts.path, "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(), "root_path": "", "headers": headers,
        "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000),
    }


async def _call(app: ASGIApp, scope: Scope, messages: list[Message]) -> list[Message]:
    """Run ``app`` on ``messages`` (then disconnects forever); return what it sent."""
    pending = iter(messages)
    sent: list[Message] = []

    async def receive() -> Message:
        return next(pending, {"type": "http.disconnect"})

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@st.composite
def cut_off(draw: st.DrawFn, body: bytes) -> tuple[list[bytes], bool]:
    """``(chunks, whole)``: ``body`` or a strict prefix of it, split into chunks anywhere."""
    whole = draw(st.booleans())
    end = len(body) if whole else draw(st.integers(0, len(body) - 1))
    cuts = sorted(draw(st.sets(st.integers(0, end), max_size=4)) | {0, end})
    return [body[a:b] for a, b in itertools.pairwise(cuts)] or [b""], whole


@HOSTILE
@given(data=st.data())
def test_in_process_only_a_whole_body_is_acted_on(provider: str, data: st.DataObject) -> None:
    hooked = Hooked.build(provider)
    chunks, whole = data.draw(cut_off(hooked.body))
    messages: list[Message] = [
        {"type": "http.request", "body": c, "more_body": True} for c in chunks
    ]
    if whole:
        messages[-1]["more_body"] = False
    scope = _scope(hooked.target, [(b"content-type", hooked.content_type.encode()),
                                   (b"content-length", b"%d" % len(hooked.body))])

    async def scenario() -> list[Message]:
        async with hooked.client:
            return await _call(hooked.app, scope, messages)

    sent = asyncio.run(scenario())
    if not whole:
        assert sent == []
        assert not hooked.acted
        return
    assert sent[0]["status"] == 200
    assert hooked.tracker.current(provider, hooked.order_id) is not None


# -- over loopback, against uvicorn --------------------------------------------------------------


class Watched:
    """Wraps an app to hand over, for each HTTP request it finished, the messages it sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.finished: queue.Queue[list[Message]] = queue.Queue()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sent: list[Message] = []

        async def spy(message: Message) -> None:
            sent.append(message)
            await send(message)

        try:
            await self.app(scope, receive, spy)
        finally:
            if scope["type"] == "http":
                self.finished.put(sent)


def _send_and_close(url: str, data: bytes) -> None:
    """Send ``data`` on a new connection to ``url``, then close it without reading."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(data)


def _exchange(url: str, data: bytes) -> bytes:
    """Send a whole request; return the raw answer (the server closes: ``connection: close``)."""
    parts = urlsplit(url)
    answer = bytearray()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(data)
        while chunk := sock.recv(65536):
            answer += chunk
    return bytes(answer)


def _chunked(body: bytes, *, final: bool) -> bytes:
    """``body`` as two chunks, with the final (empty) chunk or without it."""
    half = len(body) // 2
    framed = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:half], body[half:]) if p)
    return framed + (b"0\r\n\r\n" if final else b"")


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_over_loopback_a_request_cut_off_mid_body_is_dropped(provider: str, framing: str) -> None:
    hooked = Hooked.build(provider)  # its client's transport is in-process: nothing to close
    if framing == "content-length":
        sent, whole = hooked.body, hooked.body
    else:
        sent, whole = _chunked(hooked.body, final=False), _chunked(hooked.body, final=True)
    watched = Watched(hooked.app)
    with serve(watched) as url:
        # cut anywhere: before the body, inside it, one byte short, all chunks but the last
        for keep in (0, 1, len(sent) // 2, len(sent) - 1, *([len(sent)] * (sent != whole))):
            _send_and_close(url, hooked.head(framing) + sent[:keep])
            assert watched.finished.get(timeout=10) == [], "nothing is answered"
            assert not hooked.acted, f"a body cut at byte {keep} was acted on"
        answer = _exchange(url, hooked.head(framing) + whole)
        watched.finished.get(timeout=10)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert hooked.tracker.current(provider, hooked.order_id) is not None


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_sandbox_never_sees_a_cut_off_request(kind: str) -> None:
    """The sandboxes share the plumbing (``asgi_app``), with sync and async handlers."""
    seen: list[bytes] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(201, json={"id": "1"})

    async def ahandle(request: httpx.Request) -> httpx.Response:
        return handle(request)

    body = b'{"items": 2, "status": "new"}'
    head = (b"POST /_sandbox/orders HTTP/1.1\r\nhost: 127.0.0.1\r\n"
            b"content-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n" % len(body))
    watched = Watched(asgi_app(handle if kind == "sync" else ahandle))
    with serve(watched) as url:
        _send_and_close(url, head + body[:-1])
        assert watched.finished.get(timeout=10) == []
        assert seen == []
        assert _exchange(url, head + body).startswith(b"HTTP/1.1 201 ")
    assert seen == [body]


def test_a_partial_body_is_never_returned_as_the_whole() -> None:
    """``read_body`` itself, which every app here reads bodies with."""
    from orderstatus.asgi import ClientDisconnected, read_body

    messages = iter([{"type": "http.request", "body": b"orderId=834", "more_body": True},
                     {"type": "http.disconnect"}])

    async def receive() -> Any:
        return next(messages)

    with pytest.raises(ClientDisconnected):
        asyncio.run(read_body(receive, 1024))
