"""The shapes of Print API's answers, structured with cattrs.

Only the fields orderstatus reads are declared; unknown keys are tolerated (the whole answer is
kept as ``raw``). Objects must be objects, strings strings and lists lists; ids may also be
numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, NewType, get_origin

import attrs
import cattrs
from cattrs.cols import list_structure_factory
from cattrs.gen import make_dict_structure_fn

from .timestamps import parse_provider_time

__all__ = [
    "Checkout",
    "FeedAnswer",
    "FeedEntry",
    "File",
    "Files",
    "Item",
    "Order",
    "Text",
    "configure",
    "read_order",
]

Text = NewType("Text", str)
"""An id or cursor: a string, or a number kept as its text."""


@attrs.frozen
class Checkout:
    """``checkout``: present only when the order uses Print API's payment screen."""

    status: str | None = None
    """The payment status; absent until the payment screen is set up (v2 reference)."""


@attrs.frozen
class File:
    """``items[].files.content`` or ``.cover``: ``{"status": …, "downloadUrl" | "uploadUrl"}``."""

    status: str | None = None


@attrs.frozen
class Files:
    """``items[].files``: the item's content file and, for products that have one, its cover."""

    content: File | None = None
    cover: File | None = None

    def statuses(self) -> tuple[str | None, ...]:
        """The files' statuses, content first."""
        return tuple(f.status if f is not None else None for f in (self.content, self.cover))


@attrs.frozen
class Item:
    """One of ``items[]``: no status of its own, but a status per file."""

    id: Text
    files: Files | None = None


@attrs.frozen
class Order:
    """``GET orders/{id}``. Its ``dateTime`` is the creation time (v2 reference), so it is
    not read: it says nothing about when the status was last true."""

    id: Text
    status: str
    trackingUrl: str | None = None
    checkout: Checkout | None = None
    items: list[Item] = attrs.field(factory=list)


@attrs.frozen
class FeedEntry:
    """One of ``results[]`` of ``GET sync/statuses``: when the order took ``status``."""

    id: Text
    status: str
    dateTime: dt.datetime


@attrs.frozen
class FeedAnswer:
    """``GET sync/statuses?since=…``: ``{"since": …, "results": [...]}``, where ``since`` only
    echoes the request's (recorded), so it is not read."""

    results: list[FeedEntry]


def _text(value: Any, _: Any) -> Text:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"expected a string or a number, not {type(value).__name__}")
    return Text(str(value))


def _string(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, not {type(value).__name__}")
    return value


def _moment(value: Any, _: Any) -> dt.datetime:
    return parse_provider_time(_string(value, None))


def _is_list(type_: Any) -> bool:
    return get_origin(type_) is list


def _strict_lists(type_: Any, converter: Any) -> Callable[[Any, Any], Any]:
    structure_list = list_structure_factory(type_, converter)

    def hook(value: Any, target: Any) -> Any:
        if not isinstance(value, list):
            raise TypeError(f"expected a list, not {type(value).__name__}")
        return structure_list(value, target)

    return hook


def _strict_objects(type_: Any, converter: Any) -> Callable[[Any, Any], Any]:
    structure_object = make_dict_structure_fn(
        type_, converter, _cattrs_detailed_validation=converter.detailed_validation
    )

    def hook(value: Any, target: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, not {type(value).__name__}")
        return structure_object(value, target)

    return hook


def configure(converter: cattrs.Converter) -> None:
    """Register Print API's hooks: strict objects, lists and strings, ids as text, zone-less
    timestamps."""
    converter.register_structure_hook(Text, _text)
    converter.register_structure_hook(str, _string)
    converter.register_structure_hook(dt.datetime, _moment)
    converter.register_structure_hook_factory(_is_list, _strict_lists)
    converter.register_structure_hook_factory(attrs.has, _strict_objects)


class _Unusual(Exception):
    """An answer :func:`read_order` leaves to the converter."""


def read_order(data: dict[str, Any]) -> Order | None:
    """``data`` as an :class:`Order` in one pass when it has the usual shape, else ``None``.

    For every answer it reads, the result is the one the converter :func:`configure` sets up
    would make (a property test holds it to that); anything else (a missing or mistyped field,
    an id sent as a number) is left to the converter, which either reads it or says what is
    wrong. It exists because the converter's strict hooks cost about as much as the
    ``json.loads`` before them, on every fetch.
    """
    try:
        checkout = data.get("checkout")
        items = data.get("items", [])
        if type(items) is not list:
            raise _Unusual
        return Order(
            Text(_required(data.get("id"))), _required(data.get("status")),
            _optional(data.get("trackingUrl")),
            None if checkout is None else Checkout(_optional(_object(checkout).get("status"))),
            [_read_item(entry) for entry in items],
        )
    except _Unusual:
        return None


def _read_item(entry: object) -> Item:
    item = _object(entry)
    files = item.get("files")
    if files is None:
        return Item(Text(_required(item.get("id"))))
    files = _object(files)
    return Item(Text(_required(item.get("id"))),
                Files(_read_file(files.get("content")), _read_file(files.get("cover"))))


def _read_file(value: object) -> File | None:
    return None if value is None else File(_optional(_object(value).get("status")))


def _object(value: object) -> dict[str, Any]:
    if type(value) is not dict:
        raise _Unusual
    return value


def _required(value: object) -> str:
    if type(value) is not str:
        raise _Unusual
    return value


def _optional(value: object) -> str | None:
    return None if value is None else _required(value)
