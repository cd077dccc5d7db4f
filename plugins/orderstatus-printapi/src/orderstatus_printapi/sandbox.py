"""An in-process fake of Print API (v2) for tests, demos and the ``orderstatus sandbox`` CLI.

It answers in the shapes of the answers recorded from Print API's test environment
(TokTok-dev/printapi-sdk, ``tests/Fixtures/Saloon/``, commit 871a7a6; the plugin's tests replay
them beside the sandbox). Endpoints, under any path ending in ``/v2/``
(:meth:`PrintApiSandbox.settings` points there):

- ``POST oauth``: client credentials (form body); wrong ones answer ``401 invalid_client``.
  Tokens expire ``token_lifetime`` seconds of sandbox clock after they are issued.
- ``GET orders/{id}``: the order. ``dateTime`` is its creation time; items carry
  ``files.content`` (and ``files.cover`` for products with one) with a file status; a
  ``checkout`` is ``{"amount", "setupUrl"}`` until the payment screen is set up, then also
  ``status`` and ``paymentUrl``.
- ``GET orders/{id}/status``: ``{"order": "Created"}``, with ``"payment"`` once set up.
- ``POST checkout/{code}``: sets the payment screen up (``{"returnUrl": …}``): the payment
  is ``Open`` and its link valid for ``payment_window`` seconds.
- ``GET sync/statuses?since=…``: ``{"since": <the since asked, echoed>, "results": [{"id",
  "status", "dateTime"}]}``, the order status changes strictly after ``since`` (all of them
  without it), oldest first, at most ``feed_page_size``.

Timestamps are Amsterdam wall-clock time without a zone, trailing zeros left out, as the
recorded answers show. Every order status or payment change queues a webhook (``orderId=…``,
form-encoded), retried after 2 min, 5 min, then every 60 min, 10 calls in all; file status
changes queue none (Print API documents webhooks for order and payment changes only). Pending
downloads are accepted ``download_delay`` seconds of sandbox clock after the order was placed;
payment links still ``Open`` ``payment_window`` seconds after they were set up expire: the
payment and the order become ``Cancelled``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import parse_qs, quote_plus

import attrs
import httpx

from orderstatus.testing.sandbox import Example, Sandbox, SandboxClock

from .statuses import (
    BLOCKING_FILE_STATUSES,
    CREATED,
    NATIVE_STATUSES,
    PAYMENT_FAILED,
    PAYMENT_STATUSES,
    WAITING_FILE_STATUSES,
)
from .timestamps import format_provider_time, parse_provider_time
from .webhook import FORM

__all__ = ["PrintApiSandbox", "SandboxCheckout", "SandboxFile", "SandboxItem", "SandboxOrder"]

FILE_STATUSES = (*WAITING_FILE_STATUSES, *BLOCKING_FILE_STATUSES)
"""DownloadPending, Accepted, AwaitingUpload, DownloadFailed."""
_ORDER_PATH = re.compile(r"orders/(?P<id>[^/]+)(?P<status>/status)?")
_CHECKOUT_PATH = re.compile(r"checkout/(?P<code>[^/]+)")
_FIRST_ORDER_ID = 11410410
_FIRST_ITEM_ID = 1804
_TICK = dt.timedelta(microseconds=1)
_PRODUCTS = (("boek_hc_a5_sta", 32, True), ("poster_a3_sta", 1, False))
"""``(productId, pageCount, has a cover)``, alternating over an order's items."""


@attrs.define
class SandboxCheckout:
    """The payment screen of one order."""

    amount: float
    code: str
    """The set-up code: ``setupUrl`` is ``{base}checkout/{code}``."""
    status: str | None = None
    """The payment status; ``None`` until the payment screen is set up."""
    set_up_at: dt.datetime | None = None
    payment_id: str = attrs.field(factory=lambda: secrets.token_urlsafe(12))
    return_url: str | None = None


@attrs.define
class SandboxFile:
    """One file of an item: its status and where Print API downloads it from."""

    status: str
    url: str


@attrs.define
class SandboxItem:
    """One item: a product, and its content file (and cover, for books)."""

    id: str
    product_id: str
    page_count: int
    content: SandboxFile
    cover: SandboxFile | None = None

    @property
    def files(self) -> tuple[SandboxFile, ...]:
        return (self.content, self.cover) if self.cover is not None else (self.content,)

    def to_json(self) -> dict[str, Any]:
        files = {"content": _file_json(self.content)}
        if self.cover is not None:
            files["cover"] = _file_json(self.cover)
        return {"id": self.id, "productId": self.product_id, "pageCount": self.page_count,
                "quantity": 1, "files": files, "options": []}


