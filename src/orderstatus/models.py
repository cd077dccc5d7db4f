"""Value objects: what a status looks like once it is canonical."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

import attrs

from .errors import OrderStatusError
from .lifecycle import ActionReason, OrderState, PaymentState, is_terminal

__all__ = [
    "ChangeKind",
    "FeedPage",
    "FetchFailure",
    "ItemStatus",
    "OrderStatus",
    "RawPayload",
    "Secret",
    "StatusChange",
    "Tracking",
    "utcnow",
]


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


class Secret:
    """A credential: prints as ``***`` everywhere; call :meth:`reveal` to use it."""

    __slots__ = ("_value",)

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("a secret must be a string")
        self._value = value

    def reveal(self) -> str:
        """Return the secret's value, for the one place that must send it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> tuple[Any, ...]:
        raise TypeError("secrets are not pickled")


class RawPayload(dict[str, Any]):
    """A provider's answer as parsed JSON, which remembers the JSON text it was parsed from.

    It is the dict :func:`json.loads` made of :attr:`text` (and equal to it), so a store can
    keep that text as it arrived instead of writing the payload out again. Like every raw
    payload it is read, never changed.
    """

    __slots__ = ("text",)

    def __init__(self, data: Mapping[str, Any], text: str) -> None:
        super().__init__(data)
        self.text = text
        """The JSON text this payload was parsed from."""


@attrs.frozen
class Tracking:
    """One parcel's tracking information; any part may be missing."""

    carrier: str | None = None
    """Carrier name as the provider spells it."""
    number: str | None = None
    """Tracking number."""
    url: str | None = None
    """Tracking page URL."""


@attrs.frozen
class ItemStatus:
    """One line item's own status."""

    item_id: str
    """The provider's id for the item (or its position, where it has none)."""
    state: OrderState
    """Canonical state of this item."""
    native_status: str
    """The provider's status string, exactly as received."""
    reason: ActionReason | None = None
    """Why the item needs action, when ``state`` is ``action_required``."""
    tracking: tuple[Tracking, ...] = ()
    """Parcels this item travels in."""


@attrs.frozen
class OrderStatus:
    """One observation of one order, in the canonical vocabulary.

    ``state`` is always canonical; the provider's words are kept in ``native_status`` (and per
    item) and its whole answer in ``raw``.
    """

    provider: str
    """Provider name, e.g. ``"gooten"``."""
    order_id: str
    """The provider's order id."""
    state: OrderState
    """Canonical state (the aggregate of the items' states for per-item providers)."""
    native_status: str
    """Native status that decided ``state`` (for multi-item orders: the deciding item's)."""
    reason: ActionReason | None = None
    """Why the order needs action, when ``state`` is ``action_required``."""
    payment: PaymentState | None = None
    """Payment state, or ``None`` when the provider has no payment step for this order."""
    native_payment: str | None = None
    """Native payment status, exactly as received."""
    items: tuple[ItemStatus, ...] = ()
    """Every item's own status."""
    tracking: tuple[Tracking, ...] = ()
    """Every parcel of the order."""
    provider_time: dt.datetime | None = None
    """The provider's own timestamp for this status, when it gives one."""
    observed_at: dt.datetime = attrs.field(factory=utcnow)
    """When the request that produced this observation was sent (so an answer that was
    requested earlier but arrives later is older)."""
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    """The provider's payload, as parsed JSON (or form fields); a :class:`RawPayload` when it
    is an answer's whole body."""
    partial: bool = False
    """The observation carries less than a whole order (a change feed's entry: id, status,
    time): its empty ``payment``, ``tracking`` and ``items`` mean "not said", not "none", and
    the tracker keeps what it knew of them."""

    @property
    def is_terminal(self) -> bool:
        """Whether the order can no longer change."""
        return is_terminal(self.state)

    @property
    def native_statuses(self) -> tuple[str, ...]:
        """Every item's native status, or the order's own when it lists no items."""
        return tuple(i.native_status for i in self.items) or (self.native_status,)


class ChangeKind(str, enum.Enum):
    """What part of an order a :class:`StatusChange` is about."""

    STATE = "state"
    """The canonical state moved (or, within ``action_required``, its reason changed)."""
    PAYMENT = "payment"
    """The payment state changed (say open -> paid)."""
    TRACKING = "tracking"
    """A parcel's tracking (carrier, number or URL) was added, changed or removed."""
    ITEMS = "items"
    """An item's state (or reason) changed, or an item was added or removed."""

    def __str__(self) -> str:
        return self.value


_STATE_ONLY = frozenset({ChangeKind.STATE})


@attrs.frozen
class StatusChange:
    """What the tracker reports when something a platform acts on changed in an order.

    A state move fills ``previous``, ``current``, ``skipped`` and ``anomaly``; a change
    without one (a payment, a tracking number, one item of several) has ``previous ==
    current``. ``kinds`` says what changed.
    """

    provider: str
    order_id: str
    previous: OrderState | None
    """State before the change; ``None`` for the first observation of an order."""
    current: OrderState
    skipped: tuple[OrderState, ...]
    """States the order must have passed through unseen (created -> shipped: in_production)."""
    anomaly: bool
    """The move is not in the lifecycle table; applied because the provider is the truth."""
    status: OrderStatus
    """The order's status after the change: the observation that caused it (completed from
    what was known, for a partial one)."""
    kinds: frozenset[ChangeKind] = _STATE_ONLY
    """What changed; the first observation of an order counts as a change of everything it
    carries."""
    previous_status: OrderStatus | None = None
    """The status this change replaced (without its raw payload); ``None`` for the first
    observation of an order."""
    id: int = 0
    """The change's id in its store: unique, and increasing in commit order (0: not stored)."""


@attrs.frozen
class FetchFailure:
    """One order of a ``fetch_many`` that could not be fetched."""

    provider: str
    order_id: str
    error: OrderStatusError


@attrs.frozen
class FeedPage:
    """Statuses from a provider's change feed and the cursor to continue from."""

    provider: str
    statuses: tuple[OrderStatus, ...]
    cursor: str | None
    """Pass back as ``since`` to read on; ``None`` when the provider gave none."""
