"""An in-process fake of Acme Print's API, as strict as the real one.

It checks the API key, answers orders, enforces the transition rules (``409`` otherwise),
keeps a change feed, and queues an ``order.updated`` webhook for every change, retried after
30 s, 5 min and 30 min when not answered ``200``; its clock moves on when advanced.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, ClassVar

import attrs
import httpx

from orderstatus.testing.sandbox import Sandbox

from .provider import AcmeProvider

__all__ = ["SANDBOX_ACCOUNT", "SANDBOX_API_KEY", "AcmeSandbox"]

SANDBOX_ACCOUNT = "acct_sandbox"
SANDBOX_API_KEY = "acme_sk_test+4/2=&Q"
"""Holds ``+ / = &`` on purpose, so tests see that the key is never shown encoded either."""


@attrs.define
class _Line:
    line_id: str
    status: str = "received"
    parcel: dict[str, str] | None = None


@attrs.define
class _Order:
    id: str
    lines: list[_Line]
    payment: str | None
    updated_at: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "payment": self.payment, "updated_at": self.updated_at,
                "lines": [attrs.asdict(line) for line in self.lines]}


# --8<-- [start:contract]
class AcmeSandbox(Sandbox):
    """Acme Print's orders, transitions, events and webhooks."""

    provider: ClassVar[str] = "acme"
    webhook_schedule: ClassVar[tuple[float, ...]] = (30.0, 300.0, 1800.0)
    webhook_attempts: ClassVar[int] = 4

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, _Order] = {}
        self.events: list[dict[str, Any]] = []

    def settings(self, base_url: str) -> dict[str, Any]:
        return {"account_id": SANDBOX_ACCOUNT, "api_key": SANDBOX_API_KEY,
                "base_url": base_url}
    # --8<-- [end:contract]

    # -- control ----------------------------------------------------------------------------

    def create_order(self, *, items: int = 1, payment: str | None = None,
                     **options: Any) -> str:
        """A new order with ``items`` lines in ``received``."""
        if options:
            raise TypeError(f"unknown order options: {', '.join(sorted(options))}")
        if payment is not None and payment not in AcmeProvider.payment_statuses:
            raise ValueError(f"unknown payment status {payment!r}")
        order_id = self.new_id("ac_")
        lines = [_Line(f"{order_id}-{n + 1}") for n in range(items)]
        self.orders[order_id] = _Order(order_id, lines, payment, self._now())
        self._changed(order_id)
        return order_id

    def set_status(self, order_id: str, status: str, *, items: Iterable[int] | None = None,
                   tracking_code: str | None = None, **details: Any) -> None:
        """Move every line (or the lines at ``items``) to ``status``."""
        if details:
            raise TypeError(f"unknown status details: {', '.join(sorted(details))}")
        if status not in AcmeProvider.native_statuses:
            raise ValueError(f"unknown status {status!r}")
        order = self.orders[order_id]
        for n in range(len(order.lines)) if items is None else items:
            line = order.lines[n]
            line.status = status
            if status == "shipped":
                code = tracking_code or f"ACME{order_id}{n}"
                line.parcel = {"carrier": "AcmePost", "tracking_code": code,
                               "tracking_url": f"https://track.acme-print.example/{code}"}
        self._changed(order_id)

    def _now(self) -> str:
        return self.clock.now().isoformat().replace("+00:00", "Z")

    def _changed(self, order_id: str) -> None:
        order = self.orders[order_id]
        order.updated_at = self._now()
        self.events.append({"sequence": len(self.events) + 1, "order": order.to_json()})
        self.notify(order_id)

    # --8<-- [start:notification]
    def webhook_notification(self, order_id: str) -> tuple[bytes, str, str]:
        body = json.dumps({"event": "order.updated", "order_id": order_id}).encode()
        return body, "application/json", ""
    # --8<-- [end:notification]

    # -- the API ----------------------------------------------------------------------------

    def route(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"ApiKey {SANDBOX_API_KEY}":
            return _error(401, "unauthorized", "invalid api key")
        parts = request.url.path.strip("/").split("/")
        try:
            at = parts.index("accounts")
        except ValueError:
            return _error(404, "not_found", "no such endpoint")
        if parts[at + 1:at + 2] != [SANDBOX_ACCOUNT]:
            return _error(403, "forbidden", "not your account")
        rest = parts[at + 2:]
        if request.method == "GET" and rest == ["events"]:
            return self._events(request.url.params.get("after", "0"))
        if len(rest) < 2 or rest[0] != "orders" or rest[1] not in self.orders:
            return _error(404, "not_found", "no such order")
        order = self.orders[rest[1]]
        if request.method == "GET" and len(rest) == 2:
            return self.json_response(200, {"order": order.to_json()})
        if request.method == "POST" and rest[2:] == ["transitions"]:
            return self._transition(order, request)
        return _error(404, "not_found", "no such endpoint")

    def _events(self, after: str) -> httpx.Response:
        if not after.isdigit():
            return _error(400, "bad_request", "after must be a sequence number")
        page = self.events[int(after):int(after) + 50]
        cursor = str(int(after) + len(page))
        return self.json_response(200, {"events": page, "next": cursor})

    def _transition(self, order: _Order, request: httpx.Request) -> httpx.Response:
        rules = AcmeProvider.update_rules
        assert rules is not None
        try:
            target = json.loads(request.content)["to"]
        except (ValueError, KeyError, TypeError):
            return _error(400, "bad_request", "body must be {\"to\": status}")
        if target not in rules.targets.values():
            return _error(409, "transition_not_allowed", f"cannot transition to {target}")
        blocking = sorted({line.status for line in order.lines} - rules.sources)
        if blocking:
            return _error(409, "transition_not_allowed",
                          f"lines in {', '.join(blocking)} cannot transition")
        self.set_status(order.id, target)
        return self.json_response(200, {"order": order.to_json()})


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})
