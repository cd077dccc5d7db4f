"""The reconciliation sweep: checking due orders in batches, and reading feeds from a
cursor."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import attrs
import pytest
from orderstatus_fakeshop import FakeshopProvider, FakeshopSandbox
from orderstatus_printapi import PrintApiSandbox

from orderstatus import (
    AsyncClient,
    Capabilities,
    ChangeKind,
    CheckPolicy,
    OrderState,
    RetryPolicy,
    StatusChange,
    Tracking,
    hookimpl,
)
from orderstatus.models import utcnow
from orderstatus.plugins import Registry
from orderstatus.stores import MemoryStore, SQLiteStore, Store
from orderstatus.tracking import Tracker
from orderstatus.watch import SweepReport, Watcher

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


class Clock:
    """Now, plus however far a test has moved it on."""

    def __init__(self) -> None:
        self.ahead = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return utcnow() + self.ahead

    def advance(self, **delta: float) -> None:
        self.ahead += dt.timedelta(**delta)


class World:
    def __init__(self, store: Store | None = None, **options: Any) -> None:
        self.registry = Registry()
        self.registry.add_plugin(Plugin(), "shops")
        self.poll, self.feed = PollSandbox(), FakeshopSandbox()
        self.client = AsyncClient(
            {"pollshop": self.poll.settings("http://127.0.0.1/"),
             "fakeshop": self.feed.settings("http://127.0.0.1/")},
            transport={"pollshop": self.poll.transport(), "fakeshop": self.feed.transport()},
            retry=FAST, registry=self.registry,
        )
        self.store = store if store is not None else MemoryStore()
        self.tracker = Tracker(self.store, registry=self.registry)
        self.clock = Clock()
        self.watcher = Watcher(self.client, self.tracker, interval=0.01, clock=self.clock,
                               **options)
        self.report = SweepReport()

    def sweep(self) -> list[tuple[str, OrderState | None, OrderState]]:
        """One sweep, then a check that every order it took is checked again when due."""
        before = self.tracker.last_change_id()
        self.report = asyncio.run(self.watcher.sweep())
        changes = self.tracker.changes(after=before)
        assert self.report.changes == len(changes)
        return [(c.order_id, c.previous, c.current) for c in changes]

    def track(self, provider: str, order_id: str, *, ago: dt.timedelta | None = None) -> None:
        """Fetch and track the order (as if it had been fetched ``ago``)."""
        status = asyncio.run(self.client.fetch(provider, order_id))
        if ago is not None:
            status = attrs.evolve(status, observed_at=status.observed_at - ago)
        self.tracker.observe(status)


@pytest.fixture
def world() -> World:
    return World()


S = OrderState


LONG_AGO = dt.timedelta(hours=13)
"""Tracked this long ago, an order is due for a check now whatever its state."""


def fetched(sandbox: FakeshopSandbox) -> list[str]:
    """The order ids the sandbox was asked for, and forget them."""
    ids = sorted(path.rsplit("/", 1)[1] for _, path in sandbox.requests if "/orders/" in path)
    sandbox.requests.clear()
    return ids


def test_a_sweep_checks_only_the_orders_that_are_due(world: World) -> None:
    making, arriving, idle = (world.poll.create_order() for _ in range(3))
    for order in (making, arriving, idle):
        world.track("pollshop", order, ago=dt.timedelta(hours=2))
    fresh = world.poll.create_order()
    world.track("pollshop", fresh)  # just tracked: its first check is 5 minutes on
    world.poll.set_status(making, "making")
    world.poll.set_status(arriving, "arrived")
    world.poll.requests.clear()
    assert sorted(world.sweep()) == sorted([
        (arriving, S.CREATED, S.DELIVERED), (making, S.CREATED, S.IN_PRODUCTION)])
    assert fetched(world.poll) == sorted([making, arriving, idle])
    assert world.report == SweepReport(checked=3, changes=2, failed=0)
    # Each is due again by the policy: the one that just changed in 5 minutes, the one
    # unchanged for 2 hours in 30; the delivered one is terminal and never fetched again.
    world.clock.advance(minutes=6)
    assert world.sweep() == []
    assert fetched(world.poll) == sorted([making, fresh])
    world.clock.advance(minutes=25)
    assert world.sweep() == []
    assert fetched(world.poll) == sorted([making, fresh, idle])
    assert world.watcher.sweeps == 3


def test_due_orders_are_taken_in_batches_and_every_one_is_checked_once(
    tmp_path: Path,
) -> None:
    world = World(SQLiteStore(tmp_path / "orders.sqlite3"), batch_size=3)
    orders = [world.poll.create_order() for _ in range(10)]
    for order in orders:
        world.track("pollshop", order, ago=LONG_AGO)
        world.poll.set_status(order, "making")
    world.poll.requests.clear()
    assert len(world.sweep()) == 10
    assert fetched(world.poll) == sorted(orders)
    assert world.report == SweepReport(checked=10, changes=10, failed=0)


class NoWholeReads(MemoryStore):
    """A store that refuses to hand out every record at once."""

    def orders(self, **options: Any) -> list[Any]:
        raise AssertionError("the sweep listed the orders")


def test_a_sweep_never_lists_every_record() -> None:
    world = World(NoWholeReads())
    order = world.poll.create_order()
    world.track("pollshop", order, ago=LONG_AGO)
    world.poll.set_status(order, "sent")
    assert world.sweep() == [(order, S.CREATED, S.SHIPPED)]


def test_a_failed_fetch_is_reported_and_tried_again_when_its_lease_ends(world: World) -> None:
    broken, fine = world.poll.create_order(), world.poll.create_order()
    for order in (broken, fine):
        world.track("pollshop", order, ago=LONG_AGO)
    world.poll.set_status(fine, "sent")
    world.poll.set_status(broken, "sent")
    world.poll.faults.inject("status", status=503, times=2, path=broken)
    assert world.sweep() == [(fine, S.CREATED, S.SHIPPED)]
    assert [(f.order_id, f.error.retryable) for f in world.watcher.failures] == [(broken, True)]
    assert world.report.failed == 1
    world.poll.requests.clear()
    assert world.sweep() == []
    assert broken not in fetched(world.poll)  # still leased
    world.clock.advance(minutes=10, seconds=1)
    assert world.sweep() == [(broken, S.CREATED, S.SHIPPED)]
    assert world.watcher.failures == []


def test_two_watchers_share_the_due_orders(tmp_path: Path) -> None:
    path = tmp_path / "orders.sqlite3"
    first = World(SQLiteStore(path), batch_size=2)
    orders = [first.poll.create_order() for _ in range(8)]
    for order in orders:
        first.track("pollshop", order, ago=LONG_AGO)
    second = Watcher(first.client, Tracker(SQLiteStore(path), registry=first.registry),
                     clock=first.clock, batch_size=2)
    first.poll.requests.clear()

    async def both() -> list[SweepReport]:
        return list(await asyncio.gather(first.watcher.sweep(), second.sweep()))

    reports = asyncio.run(both())
    assert sum(r.checked for r in reports) == 8
    assert fetched(first.poll) == sorted(orders)


def test_feed_providers_are_read_from_the_saved_cursor(world: World) -> None:
    first, second = world.feed.create_order(), world.feed.create_order()
    world.feed.set_status(first, "making")
    changes = world.sweep()
    assert sorted(changes) == [(first, None, S.IN_PRODUCTION), (second, None, S.CREATED)]
    cursor = world.store.load_cursor("fakeshop")
    assert cursor == str(len(world.feed.changes))
    world.clock.advance(hours=13)  # due, but a working feed stands in for fetches
    assert world.sweep() == []
    world.feed.set_status(second, "sent")
    assert world.sweep() == [(second, S.CREATED, S.SHIPPED)]
    # Only the feed was read, each time from the saved cursor, until it had nothing new.
    assert world.feed.requests == [("GET", "/v1/changes")] * 5
    assert world.store.load_cursor("fakeshop") == str(len(world.feed.changes))


class Overtaken:
    """Feed cursors in ``store``, where another watcher saves one first, while this one
    reads its page."""

    def __init__(self, store: Store, theirs: str) -> None:
        self.store, self.theirs = store, theirs

    def load_cursor(self, provider: str) -> str | None:
        return self.store.load_cursor(provider)

    def save_cursor(self, provider: str, cursor: str | None, *, expected: str | None) -> bool:
        assert self.store.save_cursor(provider, self.theirs, expected=expected)
        return self.store.save_cursor(provider, cursor, expected=expected)

    def hold_feed(
        self, provider: str, *, timeout: float = 0.0
    ) -> contextlib.AbstractContextManager[bool]:
        return self.store.hold_feed(provider, timeout=timeout)


def test_a_cursor_another_watcher_moved_on_is_never_moved_back(world: World) -> None:
    for _ in range(3):
        world.feed.create_order()
    watcher = Watcher(world.client, world.tracker, feed_state=Overtaken(world.store, "5"))
    asyncio.run(watcher.sweep())
    assert world.store.load_cursor("fakeshop") == "5"  # not back to this watcher's "3"
    assert world.feed.requests == [("GET", "/v1/changes")]  # and it stopped reading


def test_a_watcher_waits_for_the_feed_s_reader_then_reads_on(world: World) -> None:
    order = world.feed.create_order()
    world.track("fakeshop", order, ago=LONG_AGO)
    world.feed.set_status(order, "sent")
    holding, sweeping = threading.Event(), threading.Event()

    def other_watcher() -> None:
        with world.store.hold_feed("fakeshop") as held:
            assert held
            holding.set()
            assert sweeping.wait(30)

    reader = threading.Thread(target=other_watcher)
    reader.start()
    assert holding.wait(30)
    patient = Watcher(world.client, world.tracker, interval=30, clock=world.clock)
    threading.Timer(0.05, sweeping.set).start()  # lets go while this watcher waits, or before
    report = asyncio.run(patient.sweep())
    reader.join()
    assert report.changes == 1
    assert ("GET", "/v1/changes") in world.feed.requests


def test_a_feed_another_watcher_reads_too_long_is_left_to_it(world: World) -> None:
    """Neither read nor polled once the wait (up to the interval) is over: its reader covers
    that provider in this sweep."""
    order = world.feed.create_order()
    world.track("fakeshop", order, ago=LONG_AGO)
    world.feed.set_status(order, "sent")
    world.feed.requests.clear()
    with world.store.hold_feed("fakeshop") as held:  # the other watcher
        assert held
        assert world.sweep() == []
    assert world.feed.requests == []
    assert world.sweep() == [(order, S.CREATED, S.SHIPPED)]  # let go: read again


def test_a_sweep_waiting_for_a_held_feed_stops_when_cancelled(world: World) -> None:
    """A stop signal cancels the sweep while it waits (here up to an hour) for the feed's
    reader: it ends within a slice of the wait, not when the reader lets go."""
    patient = Watcher(world.client, world.tracker, interval=3600, clock=world.clock)

    async def cancel_while_waiting() -> None:
        sweep = asyncio.ensure_future(patient.sweep())
        await asyncio.sleep(0)  # it is waiting for the feed now
        sweep.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(sweep, 30)

    with world.store.hold_feed("fakeshop") as held:  # the other watcher, reading it for ever
        assert held
        asyncio.run(cancel_while_waiting())
    assert world.feed.requests == []


def test_a_failing_feed_falls_back_to_fetching(world: World) -> None:
    order = world.feed.create_order()
    world.sweep()
    world.feed.set_status(order, "sent")
    world.feed.faults.inject("status", status=503, times=2, path="/changes")
    world.clock.advance(minutes=6)
    assert world.sweep() == [(order, S.CREATED, S.SHIPPED)]
    assert [f.provider for f in world.watcher.failures] == ["fakeshop"]
    assert ("GET", f"/v1/orders/{order}") in world.feed.requests


def test_orders_of_unconfigured_providers_are_left_alone(world: World) -> None:
    order = world.poll.create_order()
    world.track("pollshop", order, ago=LONG_AGO)
    feed_only = AsyncClient({"fakeshop": world.feed.settings("http://127.0.0.1/")},
                            transport=world.feed.transport(), registry=world.registry)
    lonely = Watcher(feed_only, world.tracker, clock=world.clock)
    world.poll.set_status(order, "sent")
    world.poll.requests.clear()
    assert asyncio.run(lonely.sweep()) == SweepReport(checked=0, changes=0, failed=0)
    assert world.poll.requests == []


def test_a_feed_sweep_keeps_what_the_feed_does_not_say() -> None:
    """Print API's feed gives id, status and time: a shipped order read from it keeps the
    tracking URL and payment a fetch brought."""
    sandbox = PrintApiSandbox()
    client = AsyncClient({"printapi": sandbox.settings("http://127.0.0.1/")},
                         transport=sandbox.transport(), retry=FAST)
    tracker = Tracker(registry=Registry())
    order = sandbox.create_order(checkout=True)
    sandbox.set_status(order, "Shipped", payment="Successful")

    async def main() -> list[StatusChange]:
        tracker.observe(await client.fetch("printapi", order))
        await Watcher(client, tracker).sweep()
        sandbox.set_status(order, "Cancelled")
        await Watcher(client, tracker).sweep()
        return tracker.changes()

    first, cancelled = asyncio.run(main())
    url = f"https://jouw.postnl.nl/track-and-trace/3SPRNT{order}-NL-1234AB"
    assert first.status.tracking == (Tracking(url=url),)
    assert (cancelled.previous, cancelled.current, cancelled.kinds) == (
        S.SHIPPED, S.CANCELLED, {ChangeKind.STATE})
    kept = tracker.current("printapi", order)
    assert kept is not None
    assert (kept.state, kept.tracking, kept.native_payment) == (
        S.CANCELLED, (Tracking(url=url),), "Successful")


def test_run_sweeps_on_schedule_until_stopped(world: World) -> None:
    # Checked every millisecond, so that each sweep (every 10 ms) finds it due.
    world.tracker.check_policy = CheckPolicy(shortest=dt.timedelta(milliseconds=1), growth=0)
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
