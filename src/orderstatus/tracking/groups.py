"""Group commits for observations handed over from event loops (:meth:`Tracker.arecord`).

Concurrent webhook notifications each end in one observation. Instead of a worker thread per
observation, each queueing on the store's lock for its own commit, one thread at a time
writes whatever has arrived: the observations waiting when it starts go into one
:meth:`~orderstatus.stores.base.Store.batch` (one commit, one sync), each in a transaction of
its own so that one that fails is undone alone, and the ones arriving meanwhile make the next
group. Every caller is answered only once its group is durable, so "200 only after it is
stored" holds as it did with a commit each.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING

from orderstatus.models import OrderStatus, StatusChange

from .history import HistoryEntry

if TYPE_CHECKING:
    from .tracker import Tracker

__all__ = ["GroupWriter"]

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
        tracker, store = self._tracker, self._tracker.store
        outcomes: list[HistoryEntry | BaseException] = []
        try:
            if len(group) == 1:  # alone: its own transaction, no batch around it
                with store.transaction(group[0][0].provider, group[0][0].order_id) as txn:
                    outcomes.append(tracker._apply(txn, group[0][0]))
            else:
                with store.batch():
                    for status, _, _ in group:
                        try:
                            with store.transaction(status.provider, status.order_id) as txn:
                                outcomes.append(tracker._apply(txn, status))
                        except Exception as err:  # undone alone: the others still commit
                            outcomes.append(err)
        except BaseException as err:  # the commit failed: none of the group is stored
            for _, future, loop in group:
                _settle(loop, future, None, err)
            if not isinstance(err, Exception):
                raise
            return
        for outcome, (_, future, loop) in zip(outcomes, group, strict=True):
            if isinstance(outcome, HistoryEntry):  # announced here, once durable
                _settle(loop, future, (outcome, tracker._report(outcome)), None)
            else:
                _settle(loop, future, None, outcome)


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
