"""An in-process fake of Gooten's order API, for tests, demos and local development.

It answers ``GET v/5/source/api/orders/`` and ``POST orderstatus`` as Gooten documents them:
the recipe id on every call, the partner billing key on updates, statuses per item, and the
update rules enforced exactly (documented sources and targets, ``HadError`` otherwise).
Orders have the shape of "Get Orders by ID" (gooten.com/api-documentation): items carry no
``Id``; each item's id is the ``OrderItemId`` of its ``Images``.
Where Gooten's docs are silent the sandbox makes a choice and says so:

- a wrong recipe id answers ``401`` with ``{"Message": "Authorization has been denied for this
  request. Invalid recipeId."}`` (``auth_status`` changes the code);
- a refused update answers ``200`` with ``{"HadError": true, "ErrorReferenceCode": …,
  "Errors": [{"PropertyName", "ErrorMessage", "AttemptedValue"}]}``; a wrong billing key is
  such an error on ``PartnerBillingKey``;
- an unknown order id on ``GET`` answers ``404`` with a ``HadError`` body (``400`` when the id
  is missing);
- webhooks: one ``POST`` per item update, to the subscribed url with the order id appended
  (Gooten's urls end in ``?orderid=``), body = the order as ``GET`` shows it, delivered again
  after 1 and 5 minutes when not answered ``200`` (Gooten documents no schedule).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import attrs
import httpx

from orderstatus.testing.sandbox import Example, Sandbox, SandboxClock

from .statuses import NATIVE_STATUSES, UNMAPPED, native_key

__all__ = [
    "DOCUMENTED_SOURCES",
    "DOCUMENTED_TARGETS",
    "GootenSandbox",
    "SANDBOX_PARTNER_BILLING_KEY",
    "SANDBOX_RECIPE_ID",
]

SANDBOX_RECIPE_ID = "sandbox-recipe-5f2e9c"
SANDBOX_PARTNER_BILLING_KEY = "sb+Pbk/9x=Q&r%2F7=="
"""Holds ``+ / = & %`` on purpose, so every test exercises the key's URL encoding."""

# Gooten's "Update Order Status" page, verbatim.
DOCUMENTED_SOURCES = (
    "AccountingIssue", "AddressIssue", "HoldByCIImageIssue", "ImageIssue",
    "NeedsManualApproval", "New", "ReadyForAccounting", "ReadyForImageDl", "Pending",
)
DOCUMENTED_TARGETS = ("Cancelled", "New", "Test", "Hold")

_SHIPPING = frozenset(native_key(s) for s in ("Shipped", "Delivered"))
"""Statuses that come with tracking (an item ``Out For Delivery`` waits for the courier,
and gets its tracking number once collected: Gooten's article on status meanings)."""
_KNOWN = frozenset(native_key(s) for s in (*NATIVE_STATUSES, *UNMAPPED))
_TRACKING_KEYS = frozenset({"number", "url", "carrier"})


@attrs.define
class _Item:
    id: int
    sku: str
    product_id: int
    status: str
    shipments: list[dict[str, str | None]] = attrs.field(factory=list)

    def to_json(self, source_id: str) -> dict[str, Any]:
        """The item as "Get Orders by ID" documents it: no id of its own, the item's id in
        its images' ``OrderItemId``."""
        last = self.shipments[-1] if self.shipments else {}
        image = f"https://images.example/{self.id}"
        return {
            "Sku": self.sku, "ProductId": self.product_id, "Product": "Sandbox Prints",
            "Quantity": 1, "Status": self.status,
            "TrackingNumber": last.get("TrackingNumber") or "",
            "TrackingUrl": last.get("TrackingUrl") or "",
            "ShipCarrierName": last.get("ShipCarrierName") or "",
            "Price": _money(12.5), "DiscountAmount": _money(0.0), "SourceId": source_id,
            "Meta": {},
            "Shipments": [dict(s) for s in self.shipments],
            "Images": [{"SourceUrl": f"{image}.png", "SpaceId": "0",
                        "ThumbnailUrl": f"{image}-thumb.png", "OrderItemId": self.id}],
        }


@attrs.define
class _Order:
    id: str
    nice_id: str
    source_id: str
    gooten_id: int
    items: list[_Item]

    def to_json(self) -> dict[str, Any]:
        address = {
            "FirstName": "Ada", "LastName": "Lovelace", "Line1": "1 Sandbox Street",
            "City": "Hempstead", "State": "NY", "PostalCode": "11550", "CountryCode": "US",
            "Email": "ada@example.com", "Phone": "5555555555",
        }
        return {
            "Id": self.id, "NiceId": self.nice_id, "SourceId": self.source_id,
            "GootenId": self.gooten_id,
            "Items": [i.to_json(self.source_id) for i in self.items],
            "Total": _money(12.5 * len(self.items)), "ShippingTotal": _money(4.0),
            "DiscountAmount": _money(0.0),
            "ShippingAddress": address, "BillingAddress": address,
            "Meta": {},
        }


