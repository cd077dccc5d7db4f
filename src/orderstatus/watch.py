"""The reconciliation sweep: catch what webhooks missed.

Webhooks get lost for good (Print API gives up after 10 calls), so a :class:`Watcher`
periodically checks the tracked orders that are due for a check (each order's next check is
set by the tracker's :class:`~orderstatus.CheckPolicy`), and reads the change feed of
providers that have one, feeding everything to the tracker.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from typing import TypeVar

import attrs

from .client import AsyncClient, OrderRef
from .errors import OrderStatusError
from .models import FetchFailure, OrderStatus, utcnow
from .stores import FeedState
from .tracking import HistoryEntry, Tracker

__all__ = ["FAILURES_KEPT", "SweepReport", "Watcher"]

log = logging.getLogger("orderstatus.watch")

T = TypeVar("T")

_FEED_WAIT_SLICE = 0.5
"""Seconds a watcher waits for a held feed in one go: a sweep cancelled meanwhile (a stop
signal) ends at most this much later, since a thread waiting for a lock cannot be cancelled."""

FAILURES_KEPT = 100
"""How many failures of one sweep :attr:`Watcher.failures` keeps (the rest are counted)."""


@attrs.frozen
class SweepReport:
    """What one sweep did (its changes are in the tracker's change log)."""

    checked: int = 0
    """Observations recorded: due orders fetched, and feed entries read."""
    changes: int = 0
    """Changes among them (anomalies included)."""
    failed: int = 0
    """Orders that could not be fetched, and feeds that could not be read."""


@attrs.define
class _Tally:
    checked: int = 0
    changes: int = 0
    failed: int = 0

    def count(self, entries: list[HistoryEntry]) -> None:
        self.checked += len(entries)
        self.changes += sum(e.change is not None for e in entries)


class Watcher:
    """Checks tracked orders when they are due, and reads feeds, on a schedule.

    A sweep takes the orders due at its start from the store in batches of ``batch_size``
    ids per provider (a lease keeps other watchers off them), fetches each batch with
    ``fetch_many`` and records it in one commit, so its memory stays bounded whatever the
    number of orders. An order whose fetch failed is due again when its lease runs out.

    For a provider whose capabilities include a feed, the sweep reads the feed from the
    saved cursor instead of fetching that provider's orders one by one, and saves the new
    cursor after the statuses it returned are stored (so a crash re-reads, never skips); the
    save is a compare-and-set, so two watchers never move a cursor back. One watcher reads a
    feed at a time (:meth:`~orderstatus.stores.FeedState.hold_feed`): a watcher that finds it
    held waits for its reader (up to ``interval``), then reads on from the cursor the reader
    saved; one that waited in vain leaves that provider to the reader for the sweep. If the
    feed fails, that provider's due orders are fetched one by one in that sweep instead, by
    every watcher it failed for, each taking its own share. Orders of providers the client is
    not configured for are left alone.

    Several watchers on one shared store (:class:`~orderstatus.PostgresStore`, or
    :class:`~orderstatus.SQLiteStore` on one machine) share the work: each due order is
    leased to one of them, so it is fetched once per check whatever their number.

    Args:
        client: an :class:`AsyncClient` configured for the providers to watch.
        tracker: the tracker whose orders are swept and which receives the statuses.
        interval: seconds between the starts of two sweeps in :meth:`run`.
        concurrency: fetches in flight at once (each provider's own limit applies too).
        feed_state: where feed cursors are kept (default: the tracker's store).
        max_feed_pages: pages read from one feed per sweep, at most.
        batch_size: due orders taken from the store per provider at a time.
        lease: how long a taken order stays reserved for this watcher.
        clock: the current time (a controllable clock in tests).
    """

    def __init__(
        self,
        client: AsyncClient,
        tracker: Tracker,
        *,
        interval: float = 60.0,
        concurrency: int = 32,
        feed_state: FeedState | None = None,
        max_feed_pages: int = 100,
        batch_size: int = 200,
        lease: dt.timedelta = dt.timedelta(minutes=10),
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be 1 or more, got {batch_size}")
        if lease <= dt.timedelta(0):
            raise ValueError("lease must be a positive timedelta")
        self.client = client
        self.tracker = tracker
        self.interval = interval
        self.concurrency = concurrency
        self.feed_state: FeedState = feed_state if feed_state is not None else tracker.store
        self.max_feed_pages = max_feed_pages
        self.batch_size = batch_size
        self.lease = lease
        self.clock = clock
        self.failures: list[FetchFailure] = []
        """The first :data:`FAILURES_KEPT` orders the last sweep could not fetch (a failed
        feed shows as order id ``""``)."""
        self.sweeps = 0
        """Sweeps completed so far."""

    async def sweep(self) -> SweepReport:
        """Run one sweep; return what it did."""
        tally = _Tally()
        self.failures = []
        now = self.clock()
        polled = []
        for name in self.client.providers:
            has_feed = self.client.provider(name).capabilities.feed
            if not (has_feed and await self._read_feed(name, tally)):
                polled.append(name)
        await self._check_due(polled, now, tally)
        self.sweeps += 1
        return SweepReport(tally.checked, tally.changes, tally.failed)

    def _failed(self, failure: FetchFailure, tally: _Tally) -> None:
        tally.failed += 1
        if len(self.failures) < FAILURES_KEPT:
            self.failures.append(failure)

    async def _read_feed(self, name: str, tally: _Tally) -> bool:
        """Read ``name``'s feed from the saved cursor, once no other watcher is reading it;
        ``False`` if it failed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.interval
        while True:  # waits in short slices, so that a cancelled sweep stops soon
            wait = min(_FEED_WAIT_SLICE, max(deadline - loop.time(), 0.0))
            async with _in_thread(self.feed_state.hold_feed(name, timeout=wait)) as held:
                if held:
                    return await self._read_pages(name, tally)
            if loop.time() >= deadline:
                log.info("%s feed: another watcher is still reading it; leaving it to that"
                         " watcher", name)
                return True

    async def _read_pages(self, name: str, tally: _Tally) -> bool:
        cursor = await asyncio.to_thread(self.feed_state.load_cursor, name)
        for _ in range(self.max_feed_pages):
            try:
                page = await self.client.feed(name, since=cursor)
            except OrderStatusError as err:
                log.warning("%s feed failed, fetching its orders instead: %s", name, err)
                self._failed(FetchFailure(name, "", err), tally)
                return False
            tally.count(await self.tracker.arecord_many(page.statuses))
            if page.cursor is None or page.cursor == cursor:
                break
            saved = await asyncio.to_thread(
                self.feed_state.save_cursor, name, page.cursor, expected=cursor
            )
            if not saved:
                log.info("%s feed: another watcher moved the cursor on; stopping here", name)
                break
            cursor = page.cursor
            if not page.statuses:
                break
        return True

    async def _check_due(self, providers: list[str], now: dt.datetime, tally: _Tally) -> None:
        """Fetch and record, batch by batch, the orders of ``providers`` due at ``now``.

        A sweep takes at most as many orders as were open when it started: an order it
        checked is due again later than ``now`` unless the clock went back, and even then
        the sweep ends.
        """
        store, pending = self.tracker.store, list(providers)
        if not pending:
            return
        budget = await asyncio.to_thread(store.count, non_terminal=True)
        while pending and budget > 0:
            refs: list[OrderRef] = []
            for name in list(pending):
                limit = min(self.batch_size, budget - len(refs))
                ids = await asyncio.to_thread(
                    store.claim_due, name, now, limit=limit, lease=self.lease
                ) if limit > 0 else []
                if len(ids) < self.batch_size:
                    pending.remove(name)
                refs.extend((name, order_id) for order_id in ids)
            budget -= len(refs)
            if not refs:
                return
            statuses: list[OrderStatus] = []
            async for result in self.client.fetch_many(refs, concurrency=self.concurrency):
                if isinstance(result, FetchFailure):
                    log.warning("%s order %r: fetch failed: %s", result.provider,
                                result.order_id, result.error)
                    self._failed(result, tally)
                else:
                    statuses.append(result)
            tally.count(await self.tracker.arecord_many(statuses))

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Sweep every ``interval`` seconds until ``stop`` is set (or the task is cancelled).

        A sweep that fails as a whole is logged and the next one runs on schedule.
        """
        stop = stop if stop is not None else asyncio.Event()
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            started = loop.time()
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep failed; trying again in %s s", self.interval)
            remaining = self.interval - (loop.time() - started)
            try:
                await asyncio.wait_for(stop.wait(), timeout=max(remaining, 0))
            except asyncio.TimeoutError:
                continue


@contextlib.asynccontextmanager
async def _in_thread(manager: AbstractContextManager[T]) -> AsyncIterator[T]:
    """Enter and exit a blocking context manager in worker threads. Cancelled while entering,
    it still exits once the entering is done (a feed held is always let go)."""
    entering = asyncio.ensure_future(asyncio.to_thread(manager.__enter__))
    try:
        value = await asyncio.shield(entering)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await entering
            await asyncio.to_thread(manager.__exit__, None, None, None)
        raise
    try:
        yield value
    except BaseException as err:
        if not await asyncio.to_thread(manager.__exit__, type(err), err, err.__traceback__):
            raise
    else:
        await asyncio.to_thread(manager.__exit__, None, None, None)
