"""The tracker: turns observations (fetches, webhooks, feeds) into changes, exactly once.

Observations arrive duplicated, late and out of order; :func:`reconcile` decides what one of
them means given the order's last applied observation, and :class:`Tracker` applies that
decision atomically in a :class:`~orderstatus.stores.Store` and announces the changes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from types import TracebackType

import attrs

from .lifecycle import OrderState, check_move
from .models import OrderStatus, StatusChange
from .plugins import Registry, default_registry
from .stores import HistoryEntry, MemoryStore, Outcome, Store

__all__ = ["Decision", "Tracker", "is_older", "reconcile"]

log = logging.getLogger("orderstatus.tracking")

_APPLIED = frozenset({Outcome.CHANGE, Outcome.ANOMALY, Outcome.DUPLICATE})
_REPEATS = frozenset({Outcome.DUPLICATE, Outcome.STALE})


@attrs.frozen
class Decision:
    """What one observation means for an order (see :func:`reconcile`)."""

    outcome: Outcome
    previous: OrderState | None
    """The order's state before the observation; ``None`` when it was not tracked."""
    skipped: tuple[OrderState, ...] = ()
    """For legal changes: the states the order passed through unseen."""

    @property
    def applies(self) -> bool:
        """Whether the observation becomes the order's current record."""
        return self.outcome in _APPLIED


def _compare(a: dt.datetime | None, b: dt.datetime | None) -> int:
    """-1, 0 or 1 as ``a`` is before, at or after ``b``; 0 when either is missing or they
    cannot be compared (one naive, one aware)."""
    if a is None or b is None:
        return 0
    try:
        return (a > b) - (a < b)
    except TypeError:
        return 0


def is_older(status: OrderStatus, than: OrderStatus) -> bool:
    """Whether ``status`` was true before ``than``.

    Compares the provider's own timestamps when both observations carry one, and
    ``observed_at`` otherwise (or when the provider's timestamps are equal).
    """
    by_provider = _compare(status.provider_time, than.provider_time)
    if by_provider:
        return by_provider < 0
    return _compare(status.observed_at, than.observed_at) < 0


def reconcile(current: OrderStatus | None, status: OrderStatus) -> Decision:
    """Decide what ``status`` means for an order whose last applied observation is ``current``.

    The rules, in order: an ``unknown`` state never moves an order; the first observation is
    a change from nothing; an observation older than ``current`` is stale; the same canonical
    state is a duplicate; a move the lifecycle allows is a change (with the states it
    skipped); any other move is applied anyway, as an anomaly (the provider is the truth).
    """
    previous = current.state if current is not None else None
    if status.state is OrderState.UNKNOWN:
        return Decision(Outcome.UNKNOWN, previous)
    if current is None or previous is None:
        return Decision(Outcome.CHANGE, None)
    if is_older(status, current):
        return Decision(Outcome.STALE, previous)
    if status.state is previous:
        return Decision(Outcome.DUPLICATE, previous)
    move = check_move(previous, status.state)
    return Decision(Outcome.CHANGE if move.legal else Outcome.ANOMALY, previous, move.skipped)


class Tracker:
    """Reconciles observations of orders into :class:`~orderstatus.StatusChange` events.

    Each :meth:`observe` is one atomic read-compare-write on the order's record in ``store``,
    so several threads (and, with :class:`~orderstatus.SQLiteStore`, several processes) may
    observe the same order at once and every change is still emitted exactly once. A change
    is announced after it is stored: to every ``orderstatus_status_changed`` hook of
    ``registry`` (default: the installed plugins), then to ``on_change``. Exceptions raised by
    either are logged and do not undo the change.

    Args:
        store: where records and history live (default: a new :class:`MemoryStore`).
        registry: whose hooks hear the changes (default: :func:`default_registry`).
        on_change: called with each change, after it is stored.
        keep_duplicates: record duplicate and stale observations in the history too
            (turn off for long polling runs, where they only add rows).
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        registry: Registry | None = None,
        on_change: Callable[[StatusChange], object] | None = None,
        keep_duplicates: bool = True,
    ) -> None:
        self.store: Store = store if store is not None else MemoryStore()
        self._registry = registry
        self._on_change = on_change
        self.keep_duplicates = keep_duplicates

    def record(self, status: OrderStatus) -> HistoryEntry:
        """Reconcile ``status`` and return its history entry (``seq`` 0 when not kept)."""
        with self.store.transaction(status.provider, status.order_id) as txn:
            decision = reconcile(txn.current, status)
            repeat = decision.outcome in _REPEATS
            entry = HistoryEntry(
                decision.outcome, attrs.evolve(status, raw={}) if repeat else status,
                decision.previous, decision.skipped,
            )
            if self.keep_duplicates or not repeat:
                entry = txn.append(entry)
            if decision.applies:
                txn.set_current(status)
        self._report(entry)
        return entry

    def observe(self, status: OrderStatus) -> StatusChange | None:
        """Reconcile one observation; return the change it makes, or ``None``.

        Duplicates and stale observations return ``None``; so does an ``unknown`` state,
        which is logged as a warning and kept in the history with its raw value.
        """
        return self.record(status).change

    async def arecord(self, status: OrderStatus) -> HistoryEntry:
        """:meth:`record` from an event loop (the store is used in a worker thread)."""
        return await asyncio.to_thread(self.record, status)

    async def aobserve(self, status: OrderStatus) -> StatusChange | None:
        """:meth:`observe` from an event loop (the store is used in a worker thread)."""
        return (await self.arecord(status)).change

    def _report(self, entry: HistoryEntry) -> None:
        status = entry.status
        if entry.outcome is Outcome.UNKNOWN:
            log.warning(
                "%s order %r: unmapped status %r; the order stays %s", status.provider,
                status.order_id, status.native_status, entry.previous or "untracked",
            )
        change = entry.change
        if change is None:
            return
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

    def current(self, provider: str, order_id: str) -> OrderStatus | None:
        """The order's last applied observation (``None`` when it is not tracked)."""
        return self.store.current(provider, order_id)

    def state(self, provider: str, order_id: str) -> OrderState | None:
        """The order's canonical state (``None`` when it is not tracked)."""
        current = self.current(provider, order_id)
        return current.state if current is not None else None

    def history(self, provider: str, order_id: str) -> list[HistoryEntry]:
        """Every recorded observation of the order and its outcome, oldest first."""
        return self.store.history(provider, order_id)

    def tracked(self, *, non_terminal: bool = False) -> list[OrderStatus]:
        """The current record of every tracked order (only the non-terminal ones if asked)."""
        return self.store.tracked(non_terminal=non_terminal)

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
