"""The :class:`Tracker`: observations in, changes out, each once, kept in a store."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, overload

import attrs

from orderstatus.lifecycle import OrderState
from orderstatus.models import OrderStatus, StatusChange
from orderstatus.plugins import Registry, default_registry

from .consumers import Consumer, check_limit, check_position
from .groups import GroupWriter, lock_order
from .history import CHANGES, HistoryEntry, OrderRecord, Outcome
from .rules import Decision, is_older, reconcile
from .schedule import CheckPolicy

if TYPE_CHECKING:
    from orderstatus.stores.base import Store, Transaction

__all__ = ["Tracker"]

log = logging.getLogger("orderstatus.tracking")

_REPEATS = frozenset({Outcome.DUPLICATE, Outcome.STALE})
_PAGE = 1000


def _without_raw(status: OrderStatus | None) -> OrderStatus | None:
    if status is None or not status.raw:
        return status
    return attrs.evolve(status, raw={})


class Tracker:
    """Reconciles observations of orders into :class:`~orderstatus.StatusChange` events.

    Each :meth:`observe` is one atomic read-compare-write on the order's record in ``store``,
    so several threads (and, with :class:`~orderstatus.SQLiteStore`, several processes; with
    :class:`~orderstatus.PostgresStore`, several machines) may observe the same order at
    once and every change is still emitted exactly once. Every change is kept in the store's
    change log, which :meth:`changes` and named :meth:`consumer`\\ s read durably. Once
    stored, a change is also announced, in this process and best effort: to every
    ``orderstatus_status_changed`` hook of ``registry`` (default: the installed plugins),
    then to ``on_change``; exceptions raised by either are logged and do not undo the change.

    Args:
        store: where records, history and the change log live (default: a new
            :class:`~orderstatus.MemoryStore`).
        registry: whose hooks hear the changes (default: :func:`default_registry`).
        on_change: called with each change, after it is stored.
        keep_duplicates: also keep duplicate and stale observations in the history (off by
            default: a polling sweep would add one per open order per check).
        check_policy: when each order is next due for a check by a
            :class:`~orderstatus.Watcher` (default: :class:`CheckPolicy`\\ ``()``).
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        registry: Registry | None = None,
        on_change: Callable[[StatusChange], object] | None = None,
        keep_duplicates: bool = False,
        check_policy: CheckPolicy | None = None,
    ) -> None:
        if store is None:
            from orderstatus.stores.memory import MemoryStore

            store = MemoryStore()
        self.store: Store = store
        self._registry = registry
        self._on_change = on_change
        self.keep_duplicates = keep_duplicates
        self.check_policy = check_policy if check_policy is not None else CheckPolicy()
        self._groups = GroupWriter(self)

    # -- observing ---------------------------------------------------------------------------

    def record(self, status: OrderStatus) -> HistoryEntry:
        """Reconcile ``status`` and return its history entry (``seq`` 0 when not kept)."""
        return self._record(status)[0]

    def _record(self, status: OrderStatus) -> tuple[HistoryEntry, StatusChange | None]:
        with self.store.transaction(status.provider, status.order_id) as txn:
            entry = self._apply(txn, status)
        return entry, self._report(entry)

    def record_many(self, statuses: Iterable[OrderStatus]) -> list[HistoryEntry]:
        """:meth:`record` each status, all in one commit (:meth:`Store.batch`); announce the
        changes once it is durable. Nothing is stored if one of them fails.

        The orders are written, and their changes announced, in :func:`.groups.lock_order`
        (so that batches sharing orders never deadlock); the entries come back in the order
        of ``statuses``.
        """
        statuses = list(statuses)
        order, written = lock_order(statuses), {}
        with self.store.batch():
            for i in order:
                with self.store.transaction(statuses[i].provider, statuses[i].order_id) as txn:
                    written[i] = self._apply(txn, statuses[i])
        for i in order:
            self._report(written[i])
        return [written[i] for i in range(len(statuses))]

    def observe(self, status: OrderStatus) -> StatusChange | None:
        """Reconcile one observation; return the change it makes, or ``None``.

        Duplicates and stale observations return ``None``; so does an ``unknown`` state,
        which is logged as a warning and kept in the history with its raw value.
        """
        with self.store.transaction(status.provider, status.order_id) as txn:
            entry = self._apply(txn, status, unkept=False)
        return None if entry is None else self._report(entry)

    async def arecord(self, status: OrderStatus) -> HistoryEntry:
        """:meth:`record` from an event loop: the store is used in a worker thread, and
        observations arriving together (from any loop) are written as one batch, one commit,
        each answered once it is durable (:mod:`orderstatus.tracking.groups`)."""
        return (await self._groups.record(status))[0]

    async def arecord_many(self, statuses: Iterable[OrderStatus]) -> list[HistoryEntry]:
        """:meth:`record_many` from an event loop (the store is used in a worker thread)."""
        return await asyncio.to_thread(self.record_many, list(statuses))

    async def aobserve(self, status: OrderStatus) -> StatusChange | None:
        """:meth:`observe` from an event loop (written as :meth:`arecord` writes)."""
        return (await self._groups.record(status))[1]

    @overload
    def _apply(self, txn: Transaction, status: OrderStatus) -> HistoryEntry: ...

    @overload
    def _apply(self, txn: Transaction, status: OrderStatus, *,
               unkept: bool) -> HistoryEntry | None: ...

    def _apply(self, txn: Transaction, status: OrderStatus, *,
               unkept: bool = True) -> HistoryEntry | None:
        """Decide, append the history entry and write the record, in ``txn``; return the
        entry (``None`` for a duplicate or stale one that is not kept, unless ``unkept``:
        :meth:`observe` has no use for it)."""
        record = txn.record
        current = record.status if record is not None else None
        decision = reconcile(current, status)
        outcome = decision.outcome
        repeat = outcome in _REPEATS
        entry: HistoryEntry | None = None
        if unkept or self.keep_duplicates or not repeat:
            shown = decision.applied if decision.applied is not None else status
            entry = HistoryEntry(
                outcome, attrs.evolve(shown, raw={}) if repeat else shown,
                decision.previous, decision.skipped, kinds=decision.kinds,
                previous_status=_without_raw(current) if outcome in CHANGES else None,
            )
            if self.keep_duplicates or not repeat:
                entry = txn.append(entry)
        self._schedule(txn, decision, status)
        return entry

    def _schedule(self, txn: Transaction, decision: Decision, status: OrderStatus) -> None:
        """Write the order's new record when the observation applies; when an unknown status
        was a check all the same, only make the order due again later."""
        policy, record, applied = self.check_policy, txn.record, decision.applied
        if applied is not None:
            changed_at = (
                applied.observed_at if record is None or decision.kinds else record.changed_at
            )
            due = policy.next_check(applied.state, changed_at, applied.observed_at)
            txn.write(OrderRecord(applied, changed_at, due))
        elif (record is not None and decision.outcome is Outcome.UNKNOWN
              and not is_older(status, record.status)):
            txn.reschedule(policy.next_check(record.status.state, record.changed_at,
                                             status.observed_at))

    def _report(self, entry: HistoryEntry) -> StatusChange | None:
        """Log what needs a look and announce the change ``entry`` records; return it."""
        status = entry.status
        if entry.outcome is Outcome.UNKNOWN:
            log.warning(
                "%s order %r: unmapped status %r; the order stays %s", status.provider,
                status.order_id, status.native_status, entry.previous or "untracked",
            )
        change = entry.change
        if change is None:
            return None
        if change.anomaly:
            log.warning(
                "%s order %r moved %s -> %s, which the lifecycle does not allow; applied",
                change.provider, change.order_id, change.previous, change.current,
            )
        (self._registry or default_registry()).notify(change)
        if self._on_change is not None:
            try:
                self._on_change(change)
            except Exception:
                log.exception("on_change callback failed for %s order %r",
                              change.provider, change.order_id)
        return change

    # -- the change log ----------------------------------------------------------------------

    def changes(self, after: int = 0, limit: int = 1000) -> list[StatusChange]:
        """Up to ``limit`` stored changes with ids above ``after``, in commit order."""
        return self.store.changes(check_position("after", after), check_limit(limit))

    def last_change_id(self) -> int:
        """The id of the newest stored change (0 when there is none)."""
        return self.store.last_change_id()

    def consumer(self, name: str) -> Consumer:
        """The consumer ``name`` of the change log (created, at the oldest change, if new)."""
        return Consumer(self.store, name)

    def consumers(self) -> dict[str, int]:
        """Every consumer's acknowledged position, by name."""
        return self.store.consumers()

    def drop_consumer(self, name: str) -> bool:
        """Forget consumer ``name`` (it no longer holds back :meth:`prune`); return whether
        it existed."""
        return self.store.drop_consumer(name)

    def prune(self, before: dt.datetime) -> int:
        """Drop history recorded before ``before``; return how many entries were dropped.

        Changes a consumer has not acknowledged are kept (with no consumer at all, old
        changes go too); orders' current records are never touched.
        """
        if not isinstance(before, dt.datetime):
            raise TypeError(f"before must be a datetime, not {type(before).__name__}")
        return self.store.prune(before)

    # -- queries -----------------------------------------------------------------------------

    def current(self, provider: str, order_id: str) -> OrderStatus | None:
        """The order's last applied observation (``None`` when it is not tracked)."""
        return self.store.current(provider, order_id)

    def state(self, provider: str, order_id: str) -> OrderState | None:
        """The order's canonical state (``None`` when it is not tracked)."""
        current = self.current(provider, order_id)
        return current.state if current is not None else None

    def history(self, provider: str, order_id: str) -> list[HistoryEntry]:
        """Every kept observation of the order and its outcome, oldest first."""
        return self.store.history(provider, order_id)

    def iter_tracked(self, *, non_terminal: bool = False) -> Iterator[OrderStatus]:
        """The current record of every tracked order, read page by page (only the
        non-terminal ones if asked)."""
        after = None
        while True:
            page = self.store.orders(after=after, limit=_PAGE, non_terminal=non_terminal)
            yield from page
            if len(page) < _PAGE:
                return
            after = (page[-1].provider, page[-1].order_id)

    def tracked(self, *, non_terminal: bool = False) -> list[OrderStatus]:
        """The current record of every tracked order, as a list (see :meth:`iter_tracked`)."""
        return list(self.iter_tracked(non_terminal=non_terminal))

    def count(self, *, non_terminal: bool = False) -> int:
        """How many orders are tracked (only the non-terminal ones if asked)."""
        return self.store.count(non_terminal=non_terminal)

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> Tracker:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Tracker {self.store!r}>"
