"""The reconciliation sweep: catch what webhooks missed.

Webhooks get lost for good (Print API gives up after 10 calls), so a :class:`Watcher`
periodically re-fetches every tracked order that is not terminal yet, and reads the change
feed of providers that have one, feeding everything to the tracker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from .client import AsyncClient, OrderRef
from .errors import OrderStatusError
from .models import FetchFailure, OrderStatus, StatusChange
from .stores import FeedState
from .tracking import Tracker

__all__ = ["Watcher"]

log = logging.getLogger("orderstatus.watch")


class Watcher:
    """Re-fetches non-terminal tracked orders, and reads feeds, on a schedule.

    For a provider whose capabilities include a feed, the sweep reads the feed from the
    saved cursor instead of fetching that provider's orders one by one, and saves the new
    cursor after the statuses it returned are stored (so a crash re-reads, never skips). If
    the feed fails, that provider's orders are fetched one by one in that sweep instead.
    Orders of providers the client is not configured for are left alone.

    Args:
        client: an :class:`AsyncClient` configured for the providers to watch.
        tracker: the tracker whose orders are swept and which receives the statuses.
        interval: seconds between the starts of two sweeps in :meth:`run`.
        concurrency: fetches in flight at once (each provider's own limit applies too).
        feed_state: where feed cursors are kept (default: the tracker's store).
        max_feed_pages: pages read from one feed per sweep, at most.
    """

    def __init__(
        self,
        client: AsyncClient,
        tracker: Tracker,
        *,
        interval: float = 300.0,
        concurrency: int = 32,
        feed_state: FeedState | None = None,
        max_feed_pages: int = 100,
    ) -> None:
        self.client = client
        self.tracker = tracker
        self.interval = interval
        self.concurrency = concurrency
        self.feed_state: FeedState = feed_state if feed_state is not None else tracker.store
        self.max_feed_pages = max_feed_pages
        self.failures: list[FetchFailure] = []
        """Orders the last sweep could not fetch (a failed feed shows as order id ``""``)."""
        self.sweeps = 0
        """Sweeps completed so far."""

    async def sweep(self) -> list[StatusChange]:
        """Run one sweep; return the changes it found, in the order they were recorded."""
        changes: list[StatusChange] = []
        self.failures = []
        polled = set(self.client.providers)
        for name in self.client.providers:
            has_feed = self.client.provider(name).capabilities.feed
            if has_feed and await self._read_feed(name, changes):
                polled.discard(name)
        tracked = await asyncio.to_thread(self.tracker.tracked, non_terminal=True)
        await self._poll([(s.provider, s.order_id) for s in tracked if s.provider in polled],
                         changes)
        self.sweeps += 1
        return changes

    async def _observe(self, statuses: Iterable[OrderStatus], changes: list[StatusChange]
                       ) -> None:
        for status in statuses:
            change = await self.tracker.aobserve(status)
            if change is not None:
                changes.append(change)

    async def _read_feed(self, name: str, changes: list[StatusChange]) -> bool:
        """Read ``name``'s feed from the saved cursor; ``False`` if it failed."""
        cursor = await asyncio.to_thread(self.feed_state.load_cursor, name)
        for _ in range(self.max_feed_pages):
            try:
                page = await self.client.feed(name, since=cursor)
            except OrderStatusError as err:
                log.warning("%s feed failed, fetching its orders instead: %s", name, err)
                self.failures.append(FetchFailure(name, "", err))
                return False
            await self._observe(page.statuses, changes)
            if page.cursor is None or page.cursor == cursor:
                break
            cursor = page.cursor
            await asyncio.to_thread(self.feed_state.save_cursor, name, cursor)
            if not page.statuses:
                break
        return True

    async def _poll(self, refs: list[OrderRef], changes: list[StatusChange]) -> None:
        async for result in self.client.fetch_many(refs, concurrency=self.concurrency):
            if isinstance(result, FetchFailure):
                log.warning("%s order %r: fetch failed: %s", result.provider,
                            result.order_id, result.error)
                self.failures.append(result)
                continue
            await self._observe((result,), changes)

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
