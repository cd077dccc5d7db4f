"""The parts of Gooten's JSON answers orderstatus reads, and how to read them.

Only what the status needs is modelled; every other key is tolerated and kept in ``raw``.
"""

from __future__ import annotations

from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from orderstatus import Tracking
from orderstatus.provider import excerpt

__all__ = [
    "GootenError",
    "GootenItem",
    "GootenOrder",
    "GootenShipment",
    "auth_refusal",
    "configure",
    "gooten_error",
    "had_error",
    "plain_message",
    "read_order",
]


@attrs.frozen
class GootenShipment:
    """One parcel: an entry of ``Items[].Shipments``, or the item's own tracking fields."""

    tracking_number: str | None = None
    tracking_url: str | None = None
    carrier: str | None = None

    def tracking(self) -> Tracking | None:
        """The parcel as a :class:`~orderstatus.Tracking`; ``None`` when it says nothing."""
        values = [v.strip() or None if v else None
                  for v in (self.carrier, self.tracking_number, self.tracking_url)]
        if not any(values):
            return None
        return Tracking(carrier=values[0], number=values[1], url=values[2])


@attrs.frozen
class GootenItem:
    """One entry of ``Items``."""

    status: str
    id: str | None = None
    """Gooten's item id when the answer carries one: ``OrderItemId``, else the
    ``OrderItemId`` of its ``Images`` (where Gooten's "Get Orders by ID" page shows it), else
    an ``Id``."""
    own: GootenShipment = GootenShipment()
    """``TrackingNumber``, ``TrackingUrl`` and ``ShipCarrierName`` of the item itself."""
    shipments: tuple[GootenShipment, ...] | None = ()
    """``Shipments``; Gooten may send ``null``."""

    def tracking(self) -> tuple[Tracking, ...]:
        """Every parcel of this item, the item's own fields first, without repeats."""
        found = (s.tracking() for s in (self.own, *(self.shipments or ())))
        return tuple(dict.fromkeys(t for t in found if t is not None))


@attrs.frozen
class GootenOrder:
    """A ``GET orders`` answer."""

    items: tuple[GootenItem, ...]


@attrs.frozen
class GootenError:
    """A ``{"HadError": true, …}`` answer: the provider's messages and reference code."""

    messages: tuple[str, ...]
    reference: str | None
    properties: tuple[str, ...]
    """``Errors[].PropertyName`` values, to tell a refused key from a refused update."""

    def describe(self) -> str:
        """The first messages (and the reference) as one line for an error's detail."""
        text = "; ".join(self.messages[:3]) or "no message given"
        return excerpt(f"{text} (reference {self.reference})" if self.reference else text)


def configure(converter: cattrs.Converter) -> None:
    """Teach ``converter`` Gooten's PascalCase keys and its habit of sending ``null``."""
    shipment = make_dict_structure_fn(
        GootenShipment, converter,
        tracking_number=override(rename="TrackingNumber"),
        tracking_url=override(rename="TrackingUrl"),
        carrier=override(rename="ShipCarrierName"),
    )
    order = make_dict_structure_fn(GootenOrder, converter, items=override(rename="Items"))

    def structure_shipment(value: Any, _: Any) -> GootenShipment:
        return shipment(_object(value, "a shipment"), GootenShipment)

    def structure_item(value: Any, _: Any) -> GootenItem:
        """One pass: the status, the id, the item's own tracking fields and its shipments."""
        status = _object(value, "an item").get("Status")
        if not isinstance(status, str):
            raise ValueError("an item's Status must be a string")
        listed = value.get("Shipments", [])
        _list_or_null(listed, "Shipments")
        return GootenItem(
            status, _item_id(value), shipment(value, GootenShipment),
            None if listed is None else tuple(structure_shipment(s, None) for s in listed),
        )

    def structure_order(value: Any, _: Any) -> GootenOrder:
        _list_or_null(_object(value, "the order").get("Items", ()), "Items")
        if "Items" in value and value["Items"] is None:
            value = {**value, "Items": []}
        return order(value, GootenOrder)

    converter.register_structure_hook(GootenShipment, structure_shipment)
    converter.register_structure_hook(GootenItem, structure_item)
    converter.register_structure_hook(GootenOrder, structure_order)


class _Unusual(Exception):
    """An answer :func:`read_order` leaves to the converter."""


