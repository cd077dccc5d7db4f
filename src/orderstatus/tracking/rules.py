"""Reconciliation: what one observation means, given the order's last applied observation.

Pure functions, no store: :func:`reconcile` decides, :func:`complete` fills in what a partial
observation does not carry, and :func:`changed_kinds` says what a platform would act on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from orderstatus.lifecycle import OrderState, check_move
from orderstatus.models import ChangeKind, ItemStatus, OrderStatus

from .history import Outcome

__all__ = ["Decision", "changed_kinds", "complete", "is_older", "reconcile"]

_APPLIED = frozenset({Outcome.CHANGE, Outcome.ANOMALY, Outcome.DUPLICATE})


@attrs.frozen
class Decision:
    """What one observation means for an order (see :func:`reconcile`)."""

    outcome: Outcome
    previous: OrderState | None
    """The order's state before the observation; ``None`` when it was not tracked."""
    skipped: tuple[OrderState, ...] = ()
    """For legal state moves: the states the order passed through unseen."""
    kinds: frozenset[ChangeKind] = frozenset()
    """For changes and anomalies: what changed."""
    applied: OrderStatus | None = None
    """What becomes the order's record when the observation applies (the observation,
    completed from the record where it is partial); ``None`` when it does not apply."""

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

    Each observation is dated by when its status is known to have been true: the provider's
    own timestamp (when the status became true) where it gives one, else ``observed_at`` (when
    the request was sent: the answer is at least that recent). So a feed entry dated before a
    fetch was sent is older than that fetch, and a fetch sent after it is newer. Equal dates
    fall back to ``observed_at``.
    """
    by_date = _compare(_known_true_at(status), _known_true_at(than))
    if by_date:
        return by_date < 0
    return _compare(status.observed_at, than.observed_at) < 0


def _known_true_at(status: OrderStatus) -> dt.datetime | None:
    return status.provider_time if status.provider_time is not None else status.observed_at


def _moved_with_order(items: tuple[ItemStatus, ...], record: OrderStatus,
                      status: OrderStatus) -> tuple[ItemStatus, ...]:
    """The record's items after a partial ``status``: items that only echoed the order's own
    status (providers whose items have none, like Print API) follow it; others are kept."""
    echoed = all(
        i.state is record.state and i.native_status == record.native_status for i in items
    )
    if not echoed:
        return items
    return tuple(
        attrs.evolve(i, state=status.state, native_status=status.native_status,
                     reason=status.reason)
        for i in items
    )


def complete(status: OrderStatus, record: OrderStatus | None) -> OrderStatus:
    """``status`` with what it does not say taken from ``record``, the order's last status.

    A partial observation keeps the record's payment, tracking and items when it carries
    none (items that merely echoed the order's status move with it). A payment status the
    provider's table does not map never moves the payment, as an unknown state never moves
    the order.
    """
    if record is None:
        return status
    changes: dict[str, Any] = {}
    unmapped_payment = status.native_payment is not None and status.payment is None
    if (unmapped_payment and record.payment is not None) or (
        status.partial and status.native_payment is None
    ):
        changes.update(payment=record.payment, native_payment=record.native_payment)
    if status.partial:
        if not status.tracking:
            changes["tracking"] = record.tracking
        if not status.items:
            changes["items"] = _moved_with_order(record.items, record, status)
        changes["partial"] = record.partial
    return attrs.evolve(status, **changes) if changes else status


def _item_states(status: OrderStatus) -> list[tuple[str, str, str | None]]:
    return sorted((i.item_id, i.state.value, i.reason and i.reason.value) for i in status.items)


def _in_step(status: OrderStatus) -> bool:
    """Whether every item shows just the order's own state (and reason)."""
    return all(i.state is status.state and i.reason is status.reason for i in status.items)


def _items_changed(before: OrderStatus, after: OrderStatus) -> bool:
    """Items were added or removed, or one moved in a way the order's state does not show."""
    if [(i.item_id, i.state, i.reason) for i in before.items] == [
        (i.item_id, i.state, i.reason) for i in after.items
    ]:  # the same items in the same order, none moved: the usual case, without sorting
        return False
    if sorted(i.item_id for i in before.items) != sorted(i.item_id for i in after.items):
        return True
    if _in_step(before) and _in_step(after):  # the order's state says it all (cheaper first)
        return False
    return _item_states(before) != _item_states(after)


def changed_kinds(before: OrderStatus | None, after: OrderStatus) -> frozenset[ChangeKind]:
    """What a platform would act on between two statuses of one order.

    ``state``: the canonical state, or the reason of an ``action_required`` order;
    ``payment``: the payment state; ``tracking``: the set of parcels (carrier, number, URL);
    ``items``: the set of items, or an item's state or reason where the order's state does
    not say it all (when every item shows just the order's state before and after, as with
    Print API, whose items have no status of their own, ``state`` is the whole change).
    Against no status at all (the order's first observation), everything ``after`` carries
    has changed.
    """
    if before is None:
        first = {ChangeKind.STATE}
        if after.payment is not None:
            first.add(ChangeKind.PAYMENT)
        if after.tracking:
            first.add(ChangeKind.TRACKING)
        if not _in_step(after):
            first.add(ChangeKind.ITEMS)
        return frozenset(first)
    kinds = set()
    if before.state is not after.state or before.reason is not after.reason:
        kinds.add(ChangeKind.STATE)
    if before.payment is not after.payment:
        kinds.add(ChangeKind.PAYMENT)
    if before.tracking != after.tracking and set(before.tracking) != set(after.tracking):
        kinds.add(ChangeKind.TRACKING)
    if _items_changed(before, after):
        kinds.add(ChangeKind.ITEMS)
    return frozenset(kinds)


def reconcile(current: OrderStatus | None, status: OrderStatus) -> Decision:
    """Decide what ``status`` means for an order whose last applied observation is ``current``.

    The rules, in order: an ``unknown`` state never moves an order; the first observation is
    a change from nothing; an observation older than ``current`` is stale; one that changes
    nothing a platform acts on (see :func:`changed_kinds`; partial observations completed by
    :func:`complete` first) is a duplicate; a state move the lifecycle allows, or a change
    that keeps the state, is a change; any other state move is applied anyway, as an anomaly
    (the provider is the truth).
    """
    if status.state is OrderState.UNKNOWN:
        return Decision(Outcome.UNKNOWN, current.state if current is not None else None)
    if current is None:
        return Decision(Outcome.CHANGE, None, kinds=changed_kinds(None, status), applied=status)
    previous = current.state
    if is_older(status, current):
        return Decision(Outcome.STALE, previous)
    applied = complete(status, current)
    kinds = changed_kinds(current, applied)
    if not kinds:
        return Decision(Outcome.DUPLICATE, previous, applied=applied)
    if applied.state is previous:
        return Decision(Outcome.CHANGE, previous, kinds=kinds, applied=applied)
    move = check_move(previous, applied.state)
    outcome = Outcome.CHANGE if move.legal else Outcome.ANOMALY
    return Decision(outcome, previous, move.skipped, kinds, applied)
