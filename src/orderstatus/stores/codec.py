"""JSON for what stores keep: statuses, history entries, changes and order records.

Every store that keeps text or JSON columns uses these, so that all of them read each
other's data::

    from orderstatus.stores import codec

    text = codec.to_json(status)                      # compact JSON text
    status = codec.from_json(text, OrderStatus)       # and back, equal to the original
    data = codec.to_data(entry)                       # JSON-ready dicts (for a jsonb column)
    entry = codec.from_data(data, HistoryEntry)

A store that keeps an order's provider, id, times and raw payload in columns of their own
keeps the rest of a status as its *body*, without them and without fields at their defaults::

    text = json.dumps(codec.body_data(status))        # state, statuses, items, tracking
    status = codec.from_body(json.loads(text), provider=..., order_id=..., observed_at=...,
                             provider_time=..., raw=...)
    codec.same_body(status, other)                    # equal but for those columns

Enums are stored as their values, datetimes as ISO 8601 text, frozensets as sorted lists.
Keys a newer orderstatus may add are ignored when reading, and fields missing from data
written by an older one take their defaults. Data that cannot be read raises
:class:`RecordFormatError`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import operator
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from orderstatus.errors import OrderStatusError
from orderstatus.models import ChangeKind, OrderStatus

if TYPE_CHECKING:
    import cattrs

__all__ = [
    "RecordFormatError",
    "body_data",
    "from_body",
    "from_data",
    "from_json",
    "same_body",
    "to_data",
    "to_json",
]

T = TypeVar("T")

COLUMNS = ("provider", "order_id", "observed_at", "provider_time", "raw")
"""The fields of a status that its body leaves out (a store keeps them in columns)."""

_body_fields = operator.attrgetter(
    *(f.name for f in attrs.fields(OrderStatus) if f.name not in COLUMNS)
)
_ENCODE = json.JSONEncoder(separators=(",", ":"), default=str).encode


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
    if isinstance(value, dt.datetime):  # a column's time, put back by from_body
        return value
    if not isinstance(value, str):
        raise TypeError("a time must be iso 8601 text")
    return dt.datetime.fromisoformat(value)


def _is_kinds(cls: Any) -> bool:
    return bool(cls == frozenset[ChangeKind])


def _is_payload(cls: Any) -> bool:
    return bool(cls == Mapping[str, Any])


@functools.cache
def _converter(omit_defaults: bool = False) -> cattrs.Converter:
    """The converter for stored records (built on first use: cattrs is a heavy import);
    with ``omit_defaults``, the one for bodies, which leaves out fields at their defaults."""
    import cattrs

    converter = cattrs.Converter(omit_if_default=omit_defaults)
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


@functools.cache
def _body_unstructure() -> Callable[[OrderStatus], dict[str, Any]]:
    from cattrs.gen import make_dict_unstructure_fn, override

    return make_dict_unstructure_fn(
        OrderStatus, _converter(omit_defaults=True), _cattrs_omit_if_default=True,
        **{name: override(omit=True) for name in COLUMNS},  # type: ignore[arg-type]
    )


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
    return _ENCODE(to_data(value))


def body_data(status: OrderStatus) -> dict[str, Any]:
    """``status`` as JSON-ready data without its :data:`COLUMNS` and without the fields that
    hold their defaults: what a store keeps of a status beside those columns."""
    return _body_unstructure()(status)


def from_body(
    data: Any, *, provider: str, order_id: str, observed_at: dt.datetime,
    provider_time: dt.datetime | None = None, raw: Mapping[str, Any] | None = None,
) -> OrderStatus:
    """The status whose :func:`body_data` is ``data``, with its columns put back."""
    if not isinstance(data, dict):
        raise RecordFormatError("stored OrderStatus is not valid: its body is not an object")
    data = {**data, "provider": provider, "order_id": order_id, "observed_at": observed_at,
            "provider_time": provider_time, "raw": {} if raw is None else raw}
    return from_data(data, OrderStatus)


def same_body(status: OrderStatus, other: OrderStatus) -> bool:
    """Whether two statuses have the same body (they may differ in their :data:`COLUMNS`)."""
    return bool(_body_fields(status) == _body_fields(other))


def from_json(text: str | bytes, cls: type[T]) -> T:
    """The ``cls`` that :func:`to_json` wrote as ``text``."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise RecordFormatError(f"stored {cls.__name__} is not json: {err}") from None
    return from_data(data, cls)
