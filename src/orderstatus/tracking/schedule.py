"""When each tracked order is checked next: the :class:`CheckPolicy`."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType

import attrs

from orderstatus.errors import ConfigurationError
from orderstatus.lifecycle import OrderState, is_terminal

__all__ = ["DEFAULT_LONGEST", "CheckPolicy"]

_S = OrderState
_OPEN = tuple(s for s in OrderState if s is not _S.UNKNOWN and not is_terminal(s))

DEFAULT_LONGEST: Mapping[OrderState, dt.timedelta] = MappingProxyType({
    _S.CREATED: dt.timedelta(hours=6),
    _S.ON_HOLD: dt.timedelta(hours=6),
    _S.ACTION_REQUIRED: dt.timedelta(hours=2),
    _S.IN_PRODUCTION: dt.timedelta(hours=6),
    _S.SHIPPED: dt.timedelta(hours=12),
})
"""The longest wait between two checks of an order, by state."""


def _longest(value: Mapping[OrderState, dt.timedelta]) -> Mapping[OrderState, dt.timedelta]:
    """The defaults, overridden by ``value``; states that never change are refused."""
    if not isinstance(value, Mapping):
        raise ConfigurationError("check policy: longest must map order states to timedeltas")
    merged = dict(DEFAULT_LONGEST)
    for state, wait in value.items():
        try:
            state = OrderState(state)
        except ValueError:
            raise ConfigurationError(
                f"check policy: {state!r} is not an order state"
            ) from None
        if state not in _OPEN:
            raise ConfigurationError(
                f"check policy: {state.value} orders are never checked; only "
                f"{', '.join(s.value for s in _OPEN)} take a longest wait"
            )
        merged[state] = wait
    return MappingProxyType(merged)


def _positive(name: str) -> Callable[[object, object, object], None]:
    def check(_: object, __: object, value: object) -> None:
        if not isinstance(value, dt.timedelta) or value <= dt.timedelta(0):
            raise ConfigurationError(f"check policy: {name} must be a positive timedelta")

    return check


def _growth(_: object, __: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        math.isfinite(value) and value >= 0
    ):
        raise ConfigurationError("check policy: growth must be a number, 0 or more")


@attrs.frozen
class CheckPolicy:
    """When the :class:`~orderstatus.Watcher` checks a tracked order next.

    An order is next due ``interval`` after its last observation's ``observed_at``, where
    ``interval`` grows with how long the order has been unchanged::

        interval = min(max(shortest, growth * unchanged_for), longest[state])

    ``unchanged_for`` runs from the observation that last changed the order to its last
    observation. With the defaults, an order that just changed is checked again 5 minutes
    later, one unchanged for an hour 15 minutes after it was last seen, and one unchanged
    for a day every 6 hours (every 2 hours in ``action_required``, every 12 once shipped).
    Terminal orders are never checked. An order last seen long ago is due at once.

    Attributes:
        shortest: the wait after a change (and the least wait ever).
        growth: how much of the time an order has been unchanged it waits for.
        longest: the longest wait, by state; given states override :data:`DEFAULT_LONGEST`.
    """

    shortest: dt.timedelta = attrs.field(
        default=dt.timedelta(minutes=5), validator=_positive("shortest")
    )
    growth: float = attrs.field(default=0.25, validator=_growth)
    longest: Mapping[OrderState, dt.timedelta] = attrs.field(
        default=DEFAULT_LONGEST, converter=_longest
    )

    def __attrs_post_init__(self) -> None:
        for state, wait in self.longest.items():
            if not isinstance(wait, dt.timedelta) or wait < self.shortest:
                raise ConfigurationError(
                    f"check policy: the longest wait for {state.value} orders must be a "
                    "timedelta no shorter than shortest"
                )

    def interval(self, state: OrderState, unchanged_for: dt.timedelta) -> dt.timedelta | None:
        """The wait before the next check of an order in ``state`` (``None``: never)."""
        ceiling = self.longest.get(state)
        if ceiling is None:
            return None
        return min(max(self.shortest, unchanged_for * self.growth), ceiling)

    def next_check(
        self, state: OrderState, changed_at: dt.datetime, observed_at: dt.datetime
    ) -> dt.datetime | None:
        """When an order in ``state``, last changed at ``changed_at`` and last observed at
        ``observed_at``, is due (``None``: never)."""
        try:
            unchanged_for = observed_at - changed_at
        except TypeError:  # one naive, one aware
            unchanged_for = dt.timedelta(0)
        wait = self.interval(state, unchanged_for)
        return None if wait is None else observed_at + wait
