"""The fakeshop sandbox: an in-process fake of fakeshop's API, as strict as its rules."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx

from orderstatus.testing.sandbox import Sandbox

from . import API_KEY, FakeshopProvider

__all__ = ["FakeshopSandbox"]


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
                   tracking_url: str | None = None, payment: str | None = None,
                   **details: Any) -> None:
        if status not in FakeshopProvider.native_statuses and not details.get("any"):
            raise ValueError(f"unknown status {status!r}")
        order = self.orders[order_id]
        if payment is not None:
            order["payment"] = payment
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
