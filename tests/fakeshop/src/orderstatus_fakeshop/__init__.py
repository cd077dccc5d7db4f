"""A test-only provider: per-item statuses, update rules, payments, webhooks and a feed.

It is installed as a distribution with an ``orderstatus`` entry point, exactly like a third
party's plugin, so the core's tests exercise discovery as users get it. Its sandbox
(:mod:`.sandbox`) is registered by import path and imported on first use, as a plugin's should.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import httpx

import orderstatus
from orderstatus import (
    ActionReason,
    Capabilities,
    NativeStatus,
    OrderState,
    ParsedItem,
    ParsedOrder,
    PaymentState,
    Provider,
    QueryAuth,
    Secret,
    Tracking,
    UpdateRejectedError,
    UpdateRules,
)
from orderstatus.errors import InvalidWebhookError, WebhookContentTypeError

if TYPE_CHECKING:
    from .sandbox import FakeshopSandbox as FakeshopSandbox

API_KEY = "fake+key/with=reserved&chars"


@attrs.frozen
class FakeshopSettings:
    api_key: Secret
    base_url: str | None = None


@attrs.frozen
class _Item:
    id: str
    status: str
    tracking_url: str | None = None


@attrs.frozen
class _Order:
    id: str
    items: list[_Item]
    payment: str | None = None
    updated: str | None = None


class FakeshopProvider(Provider):
    name = "fakeshop"
    title = "Fakeshop"
    settings_class = FakeshopSettings
    default_base_url = "https://api.fakeshop.invalid/v1/"
    native_statuses: ClassVar[Mapping[str, NativeStatus]] = {
        "new": NativeStatus(OrderState.CREATED),
        "held": NativeStatus(OrderState.ON_HOLD),
        "bad_address": NativeStatus(OrderState.ACTION_REQUIRED, ActionReason.ADDRESS),
        "making": NativeStatus(OrderState.IN_PRODUCTION),
        "sent": NativeStatus(OrderState.SHIPPED),
        "arrived": NativeStatus(OrderState.DELIVERED),
        "void": NativeStatus(OrderState.CANCELLED),
        "trial": NativeStatus(OrderState.TEST),
    }
    payment_statuses: ClassVar[Mapping[str, PaymentState]] = {
        "due": PaymentState.OPEN,
        "paid": PaymentState.PAID,
    }
    update_rules = UpdateRules(
        frozenset({"new", "bad_address"}),
        {OrderState.CANCELLED: "void", OrderState.ON_HOLD: "held", OrderState.CREATED: "new"},
    )
    capabilities = Capabilities(fetch=True, update=True, webhook=True, feed=True)
    concurrency = 4

    def _params(self, **extra: str) -> dict[str, str]:
        return extra

    def auth(self) -> httpx.Auth:
        """The API key goes in the query string, added as each request is sent."""
        return QueryAuth({"key": self.settings.api_key})

    def build_fetch(self, order_id: str) -> httpx.Request:
        return httpx.Request("GET", self.url("orders", order_id, params=self._params()))

    def parse_fetch(self, order_id: str, response: httpx.Response) -> ParsedOrder:
        order = self.structure(order_id, self.json(order_id, response), _Order)
        return self._parsed(order, self.json(order_id, response))

    def _parsed(self, order: _Order, raw: Any) -> ParsedOrder:
        items = tuple(
            ParsedItem(i.id, i.status, (Tracking(url=i.tracking_url),) if i.tracking_url else ())
            for i in order.items
        )
        return ParsedOrder(order.id, items=items, native_payment=order.payment, raw=raw)

    def build_update(self, order_id: str, native_target: str) -> httpx.Request:
        return httpx.Request(
            "POST", self.url("orders", order_id, "status", params=self._params(to=native_target))
        )

    def parse_update(self, order_id: str, response: httpx.Response) -> None:
        answer = self.json(order_id, response)
        if answer.get("error"):
            raise UpdateRejectedError("provider rejected the update", messages=[answer["error"]])

    def parse_webhook(self, body: bytes, headers: httpx.Headers,
                      query: httpx.QueryParams) -> str:
        if headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise WebhookContentTypeError("webhook must be application/json", provider=self.name)
        try:
            order_id = json.loads(body)["order"]
        except (ValueError, KeyError, TypeError):
            raise InvalidWebhookError("webhook body has no order id", provider=self.name) from None
        if not isinstance(order_id, str):
            raise InvalidWebhookError("webhook order id is not a string", provider=self.name)
        return order_id

    def build_feed(self, since: str | None) -> httpx.Request:
        return httpx.Request("GET", self.url("changes", params=self._params(since=since or "0")))

    def parse_feed(self, since: str | None, response: httpx.Response
                   ) -> tuple[tuple[ParsedOrder, ...], str | None]:
        data = self.json(None, response)
        orders = self.structure(None, data["orders"], list[_Order])
        raws = data["orders"]
        return tuple(self._parsed(o, r) for o, r in zip(orders, raws, strict=True)), str(
            data["next"]
        )


@orderstatus.hookimpl
def orderstatus_register_providers(register: orderstatus.hookspecs.Register) -> None:
    register(FakeshopProvider, sandbox="orderstatus_fakeshop.sandbox:FakeshopSandbox")


def __getattr__(name: str) -> object:
    if name == "FakeshopSandbox":
        from .sandbox import FakeshopSandbox

        return FakeshopSandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
