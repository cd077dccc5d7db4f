# --8<-- [start:imports]
"""Acme Print, described for orderstatus: its statuses, rules, requests and answers.

Acme Print is invented (it is the example of the orderstatus plugin tutorial), but
its API has the shape real ones have:

- ``GET  {base}accounts/{account}/orders/{id}``: the order; each line has its own ``status``,
  the order a ``payment`` status and an ``updated_at`` timestamp.
- ``POST {base}accounts/{account}/orders/{id}/transitions`` with ``{"to": status}``: changes
  every line's status, allowed only while every line is in ``received``, ``paused``,
  ``needs_artwork`` or ``needs_address``; refused with ``409``.
- ``GET  {base}accounts/{account}/events?after={cursor}``: a change feed of order snapshots.
- Webhooks: ``POST`` of ``{"event": "order.updated", "order_id": …}`` as JSON.
- Authentication: ``Authorization: ApiKey {api_key}`` on every call.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, ClassVar

import attrs
import httpx

from orderstatus import (
    ActionReason,
    Capabilities,
    InvalidWebhookError,
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

__all__ = ["AcmeProvider", "AcmeSettings"]

S = OrderState
# --8<-- [end:imports]


# --8<-- [start:settings]
@attrs.frozen
class AcmeSettings:
    """How to reach one Acme Print account."""

    account_id: str
    """The account, e.g. ``acct_8Jd2``; public, part of every URL."""
    api_key: Secret
    """The secret API key; sent in the ``Authorization`` header only."""
    base_url: str | None = None
    """Where the API lives (default: Acme's production API)."""
# --8<-- [end:settings]


# --8<-- [start:payloads]
@attrs.frozen
class _Parcel:
    carrier: str | None = None
    tracking_code: str | None = None
    tracking_url: str | None = None


@attrs.frozen
class _Line:
    line_id: str
    status: str
    parcel: _Parcel | None = None


@attrs.frozen
class _Order:
    id: str
    lines: list[_Line]
    payment: str | None = None
    updated_at: str | None = None


@attrs.frozen
class _Event:
    sequence: int
    order: _Order


@attrs.frozen
class _Events:
    events: list[_Event]
    next: str | None = None
# --8<-- [end:payloads]


# --8<-- [start:auth]
class _ApiKey(httpx.Auth):
    """``Authorization: ApiKey …`` on every request."""

    def __init__(self, key: Secret) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["authorization"] = f"ApiKey {self._key.reveal()}"
        yield request
# --8<-- [end:auth]


# --8<-- [start:tables]
class AcmeProvider(Provider):
    """Acme Print: per-line statuses, one update endpoint, webhooks and a change feed."""

    name: ClassVar[str] = "acme"
    title: ClassVar[str] = "Acme Print"
    settings_class: ClassVar[type[Any]] = AcmeSettings
    default_base_url: ClassVar[str] = "https://api.acme-print.example/v3/"
    native_statuses: ClassVar[dict[str, NativeStatus]] = {
        "received": NativeStatus(S.CREATED, note="accepted, not started"),
        "paused": NativeStatus(S.ON_HOLD, note="held by the merchant"),
        "needs_artwork": NativeStatus(S.ACTION_REQUIRED, ActionReason.ARTWORK),
        "needs_address": NativeStatus(S.ACTION_REQUIRED, ActionReason.ADDRESS),
        "printing": NativeStatus(S.IN_PRODUCTION),
        "packed": NativeStatus(S.IN_PRODUCTION, note="printed, waiting for the carrier"),
        "shipped": NativeStatus(S.SHIPPED),
        "delivered": NativeStatus(S.DELIVERED),
        "cancelled": NativeStatus(S.CANCELLED),
        "sample": NativeStatus(S.TEST, note="a test order, never produced"),
    }
    payment_statuses: ClassVar[dict[str, PaymentState]] = {
        "unpaid": PaymentState.OPEN,
        "paid": PaymentState.PAID,
        "refunded": PaymentState.REFUNDED,
        "voided": PaymentState.CANCELLED,
    }
    update_rules: ClassVar[UpdateRules | None] = UpdateRules(
        sources=frozenset({"received", "paused", "needs_artwork", "needs_address"}),
        targets={S.CANCELLED: "cancelled", S.ON_HOLD: "paused", S.CREATED: "received"},
    )
    capabilities: ClassVar[Capabilities] = Capabilities(
        fetch=True, update=True, webhook=True, feed=True
    )
    concurrency: ClassVar[int] = 8

    @classmethod
    def native_key(cls, native_status: str) -> str:
        """Acme's docs and dashboard spell statuses in several cases: compare casefolded."""
        return native_status.strip().casefold()

    def auth(self) -> httpx.Auth:
        return _ApiKey(self.settings.api_key)
    # --8<-- [end:tables]

    # --8<-- [start:fetch]
    def _url(self, path: str) -> httpx.URL:
        return self.base_url.join(f"accounts/{self.settings.account_id}/{path}")

    # -- fetch ------------------------------------------------------------------------------

    def build_fetch(self, order_id: str) -> httpx.Request:
        return httpx.Request("GET", self._url(f"orders/{order_id}"))

    def parse_fetch(self, order_id: str, response: httpx.Response) -> ParsedOrder:
        data = self.json(order_id, response)
        order = self.structure(order_id, data.get("order") if isinstance(data, dict) else None,
                               _Order)
        return _parsed(order, data)
    # --8<-- [end:fetch]

    # --8<-- [start:update]
    # -- update -----------------------------------------------------------------------------

    def build_update(self, order_id: str, native_target: str) -> httpx.Request:
        return httpx.Request("POST", self._url(f"orders/{order_id}/transitions"),
                             json={"to": native_target})

    def classify_error(self, order_id: str | None, response: httpx.Response) -> Exception | None:
        """A ``409`` is Acme refusing a transition: say what it said."""
        if response.status_code != 409:
            return None
        try:
            message = str(json.loads(response.content)["error"]["message"])
        except (ValueError, KeyError, TypeError):
            message = "no reason given"
        return UpdateRejectedError(f"acme refused the transition: {message}",
                                   messages=[message], provider=self.name, order_id=order_id)
    # --8<-- [end:update]

    # --8<-- [start:webhook]
    # -- webhooks ---------------------------------------------------------------------------

    def parse_webhook(self, body: bytes, headers: httpx.Headers,
                      query: httpx.QueryParams) -> str:
        """The ``order_id`` of an ``order.updated`` event (the body is never trusted further)."""
        if headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise InvalidWebhookError("acme webhooks are application/json", provider=self.name)
        try:
            event = json.loads(body)
            kind, order_id = event["event"], event["order_id"]
        except (ValueError, KeyError, TypeError):
            raise InvalidWebhookError("webhook body is not an acme event", provider=self.name
                                      ) from None
        if kind != "order.updated" or not isinstance(order_id, str):
            raise InvalidWebhookError(f"unexpected acme event {kind!r}", provider=self.name)
        return order_id
    # --8<-- [end:webhook]

    # --8<-- [start:feed]
    # -- feed -------------------------------------------------------------------------------

    def build_feed(self, since: str | None) -> httpx.Request:
        return httpx.Request("GET", self._url("events"), params={"after": since or "0"})

    def parse_feed(self, since: str | None, response: httpx.Response
                   ) -> tuple[tuple[ParsedOrder, ...], str | None]:
        data = self.json(None, response)
        page = self.structure(None, data, _Events)
        raws = [event["order"] for event in data["events"]]
        orders = tuple(_parsed(e.order, raw) for e, raw in zip(page.events, raws, strict=True))
        return orders, page.next
    # --8<-- [end:feed]


# --8<-- [start:helpers]
def _parsed(order: _Order, raw: Any) -> ParsedOrder:
    items = tuple(
        ParsedItem(line.line_id, line.status, _tracking(line.parcel)) for line in order.lines
    )
    return ParsedOrder(order.id, items=items, native_payment=order.payment,
                       provider_time=_time(order.updated_at), raw=raw)


def _tracking(parcel: _Parcel | None) -> tuple[Tracking, ...]:
    if parcel is None or not (parcel.tracking_code or parcel.tracking_url):
        return ()
    return (Tracking(parcel.carrier, parcel.tracking_code, parcel.tracking_url),)


def _time(text: str | None) -> dt.datetime | None:
    """``2026-01-01T12:00:00Z`` (Python 3.10's ``fromisoformat`` needs ``+00:00``)."""
    if not text:
        return None
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
# --8<-- [end:helpers]
