"""The direct reader of order answers agrees with the converter on every answer it reads."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from orderstatus_printapi import payloads
from orderstatus_printapi.provider import PrintApiProvider

from orderstatus.testing.cassettes import load_cassettes
from orderstatus.testing.strategies import json_mutations, json_values

from .conftest import FIXTURES

ORDERS = [c.json() for c in load_cassettes(
    FIXTURES, "order-placed", "order-shipped", "order-download-failed", "order-payment-failed",
    "order-checkout-not-set-up",
)]
FIELDS = ["id", "status", "trackingUrl", "checkout", "items", "files", "content", "cover"]
VALUES = json_values(keys=FIELDS, texts=["Created", "Shipped", "Ok"], max_leaves=8)


def _converted(data: Any) -> payloads.Order | None:
    try:
        return PrintApiProvider.converter().structure(data, payloads.Order)
    except Exception:
        return None


def test_recorded_orders_are_read_directly() -> None:
    for data in ORDERS:
        read = payloads.read_order(data)
        assert read is not None
        assert read == _converted(data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.sampled_from(ORDERS).flatmap(lambda doc: json_mutations(doc, values=VALUES)))
def test_the_direct_reader_reads_what_the_converter_reads_or_leaves_it(data: Any) -> None:
    assume(isinstance(data, dict))
    read = payloads.read_order(data)
    if read is not None:  # anything it reads, the converter reads the same
        assert read == _converted(data)
