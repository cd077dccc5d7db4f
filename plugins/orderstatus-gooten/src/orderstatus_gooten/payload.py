"""The parts of Gooten's JSON answers orderstatus reads, and how to read them.

Only what the status needs is modelled; every other key is tolerated and kept in ``raw``.
"""

from __future__ import annotations

from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from orderstatus import Tracking

__all__ = [
    "GootenError",
    "GootenItem",
    "GootenOrder",
    "GootenShipment",
    "auth_refusal",
    "configure",
    "gooten_error",
    "had_error",
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
    id: Any = None
    """Gooten's item id, when the answer carries one (a number or a string)."""
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
        """The messages (and reference) as one line for an error's detail."""
        text = "; ".join(self.messages) or "no message given"
        return f"{text} (reference {self.reference})" if self.reference else text


def configure(converter: cattrs.Converter) -> None:
    """Teach ``converter`` Gooten's PascalCase keys and its habit of sending ``null``."""
    shipment = make_dict_structure_fn(
        GootenShipment, converter,
        tracking_number=override(rename="TrackingNumber"),
        tracking_url=override(rename="TrackingUrl"),
        carrier=override(rename="ShipCarrierName"),
    )
    item = make_dict_structure_fn(
        GootenItem, converter,
        status=override(rename="Status"), id=override(rename="Id"),
        own=override(omit=True), shipments=override(rename="Shipments"),
    )
    order = make_dict_structure_fn(GootenOrder, converter, items=override(rename="Items"))

    def structure_shipment(value: Any, _: Any) -> GootenShipment:
        return shipment(_object(value, "a shipment"), GootenShipment)

    def structure_item(value: Any, _: Any) -> GootenItem:
        _object(value, "an item")
        if not isinstance(value.get("Status"), str):
            raise ValueError("an item's Status must be a string")
        _list_or_null(value.get("Shipments"), "Shipments")
        return attrs.evolve(item(value, GootenItem), own=shipment(value, GootenShipment))

    def structure_order(value: Any, _: Any) -> GootenOrder:
        _list_or_null(_object(value, "the order").get("Items", ()), "Items")
        if "Items" in value and value["Items"] is None:
            value = {**value, "Items": []}
        return order(value, GootenOrder)

    converter.register_structure_hook(GootenShipment, structure_shipment)
    converter.register_structure_hook(GootenItem, structure_item)
    converter.register_structure_hook(GootenOrder, structure_order)


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


def had_error(data: object) -> bool | None:
    """``True``/``False`` for an answer with a readable ``HadError``, ``None`` otherwise."""
    if not isinstance(data, dict) or "HadError" not in data:
        return None
    return _truthy(data["HadError"])


def gooten_error(data: object) -> GootenError | None:
    """The error an answer reports with ``"HadError": true``, or ``None``."""
    if not isinstance(data, dict) or had_error(data) is not True:
        return None
    errors = [e for e in data.get("Errors") or () if isinstance(e, dict)]
    reference = data.get("ErrorReferenceCode")
    return GootenError(
        messages=tuple(str(e["ErrorMessage"]) for e in errors if e.get("ErrorMessage")),
        reference=str(reference) if reference else None,
        properties=tuple(str(e["PropertyName"]) for e in errors if e.get("PropertyName")),
    )


def auth_refusal(data: object) -> str | None:
    """The message of a ``{"Message": "… Invalid recipeId …"}`` answer, or ``None``."""
    if not isinstance(data, dict):
        return None
    message = data.get("Message")
    if isinstance(message, str) and "invalidrecipeid" in "".join(message.split()).casefold():
        return message
    return None
