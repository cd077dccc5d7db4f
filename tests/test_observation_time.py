"""An observation's ``observed_at`` is when the request that produced it was sent.

So an answer that was requested earlier but arrives later is older, and a tracker drops it as
stale instead of moving the order backwards. The client's clock is replaced by a counter, so
every request gets its own, strictly later, instant.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import threading
from collections.abc import Callable
from typing import Any

import httpx
from orderstatus_fakeshop import FakeshopSandbox

from orderstatus import AsyncClient, Client, MemoryStore, OrderState, RetryPolicy, Tracker

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def ticking() -> Callable[[], dt.datetime]:
    """A clock that moves one second every time it is read."""
    ticks = itertools.count()
    return lambda: EPOCH + dt.timedelta(seconds=next(ticks))


def _settings(sandbox: FakeshopSandbox) -> dict[str, Any]:
    return {"fakeshop": sandbox.settings("http://127.0.0.1/v1/")}


def _on_clock(client: Client | AsyncClient) -> None:
    client._ops.exchange.clock = ticking()  # the one clock the client reads


def _late_answer_is_stale(earlier: Any, later: Any) -> None:
    """The tracker keeps the later-sent observation though the earlier one arrived last."""
    assert earlier.state is OrderState.CREATED and later.state is OrderState.IN_PRODUCTION
    assert (earlier.observed_at, later.observed_at) == (EPOCH, EPOCH + dt.timedelta(seconds=1))
    with Tracker(MemoryStore()) as tracker:
        assert tracker.observe(later) is not None
        assert tracker.observe(earlier) is None  # stale: not an anomaly, no move backwards
        assert tracker.state("fakeshop", earlier.order_id) is OrderState.IN_PRODUCTION


def test_overlapping_fetches_answered_in_reverse_order_sync(sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    first_arrived, release_first = threading.Event(), threading.Event()
    answers: list[httpx.Response] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if not first_arrived.is_set():  # the first request is answered as the order was then
            answer = sandbox.handle(request)
            first_arrived.set()
            release_first.wait(5)
            return answer
        return sandbox.handle(request)

    with Client(_settings(sandbox), transport=httpx.MockTransport(handle)) as client:
        _on_clock(client)
        earlier: list[Any] = []
        thread = threading.Thread(target=lambda: earlier.append(client.fetch("fakeshop", order)))
        thread.start()
        assert first_arrived.wait(5)
        sandbox.set_status(order, "making")
        answers.append(client.fetch("fakeshop", order))
        release_first.set()
        thread.join(5)
    _late_answer_is_stale(earlier[0], answers[0])


def test_overlapping_fetches_answered_in_reverse_order_async(sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()

    async def run() -> tuple[Any, Any]:
        first_arrived, release_first = asyncio.Event(), asyncio.Event()

        async def handle(request: httpx.Request) -> httpx.Response:
            if not first_arrived.is_set():
                answer = sandbox.handle(request)
                first_arrived.set()
                await release_first.wait()
                return answer
            return sandbox.handle(request)

        async with AsyncClient(_settings(sandbox), transport=httpx.MockTransport(handle)) as client:
            _on_clock(client)
            first = asyncio.ensure_future(client.fetch("fakeshop", order))
            await first_arrived.wait()
            sandbox.set_status(order, "making")
            later = await client.fetch("fakeshop", order)
            release_first.set()
            return await first, later

    earlier, later = asyncio.run(run())
    _late_answer_is_stale(earlier, later)


def test_a_retried_fetch_is_observed_when_the_answered_attempt_was_sent(
    sandbox: FakeshopSandbox,
) -> None:
    order = sandbox.create_order()
    sandbox.faults.inject("status", status=503, times=2)
    with Client(_settings(sandbox), transport=sandbox.transport(), sleep=lambda _: None,
                retry=RetryPolicy(backoff=0, backoff_max=0)) as client:
        _on_clock(client)
        status = client.fetch("fakeshop", order)
    assert status.observed_at == EPOCH + dt.timedelta(seconds=2)  # the third attempt's


def test_webhooks_and_feeds_are_observed_when_their_request_was_sent(
    sandbox: FakeshopSandbox,
) -> None:
    first, second = sandbox.create_order(), sandbox.create_order()
    with Client(_settings(sandbox), transport=sandbox.transport()) as client:
        _on_clock(client)
        page = client.feed("fakeshop")
        notified = client.handle_webhook(
            "fakeshop", body=f'{{"order": "{second}"}}',
            headers={"content-type": "application/json"},
        )
    assert [s.order_id for s in page.statuses] == [first, second]
    assert {s.observed_at for s in page.statuses} == {EPOCH}
    assert notified.observed_at == EPOCH + dt.timedelta(seconds=1)
