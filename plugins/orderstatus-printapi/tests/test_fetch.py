"""Fetching orders from the sandbox: statuses, payments, files, tracking, items, time, errors."""

from __future__ import annotations

import pytest
from orderstatus_printapi import format_provider_time

from orderstatus import ActionReason, OrderState, PaymentState
from orderstatus.errors import (
    InvalidOrderIdError,
    OrderNotFoundError,
    UnmappedStatusError,
    UpdateNotSupportedError,
)

STATES = {
    "Created": OrderState.CREATED,
    "Processing": OrderState.IN_PRODUCTION,
    "Shipped": OrderState.SHIPPED,
    "Cancelled": OrderState.CANCELLED,
}
PAYMENTS = {
    "Open": PaymentState.OPEN,
    "Successful": PaymentState.PAID,
    "Failed": PaymentState.FAILED,
    "Cancelled": PaymentState.CANCELLED,
}


def test_every_documented_status(api, sandbox):
    for native, state in STATES.items():
        order_id = sandbox.create_order()
        sandbox.set_status(order_id, native)
        status = api.fetch(order_id)
        assert (status.state, status.native_status, status.reason) == (state, native, None)
        assert status.provider == "printapi"
        assert status.order_id == order_id


def test_every_documented_payment_status(api, sandbox):
    for native, payment in PAYMENTS.items():
        order_id = sandbox.create_order(checkout=True)
        sandbox.set_payment(order_id, native)
        status = api.fetch(order_id)
        assert (status.payment, status.native_payment) == (payment, native)
        assert status.raw["checkout"]["status"] == native


def test_cancelled_payment_cancels_the_order(api, sandbox):
    order_id = sandbox.create_order(checkout=True)
    sandbox.set_payment(order_id, "Cancelled")
    status = api.fetch(order_id)
    assert (status.state, status.payment) == (OrderState.CANCELLED, PaymentState.CANCELLED)


def test_no_checkout_means_no_payment(api, sandbox):
    status = api.fetch(sandbox.create_order())
    assert status.payment is None
    assert status.native_payment is None
    assert "checkout" not in status.raw


def test_items_are_listed_and_show_the_order_status(api, sandbox):
    order_id = sandbox.create_order(items=3)
    sandbox.set_status(order_id, "Processing")
    status = api.fetch(order_id)
    assert [i.item_id for i in status.items] == [i.id for i in sandbox.orders[order_id].items]
    assert {(i.state, i.native_status) for i in status.items} == {
        (OrderState.IN_PRODUCTION, "Processing")
    }


def test_a_checkout_not_set_up_has_no_payment_yet(api, sandbox):
    order_id = sandbox.create_order(checkout=True)
    status = api.fetch(order_id, strict=True)
    assert (status.state, status.payment, status.native_payment) == (
        OrderState.CREATED, None, None
    )
    assert set(status.raw["checkout"]) == {"amount", "setupUrl"}
    sandbox.setup_checkout(order_id)
    assert (api.fetch(order_id).payment, api.fetch(order_id).native_payment) == (
        PaymentState.OPEN, "Open"
    )


def test_a_failed_payment_is_action_required_until_paid(api, sandbox):
    order_id = sandbox.create_order(checkout=True, items=2)
    sandbox.set_payment(order_id, "Failed")
    status = api.fetch(order_id, strict=True)
    assert (status.state, status.reason, status.native_status) == (
        OrderState.ACTION_REQUIRED, ActionReason.PAYMENT, "Failed"
    )
    assert (status.payment, status.native_payment) == (PaymentState.FAILED, "Failed")
    assert {(i.state, i.reason, i.native_status) for i in status.items} == {
        (OrderState.ACTION_REQUIRED, ActionReason.PAYMENT, "Failed")
    }
    sandbox.set_payment(order_id, "Successful")
    assert api.fetch(order_id).state is OrderState.CREATED


@pytest.mark.parametrize("file_status", ["DownloadFailed", "AwaitingUpload"])
def test_a_file_to_supply_again_is_action_required_artwork_on_its_item(
    api, sandbox, file_status
):
    order_id = sandbox.create_order(items=2, checkout=True)
    sandbox.set_payment(order_id, "Failed")
    sandbox.set_status(order_id, None, files=file_status, file_items=[1])
    status = api.fetch(order_id, strict=True)
    # the file comes first on its item; the other item still waits for the payment
    assert [(i.state, i.reason, i.native_status) for i in status.items] == [
        (OrderState.ACTION_REQUIRED, ActionReason.PAYMENT, "Failed"),
        (OrderState.ACTION_REQUIRED, ActionReason.ARTWORK, file_status),
    ]
    assert (status.state, status.reason) == (OrderState.ACTION_REQUIRED, ActionReason.PAYMENT)
    assert status.raw["items"][1]["files"]["content"]["status"] == file_status


