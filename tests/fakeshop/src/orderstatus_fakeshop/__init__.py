"""A test-only provider: per-item statuses, update rules, payments, webhooks and a feed.

It is installed as a distribution with an ``orderstatus`` entry point, exactly like a third
party's plugin, so the core's tests exercise discovery as users get it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

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
    Secret,
    Tracking,
    UpdateRejectedError,
    UpdateRules,
)
from orderstatus.errors import InvalidWebhookError, WebhookContentTypeError
from orderstatus.testing.sandbox import Sandbox

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
        return {"key": self.settings.api_key.reveal(), **extra}

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


class FakeshopSandbox(Sandbox):
    provider = "fakeshop"
    webhook_schedule = (60.0, 600.0)
    webhook_attempts = 4

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, dict[str, Any]] = {}
        self.changes: list[str] = []
        self.reject_updates = False

    def settings(self, base_url: str) -> dict[str, Any]:
        """Settings for a client of this sandbox served at ``base_url`` (its API is under v1/)."""
        if not base_url.rstrip("/").endswith("/v1"):
            base_url = base_url.rstrip("/") + "/v1/"
        return {"api_key": API_KEY, "base_url": base_url}

    def create_order(self, *, items: int = 1, payment: str | None = None, **_: Any) -> str:
        order_id = self.new_id("F-")
        self.orders[order_id] = {
            "id": order_id, "payment": payment,
            "items": [{"id": f"{order_id}-{n}", "status": "new"} for n in range(items)],
        }
        self._changed(order_id)
        return order_id

    def set_status(self, order_id: str, status: str, *, items: Iterable[int] | None = None,
                   tracking_url: str | None = None, **details: Any) -> None:
        if status not in FakeshopProvider.native_statuses and not details.get("any"):
            raise ValueError(f"unknown status {status!r}")
        order = self.orders[order_id]
        chosen = range(len(order["items"])) if items is None else items
        for n in chosen:
            order["items"][n]["status"] = status
            if tracking_url:
                order["items"][n]["tracking_url"] = tracking_url
        self._changed(order_id)

    def _changed(self, order_id: str) -> None:
        self.changes.append(order_id)
        self.notify(order_id)

    def webhook_notification(self, order_id: str) -> tuple[bytes, str, str]:
        return json.dumps({"order": order_id}).encode(), "application/json", ""

    def route(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("key") != API_KEY:
            return self.json_response(401, {"error": "bad key"})
        parts = request.url.path.strip("/").split("/")[1:]
        if parts == ["changes"]:
            since = int(request.url.params.get("since", "0"))
            ids = list(dict.fromkeys(self.changes[since:]))
            return self.json_response(200, {"orders": [self.orders[i] for i in ids],
                                            "next": len(self.changes)})
        if len(parts) >= 2 and parts[0] == "orders":
            order = self.orders.get(parts[1])
            if order is None:
                return self.json_response(404, {"error": "no such order"})
            if request.method == "POST" and parts[2:] == ["status"]:
                target = request.url.params["to"]
                rules = FakeshopProvider.update_rules
                assert rules is not None
                movable = all(i["status"] in rules.sources for i in order["items"])
                if self.reject_updates or not movable or target not in rules.targets.values():
                    return self.json_response(200, {"error": "rejected by fakeshop"})
                self.set_status(parts[1], target)
                return self.json_response(200, {"error": None})
            if request.method == "GET" and len(parts) == 2:
                return self.json_response(200, order)
        return self.json_response(404, {"error": "no such endpoint"})


@orderstatus.hookimpl
def orderstatus_register_providers(register: orderstatus.hookspecs.Register) -> None:
    register(FakeshopProvider, sandbox=FakeshopSandbox)