def read_order(data: dict[str, Any]) -> GootenOrder | None:
    """``data`` as a :class:`GootenOrder` in one pass when it has the usual shape, else ``None``.

    For every answer it reads, the result is the one the converter :func:`configure` sets up
    would make (a property test holds it to that); anything else (a missing or mistyped field,
    an id sent as a number) is left to the converter, which either reads it or says what is
    wrong. It exists because walking the answer through the converter's hooks costs about as
    much as the ``json.loads`` before it, on every fetch.
    """
    listed = data.get("Items")
    if "Items" not in data or (listed is not None and type(listed) is not list):
        return None
    try:
        return GootenOrder(tuple(_read_item(item) for item in listed or ()))
    except _Unusual:
        return None


def _read_item(value: object) -> GootenItem:
    item = _plain_object(value)
    status, shipments = item.get("Status"), item.get("Shipments", [])
    if type(status) is not str or (shipments is not None and type(shipments) is not list):
        raise _Unusual
    return GootenItem(
        status, _item_id(item), _read_shipment(item),
        None if shipments is None else tuple(_read_shipment(_plain_object(s)) for s in shipments),
    )


def _read_shipment(fields: dict[str, Any]) -> GootenShipment:
    return GootenShipment(_text_or_none(fields.get("TrackingNumber")),
                          _text_or_none(fields.get("TrackingUrl")),
                          _text_or_none(fields.get("ShipCarrierName")))


def _plain_object(value: object) -> dict[str, Any]:
    if type(value) is not dict:
        raise _Unusual
    return value


def _text_or_none(value: object) -> str | None:
    if value is not None and type(value) is not str:
        raise _Unusual
    return value


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a json object, not {type(value).__name__}")
    return value


def _list_or_null(value: Any, what: str) -> None:
    if value is not None and not isinstance(value, list):
        raise ValueError(f"{what} must be a list, not {type(value).__name__}")


def _truthy(value: object) -> bool | None:
    """``HadError`` as a bool: the docs show ``"boolean"``, so ``"true"``/``"false"`` count."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _item_id(item: dict[str, Any]) -> str | None:
    """The item's id: its ``OrderItemId``, an image's ``OrderItemId``, or its ``Id``."""
    images = item.get("Images")
    from_images = (
        (i.get("OrderItemId") for i in images if isinstance(i, dict))
        if isinstance(images, list) else ()
    )
    for value in (item.get("OrderItemId"), *from_images, item.get("Id")):
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value.strip():
            return value
    return None


_MAX_MESSAGES = 10
_MAX_ENTRIES = 100
"""``Errors[]`` entries read; a huge list is not walked to its end."""


def _text(value: object) -> str | None:
    """A message from an error body: text only, a short excerpt (it ends up in messages)."""
    return (excerpt(value) or None) if isinstance(value, str) else None


def had_error(data: object) -> bool | None:
    """``True``/``False`` for an answer with a readable ``HadError``, ``None`` otherwise."""
    if not isinstance(data, dict) or "HadError" not in data:
        return None
    return _truthy(data["HadError"])


def gooten_error(data: object) -> GootenError | None:
    """The error an answer reports with ``"HadError": true``, or ``None``.

    ``Errors`` of any other shape than a list of objects, and messages that are not text,
    are left out rather than trusted.
    """
    if not isinstance(data, dict) or had_error(data) is not True:
        return None
    listed = data.get("Errors")
    errors = [e for e in listed[:_MAX_ENTRIES] if isinstance(e, dict)] if isinstance(
        listed, list) else []
    messages = [m for m in (_text(e.get("ErrorMessage")) for e in errors) if m]
    reference = data.get("ErrorReferenceCode")
    if isinstance(reference, int) and not isinstance(reference, bool):
        reference = str(reference)
    return GootenError(
        messages=tuple(messages[:_MAX_MESSAGES]),
        reference=_text(reference),
        properties=tuple(p for p in (_text(e.get("PropertyName")) for e in errors) if p),
    )


def auth_refusal(data: object) -> str | None:
    """The message of a ``{"Message": "… Invalid recipeId …"}`` answer, or ``None``."""
    message = plain_message(data)
    if message is not None and "invalidrecipeid" in "".join(message.split()).casefold():
        return message
    return None


def plain_message(data: object) -> str | None:
    """The ``Message`` of a ``{"Message": …}`` answer (ASP.NET's error shape), shortened."""
    return _text(data.get("Message")) if isinstance(data, dict) else None
