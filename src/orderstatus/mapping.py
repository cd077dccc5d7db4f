"""Turning a provider's parsed answer into a canonical :class:`OrderStatus`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from .errors import UnmappedStatusError
from .lifecycle import ActionReason, OrderState, PaymentState, aggregate
from .models import ItemStatus, OrderStatus, Tracking, utcnow
from .provider import NativeStatus, ParsedOrder, Provider

__all__ = ["StatusMapper"]

_UNKNOWN = NativeStatus(OrderState.UNKNOWN)
Override = Callable[[str, str], "tuple[OrderState, ActionReason | None] | None"]


class StatusMapper:
    """Maps one provider's native statuses; total: every string gets a state (maybe unknown)."""

    def __init__(self, provider: type[Provider], override: Override | None = None) -> None:
        self.provider = provider
        self._key = provider.native_key
        self._table = {self._key(k): v for k, v in provider.native_statuses.items()}
        self._payments = {self._key(k): v for k, v in provider.payment_statuses.items()}
        self._override = override
        self._cache: dict[str, NativeStatus] = {}

    def native(self, native_status: str) -> NativeStatus:
        """Return where ``native_status`` lands; unknown strings land on ``unknown``."""
        cached = self._cache.get(native_status)
        if cached is not None:
            return cached
        mapped = self._table.get(self._key(native_status), _UNKNOWN)
        if self._override is not None:
            forced = self._override(self.provider.name, native_status)
            if forced is not None:
                mapped = NativeStatus(forced[0], forced[1], note="overridden by a plugin")
        if len(self._cache) < 4096:
            self._cache[native_status] = mapped
        return mapped

    def payment(self, native_payment: str) -> PaymentState | None:
        """Return the payment state of a native payment status, ``None`` if unknown."""
        return self._payments.get(self._key(native_payment))

    def to_status(
        self, parsed: ParsedOrder, *, strict: bool = False,
        observed_at: dt.datetime | None = None, partial: bool = False,
    ) -> OrderStatus:
        """Map ``parsed``; in ``strict`` mode an unmapped status raises UnmappedStatusError.

        ``partial`` marks a status that carries less than a whole order (a feed entry).
        """
        name = self.provider.name
        order_native = parsed.native_status
        order_mapped = self.native(order_native) if order_native is not None else None
        items = tuple(
            self._item(p.item_id, p.native_status, order_native, order_mapped, p.tracking)
            for p in parsed.items
        )
        if order_mapped is not None and order_native is not None:
            state, reason, native = order_mapped.state, order_mapped.reason, order_native
        else:
            state = aggregate(i.state for i in items)
            decider = next((i for i in items if i.state is state), items[0] if items else None)
            native = decider.native_status if decider else ""
            reason = decider.reason if decider else None
        payment = None
        if parsed.native_payment is not None:
            payment = self.payment(parsed.native_payment)
            if payment is None and strict:
                raise UnmappedStatusError(
                    f"unmapped payment status {parsed.native_payment!r}",
                    provider=name, order_id=parsed.order_id,
                    native_status=parsed.native_payment,
                )
        if strict:
            unmapped = next(
                (i.native_status for i in items if i.state is OrderState.UNKNOWN),
                native if state is OrderState.UNKNOWN else None,
            )
            if unmapped is not None:
                raise UnmappedStatusError(
                    f"unmapped status {unmapped!r}", provider=name,
                    order_id=parsed.order_id, native_status=unmapped,
                )
        return OrderStatus(
            provider=name,
            order_id=parsed.order_id,
            state=state,
            native_status=native,
            reason=reason,
            payment=payment,
            native_payment=parsed.native_payment,
            items=items,
            tracking=_unique(parsed.tracking + tuple(t for i in items for t in i.tracking)),
            provider_time=parsed.provider_time,
            observed_at=observed_at or utcnow(),
            raw=parsed.raw,
            partial=partial,
        )

    def _item(
        self, item_id: str, native: str | None, order_native: str | None,
        order_mapped: NativeStatus | None, tracking: tuple[Tracking, ...],
    ) -> ItemStatus:
        if native is None:
            mapped, native = order_mapped or _UNKNOWN, order_native or ""
        else:
            mapped = self.native(native)
        return ItemStatus(item_id, mapped.state, native, mapped.reason, tracking)


def _unique(tracking: tuple[Tracking, ...]) -> tuple[Tracking, ...]:
    return tuple(dict.fromkeys(tracking))
