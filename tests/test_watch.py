"""The reconciliation sweep: polling non-terminal orders, and reading feeds from a cursor."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from orderstatus_fakeshop import FakeshopProvider, FakeshopSandbox

from orderstatus import AsyncClient, Capabilities, OrderState, RetryPolicy, hookimpl
from orderstatus.plugins import Registry
from orderstatus.stores import MemoryStore
from orderstatus.tracking import Tracker
from orderstatus.watch import Watcher

FAST = RetryPolicy(attempts=2, total=5, backoff=0.001, backoff_max=0.002)


class Pollshop(FakeshopProvider):
    """Fakeshop without a feed: it can only be polled."""

    name = "pollshop"
    title = "Pollshop"
    capabilities = Capabilities(fetch=True)


class PollSandbox(FakeshopSandbox):
    provider = "pollshop"


class Plugin:
    @hookimpl
    def orderstatus_register_providers(self, register: Any) -> None:
        register(Pollshop, sandbox=PollSandbox)
        register(FakeshopProvider, sandbox=FakeshopSandbox)


class World:
    def __init__(self) -> None:
        self.registry = Registry()
        self.registry.add_plugin(Plugin(), "shops")
        self.poll, self.feed = PollSandbox(), FakeshopSandbox()
        self.client = AsyncClient(
            {"pollshop": self.poll.settings("http://127.0.0.1/"),
             "fakeshop": self.feed.settings("http://127.0.0.1/")},
            transport={"pollshop": self.poll.transport(), "fakeshop": self.feed.transport()},
            retry=FAST, registry=self.registry,
        )
        self.store = MemoryStore()
        self.tracker = Tracker(self.store, registry=self.registry)
        self.watcher = Watcher(self.client, self.tracker, interval=0.01)

    def sweep(self) -> list[tuple[str, OrderState | None, OrderState]]:
        changes = asyncio.run(self.watcher.sweep())
        return [(c.order_id, c.previous, c.current) for c in changes]

    def track(self, provider: str, order_id: str) -> None:
        asyncio.run(self._track(provider, order_id))

    async def _track(self, provider: str, order_id: str) -> None:
        self.tracker.observe(await self.client.fetch(provider, order_id))


@pytest.fixture
def world() -> World:
    return World()


S = OrderState


def test_sweep_refetches_non_terminal_tracked_orders(world: World) -> None:
    making, arriving, idle = (world.poll.create_order() for _ in range(3))
    for order in (making, arriving, idle):
        world.track("pollshop", order)
    world.poll.set_status(making, "making")
    world.poll.set_status(arriving, "arrived")
    world.poll.requests.clear()
    assert sorted(world.sweep()) == sorted([
        (arriving, S.CREATED, S.DELIVERED), (making, S.CREATED, S.IN_PRODUCTION)])
    assert len(world.poll.requests) == 3
    world.poll.requests.clear()
    assert world.sweep() == []
    # The delivered order is terminal: it is never fetched again.
    assert sorted(path for _, path in world.poll.requests) == sorted(
        f"/v1/orders/{o}" for o in (making, idle))
    assert world.watcher.sweeps == 2


def test_a_failed_fetch_is_reported_and_the_sweep_goes_on(world: World) -> None:
    broken, fine = world.poll.create_order(), world.poll.create_order()
    for order in (broken, fine):
        world.track("pollshop", order)
    world.poll.set_status(fine, "sent")
    world.poll.set_status(broken, "sent")
    world.poll.faults.inject("status", status=503, times=2, path=broken)
    assert world.sweep() == [(fine, S.CREATED, S.SHIPPED)]
    assert [(f.order_id, f.error.retryable) for f in world.watcher.failures] == [(broken, True)]
    assert world.sweep() == [(broken, S.CREATED, S.SHIPPED)]
    assert world.watcher.failures == []


def test_feed_providers_are_read_from_the_saved_cursor(world: World) -> None:
    first, second = world.feed.create_order(), world.feed.create_order()
    world.feed.set_status(first, "making")
    changes = world.sweep()
    assert sorted(changes) == [(first, None, S.IN_PRODUCTION), (second, None, S.CREATED)]
    cursor = world.store.load_cursor("fakeshop")
    assert cursor == str(len(world.feed.changes))
    assert world.sweep() == []
    world.feed.set_status(second, "sent")
    assert world.sweep() == [(second, S.CREATED, S.SHIPPED)]
    # Only the feed was read, each time from the saved cursor, until it had nothing new.
    assert world.feed.requests == [("GET", "/v1/changes")] * 5
    assert world.store.load_cursor("fakeshop") == str(len(world.feed.changes))


def test_a_failing_feed_falls_back_to_fetching(world: World) -> None:
    order = world.feed.create_order()
    world.sweep()
    world.feed.set_status(order, "sent")
    world.feed.faults.inject("status", status=503, times=2, path="/changes")
    assert world.sweep() == [(order, S.CREATED, S.SHIPPED)]
    assert [f.provider for f in world.watcher.failures] == ["fakeshop"]
    assert ("GET", f"/v1/orders/{order}") in world.feed.requests


def test_orders_of_unconfigured_providers_are_left_alone(world: World) -> None:
    order = world.poll.create_order()
    world.track("pollshop", order)
    feed_only = AsyncClient({"fakeshop": world.feed.settings("http://127.0.0.1/")},
                            transport=world.feed.transport(), registry=world.registry)
    lonely = Watcher(feed_only, world.tracker)
    world.poll.set_status(order, "sent")
    world.poll.requests.clear()
    assert asyncio.run(lonely.sweep()) == []
    assert world.poll.requests == []


def test_run_sweeps_on_schedule_until_stopped(world: World) -> None:
    order = world.poll.create_order()
    world.track("pollshop", order)

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.ensure_future(world.watcher.run(stop))
        while world.watcher.sweeps < 2:
            await asyncio.sleep(0.005)
        world.poll.set_status(order, "making")
        while world.tracker.state("pollshop", order) is not S.IN_PRODUCTION:
            await asyncio.sleep(0.005)
        stop.set()
        await asyncio.wait_for(task, 1)

    asyncio.run(main())
    assert world.watcher.sweeps >= 3
