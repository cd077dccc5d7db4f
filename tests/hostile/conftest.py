"""Hostile input against the core and every installed provider.

A :class:`Guard` is the only transport the clients here get: it answers through the provider's
sandbox (or with whatever a test wants the provider to say) and checks that every request
goes where a request for a harmless id goes, with the id landing, encoded, in the same place.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import HealthCheck, settings

from orderstatus import OrderStatusError, RetryPolicy
from orderstatus.testing.sandbox import Sandbox
from tests.conftest import Api
from tests.providers import LOCAL, SANDBOXED, new_sandbox

SAFE_ID = "SAFEID0123"
HOSTILE = settings(
    max_examples=60, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NO_RETRY = RetryPolicy(attempts=1)

Shape = tuple[Any, ...]
Answer = Callable[[httpx.Request], httpx.Response]
_MARK = "\x00id\x00"


def shape(url: httpx.URL) -> Shape:
    """Where a URL goes: scheme, host, port, decoded path segments and query pairs."""
    raw_path = url.raw_path.split(b"?")[0].decode("ascii")
    return (url.scheme, url.host, url.port, tuple(unquote(s) for s in raw_path.split("/")),
            tuple(url.params.multi_items()))


def _swap(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, tuple):
        return tuple(_swap(v, old, new) for v in value)
    return value


class Guard:
    """An in-process transport that checks every URL before answering."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.answer: Answer | None = None
        """Answers order requests instead of the sandbox (token requests still go to it)."""
        self.templates: set[Shape] = set()
        self.checking = True
        """Whether requests must look like fetches (off for feed and update requests)."""
        self.order_id = SAFE_ID
        self.seen: list[httpx.URL] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.seen.append(request.url)
        if self.templates and self.checking:
            allowed = {_swap(t, _MARK, self.order_id) for t in self.templates}
            assert shape(request.url) in allowed, (
                f"unexpected request {request.url} for order id {self.order_id!r}")
        if self.answer is not None and "oauth" not in request.url.path:
            return self.answer(request)
        return self.sandbox.handle(request)

    def learn(self, api: Api, provider: str) -> None:
        """Record where a fetch of a harmless id goes (token requests included)."""
        with contextlib.suppress(OrderStatusError):  # the sandbox does not know SAFE_ID
            api.fetch(provider, SAFE_ID)
        self.templates = {_swap(shape(u), SAFE_ID, _MARK) for u in self.seen}
        self.seen.clear()

    def expect(self, order_id: str = SAFE_ID) -> None:
        """Start afresh: the sandbox answers, and requests must be shaped like the harmless
        ones, for ``order_id``."""
        self.order_id = order_id
        self.answer = None
        self.checking = True
        self.seen.clear()


def outcome(call: Callable[[], Any]) -> Any:
    """The call's result or the library's own error; anything else fails the test."""
    try:
        result = call()
    except OrderStatusError as err:
        result = err
    if isinstance(result, OrderStatusError):
        assert str(result)
        assert "\n" not in str(result)
    return result


@pytest.fixture(params=SANDBOXED)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def guarded(provider: str, kind: str) -> Iterator[tuple[Api, Guard]]:
    """``(api, guard)``: a sync or async client whose only transport is a :class:`Guard`."""
    sandbox = new_sandbox(provider)
    guard = Guard(sandbox)
    api = Api(kind, {provider: sandbox.settings(LOCAL)}, transport=guard.transport(),
              retry=NO_RETRY)
    guard.learn(api, provider)
    yield api, guard
    api.close()
