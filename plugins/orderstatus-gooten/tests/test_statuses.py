"""The status table: exactly the issues', matched ignoring case, spaces and hyphens, and every
row served."""

from __future__ import annotations

import re
from typing import Any

import pytest
from orderstatus_gooten import (
    NATIVE_STATUSES,
    PAYMENT_STATUSES,
    UNMAPPED,
    UPDATE_RULES,
    GootenProvider,
    native_key,
)
from orderstatus_gooten.sandbox import DOCUMENTED_SOURCES, DOCUMENTED_TARGETS

from orderstatus import OrderState, PaymentState, UnmappedStatusError


def spaced(status: str) -> str:
    """``OutForDelivery`` -> ``Out For Delivery``, as Gooten's display names read."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", status)


def test_table_is_exactly_the_issues(issue_table: dict[str, Any]) -> None:
    assert {k: (v.state, v.reason) for k, v in NATIVE_STATUSES.items()} == issue_table


def test_every_mapping_names_the_sources_of_its_spelling_and_meaning() -> None:
    sources = ("update page", "meanings article", "help centre", "article titles", "sample")
    for native, mapped in NATIVE_STATUSES.items():
        spelling, _, meaning = mapped.note.partition("; ")
        assert "spelling" in spelling, native
        assert any(source in spelling for source in sources), native
        assert any(source in meaning for source in sources) or "read from its name" in meaning, (
            native)


def test_update_rules_are_the_documented_ones(issue_targets: dict[OrderState, str]) -> None:
    assert UPDATE_RULES.sources == frozenset(DOCUMENTED_SOURCES)
    assert dict(UPDATE_RULES.targets) == issue_targets
    assert set(UPDATE_RULES.targets.values()) == set(DOCUMENTED_TARGETS)
    assert "Hold" not in UPDATE_RULES.sources


@pytest.mark.parametrize(
    ("a", "b"),
    [("In Production", "InProduction"), ("inproduction", "INPRODUCTION"),
     (" Out  For\tDelivery ", "OutForDelivery"), ("Manually In Production", "manuallyinproduction"),
     ("Canceled", "Cancelled"), ("Canceled Refunded", "CancelledRefunded"),
     ("ReadyForImageDI", "ReadyForImageDl"), ("ready for image dl", "ReadyForImageDl"),
     ("Pre-Payment", "PrePayment"), ("pre - payment", "PREPAYMENT"),
     ("Hold By Image Issue", "HoldByCIImageIssue"), ("Billed Refunded", "BilledRefunded"),
     ("Out-For-Delivery", "OutForDelivery")],
)
def test_native_key_treats_variants_as_one_status(a: str, b: str) -> None:
    assert native_key(a) == native_key(b)
    assert GootenProvider.native_key(a) == native_key(b)


@pytest.mark.parametrize(("a", "b"), [("New", "Pending"), ("Hold", "HoldByCIImageIssue"),
                                      ("Cancelled", "CanceledRefunded"), ("Printing", "Print"),
                                      ("Hold By Image Issue", "ImageIssue"),
                                      ("BilledRefunded", "CanceledRefunded")])
def test_native_key_keeps_different_statuses_apart(a: str, b: str) -> None:
    assert native_key(a) != native_key(b)


def test_refunds_are_payment_statuses() -> None:
    assert {native_key(k) for k in PAYMENT_STATUSES} == {"canceledrefunded", "billedrefunded"}
    assert set(PAYMENT_STATUSES.values()) == {PaymentState.REFUNDED}
    assert all(native_key(s) not in {native_key(k) for k in NATIVE_STATUSES} for s in UNMAPPED)
    assert {k: NATIVE_STATUSES[k].state for k in PAYMENT_STATUSES} == {
        "CanceledRefunded": OrderState.CANCELLED, "BilledRefunded": OrderState.CANCELLED
    }


def test_every_status_is_served_and_mapped(gooten: Any, issue_table: dict[str, Any]) -> None:
    natives = list(issue_table)
    oid = gooten.sandbox.create_order(items=len(natives))
    for position, native in enumerate(natives):
        gooten.sandbox.set_status(oid, native, items=[position])
    status = gooten.fetch(oid)
    assert [i.native_status for i in status.items] == natives
    assert [(i.state, i.reason) for i in status.items] == [issue_table[n] for n in natives]


@pytest.mark.parametrize("shape", [spaced, str.lower, str.upper, lambda s: f" {spaced(s)} "])
def test_spelling_variants_map_alike_and_keep_the_raw_string(
    inprocess: Any, issue_table: dict[str, Any], shape: Any
) -> None:
    natives = [shape(n) for n in issue_table]
    oid = inprocess.sandbox.create_order(items=len(natives))
    for position, native in enumerate(natives):
        inprocess.sandbox.set_status(oid, native, items=[position])
    status = inprocess.fetch(oid)
    assert [i.native_status for i in status.items] == natives
    assert [(i.state, i.reason) for i in status.items] == list(issue_table.values())


@pytest.mark.parametrize("native", ["VendorAPIIssue", "Vendor API Issue", "Teleported", "Shipped?"])
def test_anything_else_is_unknown_with_the_raw_kept(inprocess: Any, native: str) -> None:
    oid = inprocess.sandbox.create_order()
    inprocess.sandbox.set_status(oid, native, unchecked=True)
    status = inprocess.fetch(oid)
    assert (status.state, status.native_status) == (OrderState.UNKNOWN, native)
    with pytest.raises(UnmappedStatusError) as raised:
        inprocess.fetch(oid, strict=True)
    assert raised.value.native_status == native


def test_the_docs_typo_reads_as_ready_for_image_download(inprocess: Any) -> None:
    oid = inprocess.sandbox.create_order()
    inprocess.sandbox.set_status(oid, "ReadyForImageDI")
    status = inprocess.fetch(oid)
    assert (status.state, status.native_status) == (OrderState.CREATED, "ReadyForImageDI")
