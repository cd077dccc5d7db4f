"""The shapes of Print API's answers, structured with cattrs.

Only the fields orderstatus reads are declared; unknown keys are tolerated (the whole answer is
kept as ``raw``). Strings must be strings and lists lists; ids and cursors may also be numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, NewType, get_origin

import attrs
import cattrs
from cattrs.cols import list_structure_factory

from .timestamps import parse_provider_time

__all__ = ["Checkout", "FeedAnswer", "FeedEntry", "Item", "Order", "Text", "configure"]

Text = NewType("Text", str)
"""An id or cursor: a string, or a number kept as its text."""


@attrs.frozen
class Checkout:
    """``checkout``: present only when the order uses Print API's payment screen."""

    status: str


@attrs.frozen
class Item:
    """One of ``items[]``; items carry no status of their own."""

    id: Text


@attrs.frozen
class Order:
    """``GET orders/{id}``."""

    id: Text
    status: str
    dateTime: dt.datetime | None = None
    trackingUrl: str | None = None
    checkout: Checkout | None = None
    items: list[Item] = attrs.field(factory=list)


@attrs.frozen
class FeedEntry:
    """One of ``results[]`` of ``GET sync/statuses``."""

    id: Text
    status: str
    dateTime: dt.datetime | None = None


@attrs.frozen
class FeedAnswer:
    """``GET sync/statuses?since=…``: ``{"since": …, "results": [...]}``."""

    results: list[FeedEntry]
    since: Text | None = None


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


def configure(converter: cattrs.Converter) -> None:
    """Register Print API's hooks: strict strings, ids as text, zone-less timestamps."""
    converter.register_structure_hook(Text, _text)
    converter.register_structure_hook(str, _string)
    converter.register_structure_hook(dt.datetime, _moment)
    converter.register_structure_hook_factory(_is_list, _strict_lists)
