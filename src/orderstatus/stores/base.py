"""The store protocol: what a :class:`~orderstatus.Tracker` (and a
:class:`~orderstatus.Watcher`) needs from where orders are kept.

This file is all a store author has to read (the two values it stores, ``OrderRecord`` and
``HistoryEntry``, are small attrs classes of :mod:`orderstatus.tracking.history`). A store
keeps, for each tracked order, its :class:`OrderRecord` (last applied status, when it last
changed, when it is next due for a check) and its history of
:class:`~orderstatus.HistoryEntry` values; the entries that record a change form the **change
log**, read in commit order by consumers that each keep a named position. It also keeps each
provider's feed cursor. :mod:`orderstatus.stores.codec` turns every value into JSON;
:func:`orderstatus.testing.stores.store_suite` checks a store against everything below.

A server database fits it as follows: :meth:`Store.transaction` is a database transaction
holding a per-order lock (an advisory transaction lock covers an order that has no row yet);
:meth:`Store.claim_due` is a lease (``FOR UPDATE SKIP LOCKED`` on due rows, setting their due
time to the lease's end); :meth:`FeedState.save_cursor` is a conditional update, and
:meth:`FeedState.hold_feed` a session-level advisory lock; change ids are assigned by the
store, and :meth:`Store.changes` must only show a prefix that can no longer grow below its last
id (ids taken before commit need care there: :mod:`orderstatus.stores.postgres` shows one way).

Times: every ``datetime`` a store is given or returns is compared as an instant; a naive one
means UTC (:func:`as_utc`).
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from typing import Protocol

from orderstatus.models import OrderStatus, StatusChange
from orderstatus.tracking.history import HistoryEntry, OrderRecord

__all__ = ["FeedState", "OrderKey", "OrderRecord", "Store", "Transaction", "as_utc"]

OrderKey = tuple[str, str]
"""``(provider, order_id)``."""


def as_utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` as an aware UTC datetime (a naive one is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


class Transaction(Protocol):
    """One order's record, locked for a read-compare-write (see :meth:`Store.transaction`)."""

    @property
    def record(self) -> OrderRecord | None:
        """The order's record as of the start of the transaction (``None``: not tracked),
        or as last written in it. Its status may come without its raw payload (``raw`` empty):
        the tracker never reads it there, so a store may leave the payload unread."""

    def append(self, entry: HistoryEntry) -> HistoryEntry:
        """Add ``entry`` to the order's history; return it with its ``seq`` assigned.

        ``seq`` is unique in the store and never reused (not even after :meth:`Store.prune`),
        and increases in commit order: once :meth:`Store.changes` has returned a change with
        id ``m``, no entry with a smaller ``seq`` may become visible. An entry whose
        ``change`` is not ``None`` joins the change log with id ``seq``.
        """

    def write(self, record: OrderRecord) -> None:
        """Make ``record`` the order's record (its status, change time and due time)."""

    def reschedule(self, due_at: dt.datetime | None) -> None:
        """Change only when the tracked order is next due (its status and payload stay)."""


class FeedState(Protocol):
    """Where a :class:`~orderstatus.Watcher` keeps each provider's feed cursor."""

    def load_cursor(self, provider: str) -> str | None:
        """The saved cursor of ``provider``'s change feed, ``None`` if there is none."""

    def save_cursor(self, provider: str, cursor: str | None, *, expected: str | None) -> bool:
        """Compare-and-set: save ``cursor`` (``None``: forget it) only if the saved cursor is
        still ``expected``; return whether it was saved.

        Two watchers reading one feed cannot move its cursor backwards: the slower one's save
        fails, and it stops reading.
        """

    def hold_feed(self, provider: str, *, timeout: float = 0.0) -> AbstractContextManager[bool]:
        """Become ``provider``'s one feed reader for the block, waiting up to ``timeout``
        seconds while another holds it.

        Yields whether this caller holds it; while it does, every other ``hold_feed`` of that
        provider, in any thread or process sharing the state, waits, and yields ``False`` once
        its ``timeout`` has passed. A holder that dies lets go. A state that cannot keep other
        processes off may yield ``True`` to every caller of another process: the
        compare-and-set of :meth:`save_cursor` still keeps the cursor from moving back.
        """


class Store(FeedState, Protocol):
    """What a tracker needs from a store.

    The hard requirement is :meth:`transaction`. While one order's transaction is open, no
    other transaction on that order, in any thread or process sharing the store, may read or
    write it (the first observation of an order that has no record yet included); everything
    written inside becomes visible and durable together when the block exits normally, and
    none of it when the block raises.
    """

    # -- one order ---------------------------------------------------------------------------

    def transaction(
        self, provider: str, order_id: str
    ) -> AbstractContextManager[Transaction]:
        """Lock one order's record for a read-compare-write."""

    def batch(self) -> AbstractContextManager[None]:
        """Group the transactions this thread opens inside the block into one commit.

        Each transaction in the batch still sees and locks its order as above, and one that
        raises is undone alone; the others become visible and durable together when the block
        exits normally, and none of them if the block raises. A store may keep other writers
        waiting until the batch ends, so a batch does no slow work (no network calls).
        Batches may nest; the outermost one commits.
        """

    def current(self, provider: str, order_id: str) -> OrderStatus | None:
        """The order's last applied status, ``None`` when it is not tracked."""

    def history(self, provider: str, order_id: str) -> list[HistoryEntry]:
        """Every recorded entry of the order still kept, oldest (lowest ``seq``) first."""

    # -- every order -------------------------------------------------------------------------

    def orders(
        self, *, after: OrderKey | None = None, limit: int = 1000, non_terminal: bool = False
    ) -> list[OrderStatus]:
        """Up to ``limit`` orders' statuses with keys above ``after``, in key order
        (``(provider, order_id)``); only orders that can still change if ``non_terminal``."""

    def count(self, *, non_terminal: bool = False) -> int:
        """How many orders are tracked (only those that can still change if ``non_terminal``)."""

    def claim_due(
        self, provider: str, now: dt.datetime, *, limit: int, lease: dt.timedelta
    ) -> list[str]:
        """Lease up to ``limit`` of ``provider``'s orders due at ``now``; return their ids.

        Claims orders whose due time is at or before ``now``, earliest first, and sets their
        due time to ``now + lease`` in the same atomic step, so that concurrent claimers (in
        any process) never get the same order until the lease runs out. Writing the order's
        record ends the lease; an order whose check failed comes back when it expires.
        """

    # -- the change log ----------------------------------------------------------------------

    def changes(self, after: int = 0, limit: int = 1000) -> list[StatusChange]:
        """Up to ``limit`` changes with ids above ``after``, in id (commit) order."""

    def last_change_id(self) -> int:
        """The highest change id stored so far (0 when there is none)."""

    def register_consumer(self, name: str) -> int:
        """Create the consumer ``name`` at position 0 if it does not exist; return its
        position (the highest change id it has acknowledged)."""

    def ack(self, name: str, change_id: int) -> int:
        """Move consumer ``name`` (created if needed) forward to ``change_id``; never back.
        Return its position."""

    def consumers(self) -> dict[str, int]:
        """Every consumer's position, by name."""

    def drop_consumer(self, name: str) -> bool:
        """Forget consumer ``name``; return whether it existed."""

    # -- retention ---------------------------------------------------------------------------

    def prune(self, before: dt.datetime) -> int:
        """Drop history entries recorded before ``before``; return how many were dropped.

        Never drops a change some consumer has not acknowledged (an id above the lowest
        consumer position); never touches an order's record, a cursor or a consumer.
        """

    def close(self) -> None:
        """Release the store's resources."""
