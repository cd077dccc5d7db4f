"""Fetching: statuses, items, payments, strict mode, fetch_many, feeds, webhooks."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import httpx
import pytest
from orderstatus_fakeshop import FakeshopSandbox

from orderstatus import (
    ActionReason,
    FeedNotSupportedError,
    FetchFailure,
    InvalidOrderIdError,
    InvalidWebhookError,
    OrderNotFoundError,
    OrderState,
    OrderStatus,
    PaymentState,
    UnknownProviderError,
    UnmappedStatusError,
)

from .conftest import Api


def test_fetch_maps_native_statuses_per_item(api: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order(items=2, payment="paid")
    sandbox.set_status(order, "sent", items=[0], tracking_url="https://track.example/1")
    status = api.fetch("fakeshop", order)
    assert status.provider == "fakeshop"
    assert status.order_id == order
    assert status.state is OrderState.CREATED  # the least advanced item decides
    assert status.native_status == "new"
    assert [i.state for i in status.items] == [OrderState.SHIPPED, OrderState.CREATED]
    assert status.payment is PaymentState.PAID
    assert status.native_payment == "paid"
    assert [t.url for t in status.tracking] == ["https://track.example/1"]
    assert status.raw["id"] == order


def test_action_required_carries_the_reason(api: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order(items=2)
    sandbox.set_status(order, "bad_address", items=[1])
    status = api.fetch("fakeshop", order)
    assert status.state is OrderState.ACTION_REQUIRED
    assert status.reason is ActionReason.ADDRESS
    assert status.native_status == "bad_address"


def test_unmapped_status_is_unknown_with_raw_value_or_raises_when_strict(
    local: Api, sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order()
    sandbox.set_status(order, "Exploded", any=True)
    status = local.fetch("fakeshop", order)
    assert status.state is OrderState.UNKNOWN
    assert status.native_status == "Exploded"
    with pytest.raises(UnmappedStatusError, match="'Exploded'") as caught:
        local.fetch("fakeshop", order, strict=True)
    assert caught.value.native_status == "Exploded"


def test_unknown_order_raises_not_found(api: Api) -> None:
    with pytest.raises(OrderNotFoundError) as caught:
        api.fetch("fakeshop", "F-404")
    assert caught.value.status_code == 404
    assert caught.value.order_id == "F-404"
    assert str(caught.value).startswith("fakeshop order 'F-404': ")


@pytest.mark.parametrize("bad", ["", "a/b", "a?b", "a#b", "..", "a b", "a\nb", "x" * 129, "%2e"])
def test_malformed_ids_are_refused_before_any_request(
    local: Api, sandbox: FakeshopSandbox, bad: str
) -> None:
    with pytest.raises(InvalidOrderIdError):
        local.fetch("fakeshop", bad)
    assert sandbox.requests == []


def test_unknown_provider(local: Api) -> None:
    with pytest.raises(UnknownProviderError, match="'nope' is not configured"):
        local.fetch("nope", "1")


def test_fetch_many_yields_every_order_and_never_raises_for_one(
    api: Api, sandbox: FakeshopSandbox
) -> None:
    orders = [sandbox.create_order() for _ in range(12)]
    refs = [("fakeshop", o) for o in orders] + [("fakeshop", "F-missing"), ("fakeshop", "a/b"),
                                                 ("nope", "1"), (["unhashable"], "2")]
    results = api.fetch_many(refs, concurrency=5)
    assert len(results) == len(refs)
    fetched = {r.order_id for r in results if isinstance(r, OrderStatus)}
    assert fetched == set(orders)
    failures = {r.order_id: type(r.error) for r in results if isinstance(r, FetchFailure)}
    assert failures == {"F-missing": OrderNotFoundError, "a/b": InvalidOrderIdError,
                        "1": UnknownProviderError, "2": UnknownProviderError}


def test_fetch_many_streams_from_an_endless_iterable(local: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    endless = (("fakeshop", order) for _ in itertools.count())
    if local.kind == "sync":
        first = list(itertools.islice(local.client.fetch_many(endless, concurrency=3), 7))
    else:
        async def take() -> list[object]:
            taken = []
            async for result in local.client.fetch_many(endless, concurrency=3):
                taken.append(result)
                if len(taken) == 7:
                    break
            return taken

        first = local.loop.run_until_complete(take())
    assert len(first) == 7
    assert len(sandbox.requests) < 7 + 2 * 3


def test_fetch_many_respects_the_provider_limit(kind: str, sandbox: FakeshopSandbox) -> None:
    import threading
    import time

    in_flight, peak = 0, 0
    lock = threading.Lock()
    original = sandbox.route

    def slow_route(request):  # type: ignore[no-untyped-def]
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.005)
        try:
            return original(request)
        finally:
            with lock:
                in_flight -= 1

    orders = [sandbox.create_order() for _ in range(20)]
    sandbox.route = slow_route  # type: ignore[method-assign]
    sandbox.lock = threading.RLock()  # let requests overlap in the fake
    from orderstatus.testing.asgi import serve

    with serve(sandbox.asgi()) as url:
        api = Api(kind, {"fakeshop": sandbox.settings(url + "v1/")}, limits={"fakeshop": 3})
        results = api.fetch_many([("fakeshop", o) for o in orders], concurrency=16)
        api.close()
    assert all(isinstance(r, OrderStatus) for r in results)
    assert 1 <= peak <= 3


class _InFlight(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An in-process transport (no connection pool to limit anything) counting overlaps."""

    def __init__(self, inner: httpx.MockTransport) -> None:
        self.inner, self.now, self.peak = inner, 0, 0
        self.lock = threading.Lock()

    def _move(self, step: int) -> None:
        with self.lock:
            self.now += step
            self.peak = max(self.peak, self.now)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._move(1)
        try:
            time.sleep(0.01)
            return self.inner.handle_request(request)
        finally:
            self._move(-1)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._move(1)
        try:
            await asyncio.sleep(0.01)
            return await self.inner.handle_async_request(request)
        finally:
            self._move(-1)


