"""JSON for what stores keep: statuses, history entries, changes and order records.

Every store that keeps text or JSON columns uses these, so that all of them read each
other's data::

    from orderstatus.stores import codec

    text = codec.to_json(status)                      # compact JSON text
    status = codec.from_json(text, OrderStatus)       # and back, equal to the original
    data = codec.to_data(entry)                       # JSON-ready dicts (for a jsonb column)
    entry = codec.from_data(data, HistoryEntry)

Enums are stored as their values, datetimes as ISO 8601 text, frozensets as sorted lists.
Keys a newer orderstatus may add are ignored when reading, and fields missing from data
written by an older one take their defaults. Data that cannot be read raises
:class:`RecordFormatError`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from orderstatus.errors import OrderStatusError
from orderstatus.models import ChangeKind

if TYPE_CHECKING:
    import cattrs

__all__ = ["RecordFormatError", "from_data", "from_json", "to_data", "to_json"]

T = TypeVar("T")


class RecordFormatError(OrderStatusError, ValueError):
    """Stored data is not a valid record (a damaged store, or not written by orderstatus)."""


def _kinds(value: Any, _: Any) -> frozenset[ChangeKind]:
    if not isinstance(value, (list, tuple)):
        raise TypeError("kinds must be a list")
    return frozenset(ChangeKind(kind) for kind in value)


def _payload(value: Any, _: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("a raw payload must be an object")
    return value


def _moment(value: Any, _: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise TypeError("a time must be iso 8601 text")
    return dt.datetime.fromisoformat(value)


def _is_kinds(cls: Any) -> bool:
    return bool(cls == frozenset[ChangeKind])


def _is_payload(cls: Any) -> bool:
    return bool(cls == Mapping[str, Any])


@functools.cache
def _converter() -> cattrs.Converter:
    """The converter for stored records (built on first use: cattrs is a heavy import)."""
    import cattrs

    converter = cattrs.Converter()
    converter.register_unstructure_hook(dt.datetime, lambda moment: moment.isoformat())
    converter.register_structure_hook(dt.datetime, _moment)
    converter.register_unstructure_hook_func(
        _is_kinds, lambda kinds: sorted(kind.value for kind in kinds)
    )
    converter.register_structure_hook_func(_is_kinds, _kinds)
    # A raw payload is parsed JSON (or form fields) already: taken as it is, both ways.
    converter.register_unstructure_hook_func(_is_payload, dict)
    converter.register_structure_hook_func(_is_payload, _payload)
    return converter


def to_data(value: object) -> Any:
    """``value`` (an attrs record) as JSON-ready data: dicts, lists, strings and numbers."""
    return _converter().unstructure(value)


def from_data(data: Any, cls: type[T]) -> T:
    """The ``cls`` that :func:`to_data` made ``data`` from."""
    import cattrs

    try:
        return _converter().structure(data, cls)
    except cattrs.BaseValidationError as err:
        problems = "; ".join(cattrs.transform_error(err, path=cls.__name__))
        raise RecordFormatError(f"stored {cls.__name__} is not valid: {problems}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        raise RecordFormatError(
            f"stored {cls.__name__} is not valid: {type(err).__name__}: {err}"
        ) from None


def to_json(value: object) -> str:
    """``value`` as compact JSON text (anything JSON cannot say as its ``str``)."""
    return json.dumps(to_data(value), separators=(",", ":"), default=str)


def from_json(text: str | bytes, cls: type[T]) -> T:
    """The ``cls`` that :func:`to_json` wrote as ``text``."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise RecordFormatError(f"stored {cls.__name__} is not json: {err}") from None
    return from_data(data, cls)
