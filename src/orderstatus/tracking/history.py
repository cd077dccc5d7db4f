"""The tracker's vocabulary: what it made of each observation (:class:`Outcome`), the
:class:`HistoryEntry` a store keeps for it, and the :class:`OrderRecord` it keeps per order."""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from orderstatus.lifecycle import OrderState
from orderstatus.models import ChangeKind, OrderStatus, StatusChange, utcnow

__all__ = ["CHANGES", "HistoryEntry", "OrderRecord", "Outcome"]


class Outcome(str, enum.Enum):
    """What the tracker made of one observation."""

    CHANGE = "change"
    """Something a platform acts on changed (or the order was seen for the first time)."""
    ANOMALY = "anomaly"
    """The order made a move the lifecycle does not allow; applied, and flagged."""
    DUPLICATE = "duplicate"
    """Nothing a platform acts on changed; the stored snapshot is refreshed, nothing emitted."""
    STALE = "stale"
    """Older than the observation already applied; dropped."""
    UNKNOWN = "unknown"
    """The provider said something with no canonical mapping; the order does not move."""

    def __str__(self) -> str:
        return self.value


CHANGES = frozenset({Outcome.CHANGE, Outcome.ANOMALY})
"""The outcomes that emit a :class:`~orderstatus.StatusChange`."""


@attrs.frozen
class HistoryEntry:
    """One observation of one order, and what the tracker made of it.

    An entry that records a change (:attr:`change` is not ``None``) is also an entry of the
    store's change log: the change's id is the entry's ``seq``.
    """

    outcome: Outcome
    status: OrderStatus
    """For a change, an anomaly or a duplicate: the order's status once the observation was
    applied (the observation itself, completed from what was known if it was partial); for a
    stale or unknown observation: the observation. The raw payload is kept for changes,
    anomalies and unknowns; duplicates and stale observations are stored without it."""
    previous: OrderState | None = None
    """The order's state before this observation (``None``: not tracked yet)."""
    skipped: tuple[OrderState, ...] = ()
    """For state moves: states the order passed through unseen."""
    seq: int = 0
    """Position in the store, unique and increasing in commit order; assigned when stored."""
    recorded_at: dt.datetime = attrs.field(factory=utcnow)
    """When the tracker recorded it."""
    kinds: frozenset[ChangeKind] = frozenset()
    """For changes and anomalies: what changed."""
    previous_status: OrderStatus | None = None
    """For changes and anomalies: the status the change replaced, without its raw payload
    (``None`` for the first observation of an order)."""

    @property
    def change(self) -> StatusChange | None:
        """The :class:`StatusChange` this entry records, or ``None`` when it is not one."""
        if self.outcome not in CHANGES:
            return None
        status = self.status
        return StatusChange(
            status.provider, status.order_id, self.previous, status.state, self.skipped,
            self.outcome is Outcome.ANOMALY, status, self.kinds, self.previous_status,
            self.seq,
        )


@attrs.frozen
class OrderRecord:
    """What a store keeps for one tracked order besides its history."""

    status: OrderStatus
    """The order's last applied status, raw payload included."""
    changed_at: dt.datetime
    """When the order last changed: the ``observed_at`` of the observation that changed it."""
    due_at: dt.datetime | None
    """When the order is next due for a check; ``None``: never (it can no longer change)."""
