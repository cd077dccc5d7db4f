"""What :func:`~orderstatus.testing.strategies.status_histories` draws (no Hypothesis needed)."""

from __future__ import annotations

import attrs

from orderstatus.lifecycle import OrderState
from orderstatus.models import OrderStatus

__all__ = ["StatusHistory"]


@attrs.frozen
class StatusHistory:
    """One order's life as a provider lived it, and as its observations arrived.

    ``truth`` is the order's life, in the order it happened: each step is a change a
    platform acts on; where the state moves, successive states satisfy
    :func:`orderstatus.lifecycle.can_transition` (other steps change the payment, the
    tracking or one item's state), and timestamps (``provider_time`` when set, and
    ``observed_at``) strictly increase along it.
    ``observations`` is what a tracker receives, in delivery order: the steps, plus any
    duplicates, unknown statuses and reordering that were asked for. Every observation of a
    step keeps its timestamps, so the true order can always be recovered by sorting.
    """

    provider: str
    """Provider name of every observation."""
    order_id: str
    """The one order every observation is about."""
    truth: tuple[OrderStatus, ...]
    """The order's life, oldest first (never contains ``unknown``)."""
    observations: tuple[OrderStatus, ...]
    """What arrives, in delivery order."""

    @property
    def final(self) -> OrderStatus:
        """The last status of the order's life: where a correct tracker ends up."""
        return self.truth[-1]

    @property
    def states(self) -> tuple[OrderState, ...]:
        """The canonical state at each step of the order's life, oldest first."""
        return tuple(status.state for status in self.truth)