@attrs.define
class SandboxOrder:
    """One order as the sandbox keeps it."""

    id: str
    status: str
    created_at: dt.datetime
    """When it was placed (``dateTime`` in answers)."""
    changed_at: dt.datetime
    """When the status last changed (the feed's ``dateTime``)."""
    items: list[SandboxItem]
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
    """Seconds a payment link stays open (statuses page: up to 24 hours)."""
    download_delay: ClassVar[float] = 60.0
    """Seconds of sandbox clock until pending file downloads are accepted."""
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
        self._items = 0

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
        """Order statuses, ``Failed`` (a failed payment) and the blocking file statuses."""
        return tuple(NATIVE_STATUSES)

    def create_order(
        self, *, items: int = 1, checkout: bool = False, amount: float | None = None,
        email: str = "customer@example.com", order_id: str | None = None,
        payment: str | None = None, **options: Any,
    ) -> str:
        """Create a ``Created`` order of ``items`` items, files ``DownloadPending``.

        With ``checkout`` it has a payment screen, not set up yet (no payment status until
        :meth:`setup_checkout`, ``POST checkout/{code}`` or a payment is set); ``payment``
        (``Open``, …) gives it one already set up, in that status. ``order_id`` chooses its
        id (default: the next of ``11410411``, ``11410412``, …). Returns its id.
        """
        if options:
            raise TypeError(f"unknown order options: {', '.join(sorted(options))}")
        if not isinstance(items, int) or isinstance(items, bool) or items < 1:
            raise ValueError("an order needs at least one item")
        if order_id is not None and (not isinstance(order_id, str) or not order_id):
            raise ValueError("order_id must be a non-empty string")
        payment = _checked(payment, tuple(PAYMENT_STATUSES), "payment", False)
        with self.lock:
            if order_id in self.orders:
                raise ValueError(f"order {order_id!r} exists")
            order_id = order_id or str(_FIRST_ORDER_ID + int(self.new_id()))
            now = self._stamp()
            order = SandboxOrder(order_id, CREATED, now, now,
                                 [self._new_item(n) for n in range(items)], email)
            if checkout or payment is not None:
                price = round(14.51 * items, 2) if amount is None else float(amount)
                order.checkout = SandboxCheckout(price, secrets.token_urlsafe(15))
            self.orders[order_id] = order
            self.changes.append(FeedChange(now, order_id, order.status))
            if payment is not None:
                self.set_status(order_id, None, payment=payment)
            return order_id

    def set_status(
        self, order_id: str, status: str | None, *, items: Iterable[int] | None = None,
        payment: str | None = None, files: str | None = None,
        file_items: Iterable[int] | None = None, tracking_url: str | None = None,
        undocumented: bool = False, **details: Any,
    ) -> None:
        """Move an order so that it reads ``status``; at most one webhook for the change.

        Args:
            order_id: the order.
            status: an order status (``Created`` also clears what stopped it: files are
                accepted, a failed payment is open again), ``Failed`` (the order is
                ``Created`` and its payment failed; an order without a payment screen gets
                one), a blocking file status (``AwaitingUpload``, ``DownloadFailed``: every
                item's content file, and the order is ``Created``), or ``None``.
            items: refused: Print API items have no status of their own (use ``files``).
            payment: ``Open``, ``Successful``, ``Failed`` or ``Cancelled`` (needs a payment
                screen, and sets it up); a cancelled payment cancels the order too.
            files: any file status (``DownloadPending``, ``Accepted``, …) for the content
                files, without touching the order's status; ``file_items`` picks the items.
            file_items: positions (0-based) of the items ``files`` is set on (default: all).
            tracking_url: the carrier's page (default for ``Shipped``: a made-up PostNL one).
            undocumented: accept any status string, to test unknown statuses.
        """
        if details:
            raise TypeError(f"unknown status details: {', '.join(sorted(details))}")
        if items is not None:
            raise ValueError("print api items have no status of their own; set the order's, "
                             "or an item's file status with files= and file_items=")
        with self.lock:
            order = self.orders[order_id]
            status = _checked(status, tuple(NATIVE_STATUSES), "status", undocumented)
            payment = _checked(payment, tuple(PAYMENT_STATUSES), "payment", undocumented)
            files = _checked(files, FILE_STATUSES, "file status", undocumented)
            if status in BLOCKING_FILE_STATUSES:
                files, status = status, CREATED
            elif status == PAYMENT_FAILED:
                status, payment = CREATED, PAYMENT_FAILED
                if order.checkout is None:
                    order.checkout = SandboxCheckout(14.51, secrets.token_urlsafe(15))
                self._accept_files(order)
            elif status == CREATED:
                self._accept_files(order)
                if order.checkout is not None and order.checkout.status == PAYMENT_FAILED:
                    payment = payment or "Open"
            if file_items is not None and files is None:
                raise ValueError("file_items= picks the items of files=")
            if payment is not None and order.checkout is None:
                raise ValueError(f"order {order_id} has no checkout, so no payment status")
            if files is not None:
                for item in _chosen(order, file_items):
                    item.content.status = files
            if payment == "Cancelled" and status is None:
                status = "Cancelled"
            if status in ("Processing", "Shipped"):
                self._accept_files(order)
            if status == "Shipped":
                tracking_url = tracking_url or order.tracking_url or _tracking(order_id)
            self._change(order, status, payment, tracking_url)

    def set_payment(self, order_id: str, payment: str) -> None:
        """Set only the payment status (``Open``, ``Successful``, ``Failed``, ``Cancelled``)."""
        self.set_status(order_id, None, payment=payment)

    def setup_checkout(self, order_id: str, return_url: str = "https://shop.example/paid") -> None:
        """Set up the order's payment screen, as ``POST checkout/{code}`` does: ``Open``."""
        with self.lock:
            order = self.orders[order_id]
            if order.checkout is None:
                raise ValueError(f"order {order_id} has no checkout")
            self._setup(order, return_url)

    def webhook_notification(self, order_id: str) -> tuple[bytes, str, str]:
        return f"orderId={quote_plus(order_id)}".encode(), FORM, ""

    def seed_examples(self) -> list[Example]:
        """The orders the docs use: ``59802395`` in production (the README's), ``83432183``
        shipped and paid (a checkout order), and a new one, ``11410411``."""
        self.create_order(order_id="59802395", items=2)
        self.set_status("59802395", "Processing")
        self.create_order(order_id="83432183", checkout=True)
        self.set_status("83432183", "Shipped", payment="Successful")
        fresh = self.create_order()
        examples = []
        for order in (self.orders[i] for i in ("59802395", "83432183", fresh)):
            notes = [f"{len(order.items)} items"] if len(order.items) > 1 else []
            if order.checkout is not None and order.checkout.status is not None:
                notes.append(f"payment {order.checkout.status}")
            examples.append(Example(order.id, order.status, ", ".join(notes)))
        return examples

    def on_clock(self) -> None:
        """Accept pending downloads; expire payment links still open ``payment_window`` after
        they were set up."""
        now = self.clock.now()
        window = dt.timedelta(seconds=self.payment_window)
        for order in self.orders.values():
            if now >= order.created_at + dt.timedelta(seconds=self.download_delay):
                for item in order.items:
                    for file in item.files:
                        if file.status == "DownloadPending":
                            file.status = "Accepted"
            checkout = order.checkout
            if checkout is not None and checkout.status == "Open" and (
                checkout.set_up_at is not None and now >= checkout.set_up_at + window
            ):
                status = "Cancelled" if order.status in (CREATED, "Processing") else None
                self._change(order, status, "Cancelled", None)

    @property
    def tokens_issued(self) -> int:
        """Access tokens handed out so far."""
        with self.lock:
            return len(self.tokens)

    # -- state changes ----------------------------------------------------------------------

    def _stamp(self) -> dt.datetime:
        """Now, but strictly after the previous change (a real feed may tie; the plugin's
        cursor copes with both)."""
        self._last_stamp = max(self.clock.now(), self._last_stamp + _TICK)
        return self._last_stamp

    def _new_item(self, position: int) -> SandboxItem:
        self._items += 1
        product, pages, cover = _PRODUCTS[position % len(_PRODUCTS)]
        base = f"https://files.example/{_FIRST_ITEM_ID + self._items:05d}"
        return SandboxItem(
            f"{_FIRST_ITEM_ID + self._items:05d}", product, pages,
            SandboxFile("DownloadPending", f"{base}-content.pdf"),
            SandboxFile("DownloadPending", f"{base}-cover.pdf") if cover else None,
        )

    @staticmethod
    def _accept_files(order: SandboxOrder) -> None:
        for item in order.items:
            for file in item.files:
                file.status = "Accepted"

    def _setup(self, order: SandboxOrder, return_url: str) -> None:
        checkout = order.checkout
        assert checkout is not None
        checkout.return_url, checkout.set_up_at = return_url, self.clock.now()
        self._change(order, None, "Open", None)

    def _change(
        self, order: SandboxOrder, status: str | None, payment: str | None,
        tracking_url: str | None,
    ) -> None:
        changed = False
        if tracking_url is not None and tracking_url != order.tracking_url:
            order.tracking_url = tracking_url
        checkout = order.checkout
        if payment is not None and checkout is not None and checkout.status != payment:
            if checkout.set_up_at is None:
                checkout.set_up_at = self.clock.now()
            checkout.status, changed = payment, True
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
        base = self.public_url(request, f"{prefix}/v2/")
        checkout = _CHECKOUT_PATH.fullmatch(rest)
        if checkout is not None:
            return self._checkout(request, checkout["code"], base)
        if request.method != "GET":
            return self.json_response(405, {"error": "method not allowed"})
        if rest == "sync/statuses":
            return self._feed(request)
        match = _ORDER_PATH.fullmatch(rest)
        order = self.orders.get(match["id"]) if match else None
        if match is None or order is None:
            return self.json_response(404, {"error": "not found"})
        if match["status"]:
            answer = {"order": order.status}
            if order.checkout is not None and order.checkout.status is not None:
                answer["payment"] = order.checkout.status
            return self.json_response(200, answer)
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
            "access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime,
            "scope": "orders:place orders:track shipping:quote",
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

    def _checkout(self, request: httpx.Request, code: str, base: httpx.URL) -> httpx.Response:
        if request.method != "POST":
            return self.json_response(405, {"error": "method not allowed"})
        order = next((o for o in self.orders.values()
                      if o.checkout is not None and o.checkout.code == code), None)
        if order is None or order.checkout is None:
            return self.json_response(404, {"error": "not found"})
        try:
            body = json.loads(request.content)
        except (ValueError, UnicodeDecodeError):
            body = None
        return_url = body.get("returnUrl") if isinstance(body, dict) else None
        if not isinstance(return_url, str) or not 5 <= len(return_url) <= 512:
            return self.json_response(400, {"error": "returnUrl must be 5 to 512 characters"})
        if order.checkout.status not in (None, "Open", PAYMENT_FAILED):
            return self.json_response(
                400, {"error": f"the payment is {order.checkout.status}; it cannot be set up"}
            )
        self._setup(order, return_url)
        checkout = order.checkout
        return self.json_response(201, {
            "amount": checkout.amount, "status": checkout.status,
            "paymentUrl": str(base.join(f"payments/{checkout.payment_id}/start")),
            "returnUrl": return_url, "billing": body.get("billing"),
        })

    def _feed(self, request: httpx.Request) -> httpx.Response:
        asked = request.url.params.get("since")
        try:
            since = parse_provider_time(asked) if asked else None
        except ValueError:
            return self.json_response(400, {"error": "since is not a date and time"})
        page = [c for c in self.changes if since is None or c.at > since]
        return self.json_response(200, {"since": asked, "results": [
            {"id": c.order_id, "status": c.status, "dateTime": format_provider_time(c.at)}
            for c in page[: self.feed_page_size]
        ]})

    def _order_json(self, order: SandboxOrder, base: httpx.URL) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": order.id,
            "dateTime": format_provider_time(order.created_at),
            "status": order.status,
            "email": order.email,
            "productionSpeed": "Standard",
        }
        checkout = order.checkout
        if checkout is not None:
            data["checkout"] = {"amount": checkout.amount,
                                "setupUrl": str(base.join(f"checkout/{checkout.code}"))}
            if checkout.status is not None:
                data["checkout"]["status"] = checkout.status
                data["checkout"]["paymentUrl"] = str(
                    base.join(f"payments/{checkout.payment_id}/start")
                )
        data["items"] = [item.to_json() for item in order.items]
        data["shipping"] = {
            "method": {"name": "Brievenbuspakje", "isTrackable": True},
            "address": {"name": "J. Jansen", "line1": "Straat 1", "postCode": "1234 AB",
                        "city": "Amsterdam", "country": "NL"},
        }
        if order.tracking_url:
            data["trackingUrl"] = order.tracking_url
        data["invoice"] = _invoice(10.69 * len(order.items))
        data["invoicingState"] = "Included"
        return data


def _file_json(file: SandboxFile) -> dict[str, str]:
    key = "uploadUrl" if file.status == "AwaitingUpload" else "downloadUrl"
    return {"status": file.status, key: file.url}


def _invoice(production: float) -> dict[str, Any]:
    """An ``invoice`` shaped like the recorded one (9 % VAT on each part)."""

    def part(cost: float) -> dict[str, Any]:
        cost = round(cost, 2)
        taxes = [{"rate": 0.09, "amount": round(cost * 0.09, 2), "calculatedOver": cost}]
        return {"cost": cost, "taxes": taxes if cost else []}

    shipping, handling = 2.95, 0.87
    return {"production": part(production), "shipping": part(shipping),
            "handling": part(handling), "discount": part(0.0),
            "total": part(production + shipping + handling)}


def _chosen(order: SandboxOrder, positions: Iterable[int] | None) -> list[SandboxItem]:
    if positions is None:
        return list(order.items)
    chosen = list(positions)
    for position in chosen:
        if not isinstance(position, int) or not 0 <= position < len(order.items):
            raise ValueError(f"order {order.id!r} has no item at position {position!r}")
    return [order.items[p] for p in chosen]


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