@pytest.mark.parametrize(("limit", "concurrency"), [(3, 16), (50, 4)])
def test_fetch_many_gates_in_flight_requests_itself(
    kind: str, sandbox: FakeshopSandbox, limit: int, concurrency: int
) -> None:
    orders = [sandbox.create_order() for _ in range(24)]
    transport = _InFlight(sandbox.transport())
    api = Api(kind, {"fakeshop": sandbox.settings("http://127.0.0.1/v1/")},
              transport=transport, limits={"fakeshop": limit})
    results = api.fetch_many([("fakeshop", o) for o in orders], concurrency=concurrency)
    api.close()
    assert {r.order_id for r in results if isinstance(r, OrderStatus)} == set(orders)
    assert transport.peak == min(limit, concurrency)


def test_webhook_takes_the_id_and_fetches_the_status(api: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    sandbox.set_status(order, "making")
    status = api.handle_webhook(
        "fakeshop", body=b'{"order": "%s", "status": "arrived"}' % order.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status.state is OrderState.IN_PRODUCTION  # the body's claim is never trusted
    assert sandbox.requests[-1] == ("GET", f"/v1/orders/{order}")


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"order": "1"}', "text/plain", "application/json"),
        (b"not json", "application/json", "no order id"),
        (b'{"order": 5}', "application/json", "not a string"),
        (b'{"order": "../admin"}', "application/json", "unusable order id"),
        (b'{"order": ""}', "application/json", "unusable order id"),
    ],
)
def test_malformed_webhooks_are_refused_without_a_request(
    local: Api, sandbox: FakeshopSandbox, body: bytes, content_type: str, message: str
) -> None:
    with pytest.raises(InvalidWebhookError, match=message):
        local.handle_webhook("fakeshop", body=body, headers={"content-type": content_type})
    assert sandbox.requests == []


def test_feed_reads_changes_from_a_cursor(api: Api, sandbox: FakeshopSandbox) -> None:
    first, second = sandbox.create_order(), sandbox.create_order()
    page = api.feed("fakeshop")
    assert {s.order_id for s in page.statuses} == {first, second}
    sandbox.set_status(second, "held")
    page = api.feed("fakeshop", since=page.cursor)
    assert [(s.order_id, s.state) for s in page.statuses] == [(second, OrderState.ON_HOLD)]


def test_feed_of_a_provider_without_one_is_refused(sandbox: FakeshopSandbox) -> None:
    from orderstatus_fakeshop import FakeshopProvider

    from orderstatus import Capabilities, Client

    original = FakeshopProvider.capabilities
    FakeshopProvider.capabilities = Capabilities(update=True, webhook=True, feed=False)
    try:
        with Client({"fakeshop": sandbox.settings("http://127.0.0.1/v1/")},
                    transport=sandbox.transport()) as client, \
                pytest.raises(FeedNotSupportedError, match="no change feed"):
            client.feed("fakeshop")
    finally:
        FakeshopProvider.capabilities = original
    assert sandbox.requests == []
