"""Fixtures: the Gooten sandbox, reached in process and over loopback HTTP, sync and async."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import attrs
import httpx
import pytest
from orderstatus_gooten import GootenSandbox

from orderstatus import ActionReason, AsyncClient, Client, OrderState, RetryPolicy
from orderstatus.testing.asgi import asgi_app, serve

_S, _R = OrderState, ActionReason

ISSUE_TABLE: dict[str, tuple[OrderState, ActionReason | None]] = {
    "New": (_S.CREATED, None), "Pending": (_S.CREATED, None),
    "ReadyForAccounting": (_S.CREATED, None),
    "PaymentProcessing": (_S.ACTION_REQUIRED, _R.PAYMENT),
    "PrePayment": (_S.CREATED, None), "ReadyForImageDl": (_S.CREATED, None),
    "Hold": (_S.ON_HOLD, None),
    "AddressIssue": (_S.ACTION_REQUIRED, _R.ADDRESS),
    "ImageIssue": (_S.ACTION_REQUIRED, _R.ARTWORK),
    "HoldByCIImageIssue": (_S.ACTION_REQUIRED, _R.ARTWORK),
    "AccountingIssue": (_S.ACTION_REQUIRED, _R.PAYMENT),
    "PaymentIssue": (_S.ACTION_REQUIRED, _R.PAYMENT),
    "NeedsManualApproval": (_S.ACTION_REQUIRED, _R.APPROVAL),
    "NeedsPersonalization": (_S.ACTION_REQUIRED, _R.PERSONALIZATION),
    "NeedsCustomization": (_S.ACTION_REQUIRED, _R.PERSONALIZATION),
    "InProduction": (_S.IN_PRODUCTION, None), "ManuallyInProduction": (_S.IN_PRODUCTION, None),
    "Printing": (_S.IN_PRODUCTION, None),
    "OutForDelivery": (_S.IN_PRODUCTION, None), "Shipped": (_S.SHIPPED, None),
    "Delivered": (_S.DELIVERED, None),
    "Cancelled": (_S.CANCELLED, None), "Canceled": (_S.CANCELLED, None),
    "CanceledRefunded": (_S.CANCELLED, None), "BilledRefunded": (_S.CANCELLED, None),
    "Test": (_S.TEST, None),
}
"""Issue 4's mapping as issue 10 corrected it from Gooten's own article on what each status
means, typed in independently of the plugin's table."""

ISSUE_TARGETS = {_S.CANCELLED: "Cancelled", _S.CREATED: "New", _S.TEST: "Test", _S.ON_HOLD: "Hold"}


@pytest.fixture(scope="session")
def issue_table() -> dict[str, tuple[OrderState, ActionReason | None]]:
    return ISSUE_TABLE


@pytest.fixture(scope="session")
def issue_targets() -> dict[OrderState, str]:
    return ISSUE_TARGETS


class _Router:
    """Sends the shared loopback server's requests to the current test's sandbox."""

    def __init__(self) -> None:
        self.sandbox: GootenSandbox | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert self.sandbox is not None, "no sandbox is being served"
        return self.sandbox.handle(request)


@pytest.fixture(scope="session")
def loopback() -> Iterator[tuple[_Router, str]]:
    router = _Router()
    with serve(asgi_app(router.handle)) as url:
        yield router, url


@attrs.define
class Receiver:
    """A webhook endpoint on loopback that records every call and answers ``status``."""

    url: str
    calls: list[httpx.Request] = attrs.field(factory=list)
    status: int = 200
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.calls.append(request)
        return httpx.Response(self.status, text="ok")


@pytest.fixture(scope="session")
def _receiver_server() -> Iterator[Receiver]:
    receiver = Receiver("")
    with serve(asgi_app(receiver.handle)) as url:
        receiver.url = url
        yield receiver


@pytest.fixture
def receiver(_receiver_server: Receiver) -> Receiver:
    _receiver_server.calls.clear()
    _receiver_server.status = 200
    return _receiver_server


@pytest.fixture
def sandbox() -> GootenSandbox:
    return GootenSandbox()


FAST = RetryPolicy(attempts=4, total=300.0)


@attrs.define
class Runner:
    """Calls one client method with a fresh client of one flavour (sync or async).

    Sleeps are recorded in ``sleeps``, never slept.
    """

    sandbox: GootenSandbox
    base_url: str
    inprocess: bool
    flavour: str
    sleeps: list[float] = attrs.field(factory=list)

    @property
    def id(self) -> str:
        return f"{'inprocess' if self.inprocess else 'http'}-{self.flavour}"

    def settings(self, **changes: Any) -> dict[str, Any]:
        return {**self.sandbox.settings(self.base_url), **changes}

    def call(
        self, method: str, *args: Any, settings: dict[str, Any] | None = None,
        transport: httpx.MockTransport | None = None, retry: RetryPolicy = FAST,
        network: bool = False, **kwargs: Any,
    ) -> Any:
        """``network=True`` sends over the network even for an in-process runner."""
        options: dict[str, Any] = {"retry": retry}
        if transport is not None or (self.inprocess and not network):
            options["transport"] = transport or self.sandbox.transport()
        config = {"gooten": settings or self.settings()}
        if self.flavour == "sync":
            with Client(config, sleep=self.sleeps.append, **options) as client:
                result = getattr(client, method)(*args, **kwargs)
                return list(result) if isinstance(result, Iterator) else result

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        async def run() -> Any:
            client = AsyncClient(config, sleep=sleep, **options)
            try:
                result = getattr(client, method)(*args, **kwargs)
                if isinstance(result, AsyncIterator):
                    return [item async for item in result]
                return await result if inspect.isawaitable(result) else result
            finally:
                await client.aclose()

        return asyncio.run(run())

    def fetch(self, order_id: str, **kwargs: Any) -> Any:
        return self.call("fetch", "gooten", order_id, **kwargs)

    def update(self, order_id: str, target: Any, **kwargs: Any) -> Any:
        return self.call("update", "gooten", order_id, target, **kwargs)


@pytest.fixture(params=["inprocess-sync", "inprocess-async", "http-sync", "http-async"])
def gooten(
    request: pytest.FixtureRequest, sandbox: GootenSandbox, loopback: tuple[_Router, str]
) -> Iterator[Runner]:
    """The Gooten plugin against ``sandbox``, once per transport and flavour."""
    where, flavour = request.param.split("-")
    router, url = loopback
    router.sandbox = sandbox
    yield Runner(sandbox, "http://127.0.0.1/" if where == "inprocess" else url,
                 where == "inprocess", flavour)
    router.sandbox = None


@pytest.fixture(params=["sync", "async"])
def inprocess(request: pytest.FixtureRequest, sandbox: GootenSandbox) -> Runner:
    """The plugin against ``sandbox`` in process only (for canned answers and big sweeps)."""
    return Runner(sandbox, "http://127.0.0.1/", True, request.param)


@pytest.fixture
def canned() -> Callable[..., httpx.MockTransport]:
    """A transport answering every request with one fixed body, recording the requests."""

    def make(body: Any, status: int = 200, *, seen: list[httpx.Request] | None = None,
             headers: dict[str, str] | None = None) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            if seen is not None:
                seen.append(request)
            if isinstance(body, bytes):
                return httpx.Response(status, content=body, headers=headers)
            return httpx.Response(status, json=body, headers=headers)

        return httpx.MockTransport(handler)

    return make
