"""Each built-in provider's direct reader of order answers agrees with its cattrs converter.

Print API's ``payloads.read_order`` and Gooten's ``payload.read_order`` read the usual answer in
one pass and leave anything else to the converter (``None``). The law: whatever a reader reads,
the converter reads the same; so the fast path never accepts what the converter would refuse.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from orderstatus_gooten import payload
from orderstatus_gooten.provider import GootenProvider
from orderstatus_printapi import payloads
from orderstatus_printapi.provider import PrintApiProvider

from orderstatus import Provider
from orderstatus.testing.cassettes import load_cassettes
from orderstatus.testing.strategies import json_mutations, json_values

PLUGINS = Path(__file__).parents[1] / "plugins"


def _recorded(plugin: str, *names: str) -> list[Any]:
    return [c.json() for c in load_cassettes(PLUGINS / plugin / "tests" / "fixtures", *names)]


READERS: dict[str, tuple[type[Provider], type, Callable[[Any], object], list[Any], list[str]]] = {
    "printapi": (
        PrintApiProvider, payloads.Order, payloads.read_order,
        _recorded("orderstatus-printapi", "order-placed", "order-shipped", "order-download-failed",
                  "order-payment-failed", "order-checkout-not-set-up"),
        ["id", "status", "trackingUrl", "checkout", "items", "files", "content", "cover"],
    ),
    "gooten": (
        GootenProvider, payload.GootenOrder, payload.read_order,
        _recorded("orderstatus-gooten", "order-get-by-id", "order-billed-refunded",
                  "order-out-for-delivery", "order-payment-processing",
                  "order-pre-payment-hold-by-image", "order-test-mode"),
        ["Items", "Status", "Shipments", "TrackingNumber", "TrackingUrl", "ShipCarrierName",
         "OrderItemId", "Images", "Id"],
    ),
}


def _shaped(fields: list[str], texts: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A few of the provider's fields with any values, nested in its vocabulary: laid over an
    object of a recorded answer, each field meets every kind of value."""
    scalars = st.none() | st.booleans() | st.integers() | st.sampled_from(texts) | st.text(
        max_size=3)
    names = st.sampled_from(fields)
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(names, inner, max_size=4), max_leaves=12)
    return st.dictionaries(names, values, min_size=1, max_size=2)


def _objects(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in ``value``, itself first."""
    if isinstance(value, dict):
        yield value
    for child in value.values() if isinstance(value, dict) else (
            value if isinstance(value, list) else ()):
        yield from _objects(child)


def _converted(provider: type[Provider], cls: type, data: Any) -> object | None:
    try:
        return provider.converter().structure(data, cls)
    except Exception:
        return None


@pytest.mark.parametrize("name", READERS)
def test_recorded_orders_are_read_directly(name: str) -> None:
    provider, cls, read, recorded, _ = READERS[name]
    for data in recorded:
        direct = read(data)
        assert direct is not None
        assert direct == _converted(provider, cls, data)


@pytest.mark.parametrize("name", READERS)
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_what_a_reader_reads_the_converter_reads_the_same(name: str, data: st.DataObject) -> None:
    provider, cls, read, recorded, fields = READERS[name]
    texts = ["Created", "Shipped", "New", "UPS"]
    doc = data.draw(st.sampled_from(recorded))
    if data.draw(st.booleans()):
        answer = data.draw(json_mutations(doc, values=json_values(keys=fields, texts=texts,
                                                                  max_leaves=8)))
    else:  # one object of the answer, at any depth, with some fields replaced
        answer = copy.deepcopy(doc)
        objects = list(_objects(answer))
        target = objects[0] if data.draw(st.booleans()) else data.draw(st.sampled_from(objects))
        target.update(data.draw(_shaped(fields, texts)))
    assume(isinstance(answer, dict))
    direct = read(answer)
    if direct is not None:
        assert direct == _converted(provider, cls, answer)
