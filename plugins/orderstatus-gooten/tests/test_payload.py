"""The direct reader of order answers agrees with the converter on every answer it reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from orderstatus_gooten import payload
from orderstatus_gooten.provider import GootenProvider

from orderstatus.testing.cassettes import load_cassettes
from orderstatus.testing.strategies import json_mutations, json_values

ORDERS = [c.json() for c in load_cassettes(
    Path(__file__).parent / "fixtures", "order-get-by-id", "order-billed-refunded",
    "order-out-for-delivery", "order-payment-processing", "order-pre-payment-hold-by-image",
    "order-test-mode",
)]
FIELDS = ["Items", "Status", "Shipments", "TrackingNumber", "TrackingUrl", "ShipCarrierName",
          "OrderItemId", "Images", "Id"]
VALUES = json_values(keys=FIELDS, texts=["Shipped", "New", "UPS"], max_leaves=8)


def _converted(data: Any) -> payload.GootenOrder | None:
    try:
        return GootenProvider.converter().structure(data, payload.GootenOrder)
    except Exception:
        return None


def test_recorded_orders_are_read_directly() -> None:
    for data in ORDERS:
        read = payload.read_order(data)
        assert read is not None
        assert read == _converted(data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.sampled_from(ORDERS).flatmap(lambda doc: json_mutations(doc, values=VALUES)))
def test_the_direct_reader_reads_what_the_converter_reads_or_leaves_it(data: Any) -> None:
    assume(isinstance(data, dict))
    read = payload.read_order(data)
    if read is not None:  # anything it reads, the converter reads the same
        assert read == _converted(data)
