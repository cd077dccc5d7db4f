"""A generic provider whose native statuses are the canonical names themselves.

The strategies use it when no provider is named, so tests that do not care about a provider's
vocabulary still get statuses built exactly as the client builds them. Its API is the
simplest one possible: ``GET orders/{id}`` answers ``{"status": …}`` or
``{"items": [{"id": …, "status": …}]}``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import httpx

from orderstatus.lifecycle import ActionReason, OrderState, PaymentState
from orderstatus.provider import NativeStatus, ParsedItem, ParsedOrder, Provider

__all__ = ["GenericProvider", "GenericSettings"]


@attrs.frozen
class GenericSettings:
    """Settings of the generic provider: only where it lives."""

    base_url: str | None = None


def _table() -> dict[str, NativeStatus]:
    table = {
        state.value: NativeStatus(state, note="the canonical name")
        for state in OrderState
        if state not in (OrderState.ACTION_REQUIRED, OrderState.UNKNOWN)
    }
    for reason in ActionReason:
        table[f"action_required.{reason.value}"] = NativeStatus(
            OrderState.ACTION_REQUIRED, reason, note="the canonical name and reason"
        )
    return table


class GenericProvider(Provider):
    """A provider speaking the canonical vocabulary (``action_required.address`` and so on)."""

    name: ClassVar[str] = "generic"
    title: ClassVar[str] = "Generic"
    settings_class: ClassVar[type[Any]] = GenericSettings
    default_base_url: ClassVar[str] = "https://generic.invalid/"
    native_statuses: ClassVar[dict[str, NativeStatus]] = _table()
    payment_statuses: ClassVar[dict[str, PaymentState]] = {p.value: p for p in PaymentState}

    def build_fetch(self, order_id: str) -> httpx.Request:
        """``GET orders/{id}``."""
        return httpx.Request("GET", self.base_url.join(f"orders/{order_id}"))

    def parse_fetch(self, order_id: str, response: httpx.Response) -> ParsedOrder:
        """Read ``status`` or ``items[].status``."""
        data = self.json(order_id, response)
        items = tuple(
            ParsedItem(str(item["id"]), item.get("status")) for item in data.get("items", ())
        )
        return ParsedOrder(order_id, native_status=data.get("status"), items=items, raw=data)