def test_waiting_files_leave_the_order_created_and_production_accepts_them(api, sandbox):
    order_id = sandbox.create_order()
    assert sandbox.orders[order_id].items[0].content.status == "DownloadPending"
    assert api.fetch(order_id).native_status == "Created"
    sandbox.advance(sandbox.download_delay)
    assert api.fetch(order_id).raw["items"][0]["files"]["content"]["status"] == "Accepted"
    sandbox.set_status(order_id, "DownloadFailed")
    sandbox.set_status(order_id, "Processing")
    status = api.fetch(order_id)
    assert (status.state, status.native_status) == (OrderState.IN_PRODUCTION, "Processing")
    assert status.raw["items"][0]["files"]["content"]["status"] == "Accepted"


def test_an_unknown_file_status_is_unknown_with_the_raw_kept(api, sandbox):
    order_id = sandbox.create_order()
    sandbox.set_status(order_id, None, files="Checking", undocumented=True)
    status = api.fetch(order_id)
    assert (status.state, status.native_status) == (OrderState.UNKNOWN, "Checking")
    with pytest.raises(UnmappedStatusError, match="Checking"):
        api.fetch(order_id, strict=True)
    sandbox.set_status(order_id, "Processing")  # past Created, files no longer decide
    assert api.fetch(order_id, strict=True).state is OrderState.IN_PRODUCTION


def test_tracking_url_once_shipped(api, sandbox):
    order_id = sandbox.create_order()
    assert api.fetch(order_id).tracking == ()
    sandbox.set_status(order_id, "Shipped", tracking_url="https://track.example/abc")
    (tracking,) = api.fetch(order_id).tracking
    assert (tracking.url, tracking.carrier, tracking.number) == (
        "https://track.example/abc", None, None
    )


def test_a_fetch_carries_no_provider_time_as_datetime_is_the_creation_time(api, sandbox):
    order_id = sandbox.create_order()
    sandbox.advance(3600)
    sandbox.set_status(order_id, "Processing")
    status = api.fetch(order_id)
    assert status.provider_time is None
    # Amsterdam wall-clock time on the wire, trailing zeros left out: the creation time
    assert status.raw["dateTime"] == format_provider_time(sandbox.orders[order_id].created_at)


def test_raw_payload_is_kept(api, sandbox):
    order_id = sandbox.create_order(checkout=True)
    sandbox.setup_checkout(order_id)
    status = api.fetch(order_id)
    assert status.raw["shipping"]["method"]["name"] == "Brievenbuspakje"
    assert status.raw["checkout"]["paymentUrl"].endswith("/start")


def test_unknown_status_is_unknown_and_strict_raises(api, sandbox):
    order_id = sandbox.create_order(checkout=True)
    sandbox.set_status(order_id, "OnHold", payment="Refunded", undocumented=True)
    status = api.fetch(order_id)
    assert (status.state, status.native_status) == (OrderState.UNKNOWN, "OnHold")
    assert (status.payment, status.native_payment) == (None, "Refunded")
    with pytest.raises(UnmappedStatusError, match="unmapped"):
        api.fetch(order_id, strict=True)


def test_statuses_match_regardless_of_case(api, sandbox):
    order_id = sandbox.create_order()
    sandbox.orders[order_id].status = " shipped "
    assert api.fetch(order_id).state is OrderState.SHIPPED


def test_unknown_order_is_not_found(api):
    with pytest.raises(OrderNotFoundError) as caught:
        api.fetch("99999999")
    assert caught.value.status_code == 404


def test_unsafe_order_id_is_refused_before_any_request(api, sandbox):
    for bad in ("a/b", "../x", "", "x" * 65, "1 2"):
        with pytest.raises(InvalidOrderIdError):
            api.fetch(bad)
    assert sandbox.requests == []


def test_update_is_refused_without_any_request(api, sandbox):
    order_id = sandbox.create_order()
    assert not api.client.provider("printapi").capabilities.update
    for target in ("cancelled", "on_hold", "created"):
        with pytest.raises(UpdateNotSupportedError, match="no status update"):
            api.update(order_id, target)
    assert sandbox.requests == []


def test_fetch_many(api, sandbox):
    ids = [sandbox.create_order() for _ in range(12)]
    sandbox.set_status(ids[0], "Shipped")
    results = api.fetch_many([*ids, "nope-1"])
    states = {r.order_id: getattr(r, "state", None) for r in results}
    assert states[ids[0]] is OrderState.SHIPPED
    assert all(states[i] is OrderState.CREATED for i in ids[1:])
    (failure,) = [r for r in results if r.order_id == "nope-1"]
    assert isinstance(failure.error, OrderNotFoundError)