def _money(amount: float) -> dict[str, Any]:
    """A price as Gooten writes one."""
    return {"Price": amount, "CurrencyCode": "USD", "FormattedPrice": f"${amount:,.2f}",
            "CurrencyFormat": "${1}", "CurrencyDigits": 2}


class GootenSandbox(Sandbox):
    """Gooten's order API, in process. Serve it with ``asgi()`` or use ``transport()``."""

    provider = "gooten"
    webhook_schedule = (60.0, 300.0)
    webhook_attempts = 3

    def __init__(
        self, *, recipe_id: str = SANDBOX_RECIPE_ID,
        partner_billing_key: str = SANDBOX_PARTNER_BILLING_KEY,
        clock: SandboxClock | None = None, seed: int = 0,
    ) -> None:
        super().__init__(clock=clock)
        self.recipe_id = recipe_id
        self.partner_billing_key = partner_billing_key
        self.auth_status = 401
        """HTTP status of the answer to a wrong recipe id."""
        self.orders: dict[str, _Order] = {}
        self._random = random.Random(seed)

    def settings(self, base_url: str) -> dict[str, Any]:
        """Settings for a client of this sandbox served at ``base_url``."""
        return {
            "recipe_id": self.recipe_id,
            "partner_billing_key": self.partner_billing_key,
            "base_url": base_url,
        }

    # -- control ----------------------------------------------------------------------------

    def create_order(
        self, *, items: int = 1, test_mode: bool = False, status: str | None = None,
        order_id: str | None = None, source_id: str | None = None, **options: Any,
    ) -> str:
        """Create an order of ``items`` items, all ``New`` (``Test`` in test mode).

        Args:
            items: how many items (1 to 50).
            test_mode: place it as ``IsInTestMode``: its items show ``Test``.
            status: another starting status for every item.
            order_id: the order's id (default: Gooten-like ``7-<uuid>``).
            source_id: the partner's own id (default: ``source-<n>``).
        """
        if options:
            raise TypeError(f"unknown order options: {', '.join(sorted(options))}")
        if not 1 <= int(items) <= 50:
            raise ValueError("an order has 1 to 50 items")
        start = self._checked(status or ("Test" if test_mode else "New"))
        with self.lock:
            number = int(self.new_id())
            oid = order_id or f"{number}-{uuid.UUID(int=self._random.getrandbits(128), version=4)}"
            if oid in self.orders:
                raise ValueError(f"order {oid!r} exists")
            self.orders[oid] = _Order(
                id=oid, nice_id=f"Sandbox{number}-{oid[-3:]}",
                source_id=source_id or f"source-{number}", gooten_id=1_000_000 + number,
                items=[
                    _Item(id=number * 100 + n, sku=f"SANDBOX-SKU-{n + 1}",
                          product_id=1000 + n, status=start)
                    for n in range(int(items))
                ],
            )
        return oid

    def set_status(
        self, order_id: str, status: str, *, items: Iterable[int] | None = None,
        tracking: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
        unchecked: bool = False, **details: Any,
    ) -> None:
        """Move items (positions, default all) to ``status``; each moved item notifies.

        Args:
            order_id: the order.
            status: a Gooten status; spelling variants (``In Production``) are kept as given.
            items: 0-based positions of the items to move (default: every item).
            tracking: ``{"number", "url", "carrier"}`` (or a list of them) to add as shipments.
                Moving to Shipped or Delivered without tracking invents one parcel for items
                that have none; pass ``[]`` to prevent it.
            unchecked: accept any string, to test statuses Gooten never documented.
        """
        if details:
            raise TypeError(f"unknown status details: {', '.join(sorted(details))}")
        if not unchecked:
            self._checked(status)
        parcels = _parcels(tracking)
        with self.lock:
            order = self.orders[order_id]
            positions = range(len(order.items)) if items is None else list(items)
            for position in positions:
                if not isinstance(position, int) or not 0 <= position < len(order.items):
                    raise ValueError(f"order {order_id!r} has no item at position {position!r}")
            for position in positions:
                item = order.items[position]
                item.status = status
                if parcels is None and native_key(status) in _SHIPPING and not item.shipments:
                    item.shipments.append(self._invented_parcel(order, position))
                item.shipments.extend(dict(p) for p in parcels or ())
                self.notify(order_id)

    def seed_examples(self) -> list[Example]:
        """The orders the docs use: ``7-501853e1-8d78-4e1e-83a0-be9fb432efe1``, two items
        in production (the README's), and a new one."""
        readme = self.create_order(order_id="7-501853e1-8d78-4e1e-83a0-be9fb432efe1", items=2,
                                   status="InProduction")
        fresh = self.create_order()
        examples = []
        for order in (self.orders[readme], self.orders[fresh]):
            statuses = list(dict.fromkeys(i.status for i in order.items))
            note = f"{len(order.items)} items" if len(order.items) > 1 else ""
            examples.append(Example(order.id, ", ".join(statuses), note))
        return examples

    @staticmethod
    def _checked(status: str) -> str:
        if not isinstance(status, str) or native_key(status) not in _KNOWN:
            raise ValueError(f"{status!r} is not a gooten status (pass unchecked=True to force)")
        return status

    @staticmethod
    def _invented_parcel(order: _Order, position: int) -> dict[str, str | None]:
        number = f"1ZSANDBOX{order.gooten_id}{position:02d}"
        return {
            "TrackingNumber": number, "ShipCarrierName": "UPS",
            "TrackingUrl": f"https://www.ups.com/track?tracknum={number}",
        }

    # -- webhooks ---------------------------------------------------------------------------

    def webhook_notification(self, order_id: str) -> tuple[bytes, str, str] | None:
        """The whole order as JSON, to the subscribed url with the id appended."""
        url = self.webhooks.url
        if url is None:
            return None
        body = json.dumps(self.orders[order_id].to_json()).encode()
        encoded = quote(order_id, safe="")
        if url.endswith(("?orderid=", "&orderid=")):
            suffix = encoded
        else:
            suffix = ("&" if "?" in url else "?") + f"orderid={encoded}"
        return body, "application/json", suffix

    # -- the API ----------------------------------------------------------------------------

    def route(self, request: httpx.Request) -> httpx.Response:
        """Answer one Gooten API request."""
        params = request.url.params
        if _param(params, "recipeid") != self.recipe_id:
            return self.json_response(
                self.auth_status,
                {"Message": "Authorization has been denied for this request. Invalid recipeId."},
            )
        path = request.url.path.rstrip("/")
        if request.method == "GET" and path.endswith("/v/5/source/api/orders"):
            return self._get_order(params)
        if request.method == "POST" and path.endswith("/orderstatus"):
            return self._update(params)
        return self.json_response(
            404, {"Message": "No HTTP resource was found that matches the request URI."}
        )

    def _get_order(self, params: httpx.QueryParams) -> httpx.Response:
        oid = _param(params, "id")
        if not oid:
            return self._had_error("Id", "Id is required.", status=400)
        order = self.orders.get(oid)
        if order is None:
            return self._had_error("Id", "Order not found.", attempted=oid, status=404)
        return self.json_response(200, order.to_json())

    def _update(self, params: httpx.QueryParams) -> httpx.Response:
        if _param(params, "partnerBillingKey") != self.partner_billing_key:
            return self._had_error("PartnerBillingKey", "Invalid partnerBillingKey.")
        oid = _param(params, "id")
        order = self.orders.get(oid or "")
        if order is None:
            return self._had_error("Id", "Order not found.", attempted=oid or "")
        target = _param(params, "orderStatusName") or ""
        if target not in DOCUMENTED_TARGETS:
            return self._had_error(
                "OrderStatusName",
                f"Order status can only be set to {', '.join(DOCUMENTED_TARGETS)}.",
                attempted=target,
            )
        sources = {native_key(s) for s in DOCUMENTED_SOURCES}
        blocking = sorted({i.status for i in order.items if native_key(i.status) not in sources})
        if blocking:
            return self._had_error(
                "OrderStatusName",
                f"Order status cannot be updated while items are in {', '.join(blocking)}.",
                attempted=target,
            )
        self.set_status(order.id, target)
        return self.json_response(200, {"HadError": False})

    def _had_error(
        self, prop: str, message: str, *, attempted: str = "", status: int = 200
    ) -> httpx.Response:
        reference = str(uuid.UUID(int=self._random.getrandbits(128), version=4))
        return self.json_response(status, {
            "HadError": True, "ErrorReferenceCode": reference,
            "Errors": [{"PropertyName": prop, "ErrorMessage": message,
                        "AttemptedValue": attempted}],
        })


def _param(params: httpx.QueryParams, name: str) -> str | None:
    """A query parameter by case-insensitive name (ASP.NET binds them so); first one wins."""
    wanted = name.casefold()
    return next((v for k, v in params.multi_items() if k.casefold() == wanted), None)


def _parcels(
    tracking: Mapping[str, str] | Sequence[Mapping[str, str]] | None,
) -> list[dict[str, str | None]] | None:
    if tracking is None:
        return None
    given = [tracking] if isinstance(tracking, Mapping) else list(tracking)
    parcels = []
    for parcel in given:
        if not isinstance(parcel, Mapping) or not set(parcel) <= _TRACKING_KEYS:
            raise ValueError(f"tracking takes {', '.join(sorted(_TRACKING_KEYS))}")
        parcels.append({
            "TrackingNumber": parcel.get("number"), "TrackingUrl": parcel.get("url"),
            "ShipCarrierName": parcel.get("carrier"),
        })
    return parcels
