"""An in-process fake of Print API (v2) for tests, demos and the ``orderstatus sandbox`` CLI.

Endpoints, under any path ending in ``/v2/`` (:meth:`PrintApiSandbox.settings` points there):

- ``POST oauth``: client credentials (form body); wrong ones answer ``401 invalid_client``.
  Tokens expire ``token_lifetime`` seconds of sandbox clock after they are issued.
- ``GET orders/{id}``: the order, shaped as Print API documents it.
- ``GET orders/{id}/status``: ``{"order": "Created", "payment": "Open" | null}``.
- ``GET sync/statuses?since=…``: ``{"since": …, "results": [{"id", "status", "dateTime"}]}``,
  the order status changes strictly after ``since`` (all of them without it), oldest first, at
  most ``feed_page_size``; ``since`` in the answer is the newest ``dateTime`` returned (or the
  ``since`` asked for when nothing changed), to pass back as the next ``since``.

Every status or payment change queues a webhook (``orderId=…``, form-encoded), retried after
2 min, 5 min, then every 60 min, 10 calls in all. Payment links still ``Open`` 24 h of sandbox
clock after the order was created expire: the checkout and the order become ``Cancelled``.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote_plus

import attrs
import httpx

from orderstatus.testing.sandbox import Sandbox, SandboxClock

from .provider import PrintApiProvider
from .timestamps import format_provider_time, parse_provider_time
from .webhook import FORM

__all__ = ["PrintApiSandbox", "SandboxCheckout", "SandboxOrder"]

ORDER_STATUSES = tuple(PrintApiProvider.native_statuses)
"""Created, Processing, Shipped, Cancelled."""
PAYMENT_STATUSES = tuple(PrintApiProvider.payment_statuses)
"""Open, Successful, Cancelled."""
_ORDER_PATH = re.compile(r"orders/(?P<id>[^/]+)(?P<status>/status)?")
_FIRST_ORDER_ID = 83432182
_TICK = dt.timedelta(microseconds=1)


@attrs.define
class SandboxCheckout:
    """The payment screen of one order."""

    status: str
    amount: float
    created_at: dt.datetime
    payment_id: str


@attrs.define
class SandboxOrder:
    """One order as the sandbox keeps it."""

    id: str
    status: str
    changed_at: dt.datetime
    """When the status last changed (``dateTime`` in answers)."""
    items: list[dict[str, Any]]
    email: str
    checkout: SandboxCheckout | None = None
    tracking_url: str | None = None


@attrs.frozen
class FeedChange:
    """One entry of the change feed."""

    at: dt.datetime
    order_id: str
    status: str


class PrintApiSandbox(Sandbox):
    """Print API, faked in-process. See the module docstring for the endpoints."""

    provider = "printapi"
    webhook_schedule: ClassVar[tuple[float, ...]] = (120.0, 300.0, 3600.0)
    webhook_attempts: ClassVar[int] = 10
    payment_window: ClassVar[float] = 24 * 3600.0
    """Seconds a payment link stays open."""
    client_id: ClassVar[str] = "sandbox-client"
    client_secret: ClassVar[str] = "sandbox-s3cret+/=&key"

    def __init__(
        self, *, clock: SandboxClock | None = None, token_lifetime: float = 14399,
        feed_page_size: int = 100,
    ) -> None:
        super().__init__(clock=clock)
        self.token_lifetime = token_lifetime
        """Seconds an access token lives (Print API: about 4 hours)."""
        self.feed_page_size = feed_page_size
        self.orders: dict[str, SandboxOrder] = {}
        self.tokens: dict[str, dt.datetime] = {}
        """Every access token issued -> when it expires."""
        self.changes: list[FeedChange] = []
        self.refuse_tokens = False
        """When true, every API call answers 401, even with a fresh token."""
        self._last_stamp = self.clock.now() - _TICK

    # -- Sandbox interface ------------------------------------------------------------------

    def settings(self, base_url: str) -> dict[str, Any]:
        """Settings for a client of this sandbox served at ``base_url`` (API under ``v2/``)."""
        url = httpx.URL(base_url)
        if not url.path.endswith("/v2/"):
            url = url.join("v2/")
        return {
            "client_id": self.client_id, "client_secret": self.client_secret,
            "environment": "test", "base_url": str(url),
        }

    @property
    def statuses(self) -> tuple[str, ...]:
        return ORDER_STATUSES

    def create_order(
        self, *, items: int = 1, checkout: bool = False, amount: float | None = None,
        email: str = "customer@example.com", **options: Any,
    ) -> str:
        """Create a ``Created`` order with ``items`` items, with a payment screen if ``checkout``.

        Returns its id.
        """
        if options:
            raise TypeError(f"unknown order options: {', '.join(sorted(options))}")
        if not isinstance(items, int) or items < 1:
            raise ValueError("an order needs at least one item")
        with self.lock:
            order_id = str(_FIRST_ORDER_ID + int(self.new_id()))
            now = self._stamp()
            order = SandboxOrder(
                order_id, "Created", now, [_item(order_id, n) for n in range(1, items + 1)],
                email,
            )
            if checkout:
                price = round(12.95 * items, 2) if amount is None else float(amount)
                order.checkout = SandboxCheckout(
                    "Open", price, self.clock.now(), secrets.token_urlsafe(12)
                )
            self.orders[order_id] = order
            self.changes.append(FeedChange(now, order_id, order.status))
            return order_id

    def set_status(
        self, order_id: str, status: str | None, *, items: Iterable[int] | None = None,
        payment: str | None = None, tracking_url: str | None = None,
        undocumented: bool = False, **details: Any,
    ) -> None:
        """Set an order's status and/or its payment status; one webhook for the change.

        Args:
            order_id: the order.
            status: ``Created``, ``Processing``, ``Shipped`` or ``Cancelled`` (``None``: keep).
            items: refused: Print API items have no status of their own.
            payment: ``Open``, ``Successful`` or ``Cancelled`` (needs a checkout); a cancelled
                payment cancels the order too.
            tracking_url: the carrier's page (default for ``Shipped``: a made-up PostNL one).
            undocumented: accept any status string, to test unknown statuses.
        """
        if details:
            raise TypeError(f"unknown status details: {', '.join(sorted(details))}")
        if items is not None:
            raise ValueError("print api items have no status of their own; set the order's")
        with self.lock:
            order = self.orders[order_id]
            status = _checked(status, ORDER_STATUSES, "status", undocumented)
            payment = _checked(payment, PAYMENT_STATUSES, "payment", undocumented)
            if payment is not None and order.checkout is None:
                raise ValueError(f"order {order_id} has no checkout, so no payment status")
            if payment == "Cancelled" and status is None:
                status = "Cancelled"
            if status == "Shipped":
                tracking_url = tracking_url or order.tracking_url or _tracking(order_id)
            self._change(order, status, payment, tracking_url)

    def set_payment(self, order_id: str, payment: str) -> None:
        """Set only the payment status (``Open``, ``Successful``, ``Cancelled``)."""
        self.set_status(order_id, None, payment=payment)

    def webhook_notification(self, order_id: str) -> tuple[bytes, str, str]:
        return f"orderId={quote_plus(order_id)}".encode(), FORM, ""

    def on_clock(self) -> None:
        """Expire payment links still open ``payment_window`` after the order was created."""
        now = self.clock.now()
        window = dt.timedelta(seconds=self.payment_window)
        for order in self.orders.values():
            checkout = order.checkout
            if checkout is not None and checkout.status == "Open" and (
                now >= checkout.created_at + window
            ):
                status = "Cancelled" if order.status in ("Created", "Processing") else None
                self._change(order, status, "Cancelled", None)

    @property
    def tokens_issued(self) -> int:
        """Access tokens handed out so far."""
        with self.lock:
            return len(self.tokens)

    # -- state changes ----------------------------------------------------------------------

    def _stamp(self) -> dt.datetime:
        """Now, but strictly after the previous change, so feed cursors never tie."""
        self._last_stamp = max(self.clock.now(), self._last_stamp + _TICK)
        return self._last_stamp

    def _change(
        self, order: SandboxOrder, status: str | None, payment: str | None,
        tracking_url: str | None,
    ) -> None:
        changed = False
        if tracking_url is not None and tracking_url != order.tracking_url:
            order.tracking_url = tracking_url
        if payment is not None and order.checkout is not None and (
            order.checkout.status != payment
        ):
            order.checkout.status, changed = payment, True
        if status is not None and status != order.status:
            order.status, order.changed_at = status, self._stamp()
            self.changes.append(FeedChange(order.changed_at, order.id, status))
            changed = True
        if changed:
            self.notify(order.id)

    # -- the API ----------------------------------------------------------------------------

    def route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if "/v2/" not in path:
            return self.json_response(404, {"error": "not found"})
        prefix, rest = path.split("/v2/", 1)
        if rest == "oauth":
            return self._oauth(request)
        refused = self._check_token(request)
        if refused is not None:
            return refused
        if request.method != "GET":
            return self.json_response(405, {"error": "method not allowed"})
        if rest == "sync/statuses":
            return self._feed(request)
        match = _ORDER_PATH.fullmatch(rest)
        order = self.orders.get(match["id"]) if match else None
        if match is None or order is None:
            return self.json_response(404, {"error": "not found"})
        if match["status"]:
            payment = order.checkout.status if order.checkout else None
            return self.json_response(200, {"order": order.status, "payment": payment})
        base = request.url.copy_with(path=f"{prefix}/v2/", query=None)
        return self.json_response(200, self._order_json(order, base))

    def _oauth(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return self.json_response(405, {"error": "method not allowed"})
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != FORM:
            return self.json_response(400, {"error": "invalid_request"})
        form = parse_qs(request.content.decode("utf-8", "replace"), keep_blank_values=True)

        def one(name: str) -> str | None:
            values = form.get(name, [])
            return values[0] if len(values) == 1 else None

        if one("grant_type") != "client_credentials":
            return self.json_response(400, {"error": "unsupported_grant_type"})
        if (one("client_id"), one("client_secret")) != (self.client_id, self.client_secret):
            return self.json_response(401, {"error": "invalid_client"})
        token = secrets.token_urlsafe(24)
        self.tokens[token] = self.clock.now() + dt.timedelta(seconds=self.token_lifetime)
        return self.json_response(200, {
            "scope": "orders:place orders:track shipping:quote", "access_token": token,
            "token_type": "bearer", "expires_in": self.token_lifetime,
        })

    def _check_token(self, request: httpx.Request) -> httpx.Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expires = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expires is None or self.refuse_tokens:
            problem = "invalid_token"
        elif self.clock.now() >= expires:
            problem = "expired_token"
        else:
            return None
        return self.json_response(
            401, {"error": problem}, {"www-authenticate": f'Bearer error="{problem}"'}
        )

    def _feed(self, request: httpx.Request) -> httpx.Response:
        asked = request.url.params.get("since")
        try:
            since = parse_provider_time(asked) if asked else None
        except ValueError:
            return self.json_response(400, {"error": "since is not a date and time"})
        page = [c for c in self.changes if since is None or c.at > since]
        page = page[: self.feed_page_size]
        cursor = format_provider_time(page[-1].at) if page else (asked or None)
        return self.json_response(200, {"since": cursor, "results": [
            {"id": c.order_id, "status": c.status, "dateTime": format_provider_time(c.at)}
            for c in page
        ]})

    def _order_json(self, order: SandboxOrder, base: httpx.URL) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": order.id,
            "email": order.email,
            "status": order.status,
            "dateTime": format_provider_time(order.changed_at),
            "metadata": None,
            "items": order.items,
            "shipping": {
                "method": {"name": "Standaard", "isTrackable": True},
                "address": {"name": "J. Jansen", "line1": "Straat 1", "postCode": "1234 AB",
                            "city": "Amsterdam", "country": "NL"},
            },
        }
        if order.checkout is not None:
            pay = order.checkout.payment_id
            data["checkout"] = {
                "status": order.checkout.status, "amount": order.checkout.amount,
                "paymentUrl": str(base.join(f"payments/{pay}/start")),
                "setupUrl": str(base.join(f"checkout/{pay}")),
            }
        if order.tracking_url:
            data["trackingUrl"] = order.tracking_url
        return data


def _item(order_id: str, number: int) -> dict[str, Any]:
    return {
        "id": f"{order_id}-{number}", "productId": "kaart_rechthoek_a5_lig", "quantity": 1,
        "files": {"content": f"https://example.com/files/{order_id}-{number}.pdf"},
    }


def _tracking(order_id: str) -> str:
    return f"https://jouw.postnl.nl/track-and-trace/3SPRNT{order_id}-NL-1234AB"


def _checked(value: str | None, allowed: tuple[str, ...], what: str, anything: bool) -> str | None:
    """``value`` in its documented spelling (any case accepted); ``ValueError`` if unknown."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string")
    spelled = next((a for a in allowed if a.lower() == value.lower()), None)
    if spelled is None and not anything:
        raise ValueError(f"unknown {what} {value!r}; known: {', '.join(allowed)}")
    return spelled or value

