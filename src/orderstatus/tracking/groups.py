"""Group commits for observations handed over from event loops (:meth:`Tracker.arecord`).

Concurrent webhook notifications each end in one observation. Instead of a worker thread per
observation, each queueing on the store's lock for its own commit, one thread at a time
writes whatever has arrived: the observations waiting when it starts go into one
:meth:`~orderstatus.stores.base.Store.batch` (one commit, one sync), each in a transaction of
its own so that one that fails is undone alone, and the ones arriving meanwhile make the next
group. Every caller is answered only once its group is durable, so "200 only after it is
stored" holds as it did with a commit each.

A batch takes its orders' locks in one order (:func:`lock_order`), so two processes writing
batches that share orders never deadlock. If the batch's commit fails anyway (on PostgreSQL
one failed statement aborts the whole transaction), nothing of it was stored: each
observation is then written again in a transaction of its own, so only the one that fails
fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from orderstatus.models import OrderStatus, StatusChange

from .history import HistoryEntry

if TYPE_CHECKING:
    from .tracker import Tracker

__all__ = ["GroupWriter", "lock_order"]

log = logging.getLogger("orderstatus.tracking")

Recorded = tuple[HistoryEntry, "StatusChange | None"]
_Waiting = tuple[OrderStatus, "asyncio.Future[Recorded]", asyncio.AbstractEventLoop]


class GroupWriter:
    """Writes a tracker's observations from event loops in groups, one group at a time."""

    def __init__(self, tracker: Tracker) -> None:
        self._tracker = tracker
        self._lock = threading.Lock()
        self._waiting: list[_Waiting] = []
        self._writing = False

    async def record(self, status: OrderStatus) -> Recorded:
        """Record ``status`` in the next group; its entry and change once that is durable."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Recorded] = loop.create_future()
        with self._lock:
            self._waiting.append((status, future, loop))
            start, self._writing = not self._writing, True
        if start:
            loop.run_in_executor(None, self._write_groups)
        return await future

    def _write_groups(self) -> None:
        """Write groups until none is waiting (in a worker thread)."""
        while True:
            with self._lock:
                group, self._waiting = self._waiting, []
                if not group:
                    self._writing = False
                    return
            try:
                self._write(group)
            except BaseException as err:  # not an error of the store's: stop, failing all
                with self._lock:
                    group, self._waiting, self._writing = self._waiting, [], False
                for _, future, loop in group:
                    _settle(loop, future, None, err)
                raise

    def _write(self, group: list[_Waiting]) -> None:
        outcomes: list[HistoryEntry | BaseException] | None = None
        try:
            if len(group) > 1:
                try:
                    outcomes = self._batched([status for status, _, _ in group])
                except Exception as err:  # nothing of the batch is stored: each on its own
                    log.info("a batch of %d observations failed (%s); writing each alone",
                             len(group), type(err).__name__)
            if outcomes is None:
                outcomes = [self._alone(status) for status, _, _ in group]
        except BaseException as err:  # interrupted: none of the group is answered as stored
            for _, future, loop in group:
                _settle(loop, future, None, err)
            raise
        tracker = self._tracker
        for outcome, (_, future, loop) in zip(outcomes, group, strict=True):
            if isinstance(outcome, HistoryEntry):  # announced here, once durable
                _settle(loop, future, (outcome, tracker._report(outcome)), None)
            else:
                _settle(loop, future, None, outcome)

    def _batched(self, statuses: list[OrderStatus]) -> list[HistoryEntry | BaseException]:
        """Write ``statuses`` in one batch, in :func:`lock_order`; their outcomes in their
        own order. One failing in its transaction is undone alone; a failed commit raises."""
        tracker, store = self._tracker, self._tracker.store
        written: dict[int, HistoryEntry | BaseException] = {}
        with store.batch():
            for i in lock_order(statuses):
                try:
                    with store.transaction(statuses[i].provider, statuses[i].order_id) as txn:
                        written[i] = tracker._apply(txn, statuses[i])
                except Exception as err:  # undone alone: the others still commit
                    written[i] = err
        return [written[i] for i in range(len(statuses))]

    def _alone(self, status: OrderStatus) -> HistoryEntry | BaseException:
        """Write ``status`` in a transaction of its own; its entry, or why it failed."""
        try:
            with self._tracker.store.transaction(status.provider, status.order_id) as txn:
                return self._tracker._apply(txn, status)
        except Exception as err:
            return err


def lock_order(statuses: Sequence[OrderStatus]) -> list[int]:
    """The positions of ``statuses`` in the order a batch writes them: by order, so batches
    sharing orders take their locks in one order and never wait on each other in a circle;
    one order's observations keep the order they came in."""
    return sorted(range(len(statuses)),
                  key=lambda i: (statuses[i].provider, statuses[i].order_id))


def _settle(loop: asyncio.AbstractEventLoop, future: asyncio.Future[Recorded],
            result: Recorded | None, error: BaseException | None) -> None:
    """Answer ``future`` in its own loop (unless its caller stopped waiting)."""

    def settle() -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            assert result is not None
            future.set_result(result)

    with contextlib.suppress(RuntimeError):  # the caller's loop is closed: nobody waits
        loop.call_soon_threadsafe(settle)
