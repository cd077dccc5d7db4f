"""Gooten's documented answers, replayed through the public client, sync and async.

Each cassette in ``fixtures/`` names the Gooten page or client it takes its shape from; see
``fixtures/README.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from orderstatus import (
    ActionReason,
    OrderState,
    PaymentState,
    ResponseFormatError,
    TransitionNotAllowedError,
    UpdateRejectedError,
)
from orderstatus.testing.cassettes import Replay, load_cassettes

FIXTURES = Path(__file__).parent / "fixtures"
SETTINGS = {"recipe_id": "documented-recipe", "partner_billing_key": "documented+key/="}
_S, _R = OrderState, ActionReason


def replaying(runner: Any, *names: str) -> tuple[Replay, dict[str, Any]]:
    replay = Replay(load_cassettes(FIXTURES, *names))
    return replay, {"settings": SETTINGS, "transport": replay.transport()}


def fetch(runner: Any, name: str, **kwargs: Any) -> Any:
    replay, options = replaying(runner, name)
    (cassette,) = replay.cassettes
    status = runner.fetch(cassette.query["id"], **options, **kwargs)
    assert replay.unmatched == []
    return status


def items(status: Any) -> list[tuple[str, OrderState, ActionReason | None, str]]:
    return [(i.item_id, i.state, i.reason, i.native_status) for i in status.items]


def test_item_ids_are_the_documented_order_item_ids(inprocess: Any) -> None:
    """Issue 10, point 6: "Get Orders by ID" puts the id in ``Items[].Images[].OrderItemId``."""
    status = fetch(inprocess, "order-get-by-id", strict=True)
    assert items(status) == [("880011", _S.CREATED, None, "New"),
                             ("880012", _S.CREATED, None, "ReadyForImageDl")]
    assert (status.state, status.native_status, status.payment) == (_S.CREATED, "New", None)


def test_an_answer_about_another_order_is_refused(inprocess: Any) -> None:
    """The documented answer, served for an id it is not about (a cache's or proxy's mix-up),
    is no status of the order asked for."""
    (documented,) = load_cassettes(FIXTURES, "order-get-by-id")
    asked = "9-00000000-0000-4000-8000-000000000000"
    replay = Replay([attrs.evolve(documented, query={"id": asked})])
    with pytest.raises(ResponseFormatError, match="answer is about order '9-3c1f2a7e-"):
        inprocess.fetch(asked, settings=SETTINGS, transport=replay.transport())
    assert replay.played == ["order-get-by-id"]


def test_items_of_the_webhook_sample_have_no_id_and_are_numbered(inprocess: Any) -> None:
    replay, options = replaying(inprocess, "order-webhook-sample")
    status = inprocess.call(
        "handle_webhook", "gooten", body=b"{\"not\": \"trusted\"}",
        headers={"content-type": "application/json"},
        query="orderid=7-501853e1-8d78-4e1e-83a0-be9fb432efe1", **options,
    )
    assert replay.unmatched == []
    assert items(status) == [("0", _S.CREATED, None, "New"), ("1", _S.CREATED, None, "New")]
    assert status.items[0].tracking[0].number == "9400115901344442556597"
    assert status.items[0].tracking[0].url is None  # "" reads as missing


def test_out_for_delivery_is_before_shipped(inprocess: Any) -> None:
    """Issue 10, point 5: packed, waiting for the courier, no tracking yet."""
    status = fetch(inprocess, "order-out-for-delivery", strict=True)
    assert items(status) == [("880021", _S.IN_PRODUCTION, None, "Out For Delivery"),
                             ("880022", _S.SHIPPED, None, "Shipped")]
    assert (status.state, status.native_status) == (_S.IN_PRODUCTION, "Out For Delivery")
    assert status.items[0].tracking == ()
    assert [t.carrier for t in status.tracking] == ["USPS"]


def test_payment_processing_waits_for_the_partners_billing_details(inprocess: Any) -> None:
    status = fetch(inprocess, "order-payment-processing", strict=True)
    assert (status.state, status.reason, status.native_status) == (
        _S.ACTION_REQUIRED, _R.PAYMENT, "Payment Processing"
    )
    assert {i.reason for i in status.items} == {_R.PAYMENT}


def test_billed_refunded_is_cancelled_and_refunded(inprocess: Any) -> None:
    status = fetch(inprocess, "order-billed-refunded", strict=True)
    assert (status.state, status.native_status) == (_S.CANCELLED, "Billed Refunded")
    assert (status.payment, status.native_payment) == (PaymentState.REFUNDED, "Billed Refunded")


def test_display_names_with_hyphens_and_the_hold_by_image_issue_match(inprocess: Any) -> None:
    status = fetch(inprocess, "order-pre-payment-hold-by-image", strict=True)
    assert items(status) == [
        ("880051", _S.CREATED, None, "Pre-Payment"),
        ("880052", _S.ACTION_REQUIRED, _R.ARTWORK, "Hold By Image Issue"),
    ]
    assert (status.state, status.reason) == (_S.ACTION_REQUIRED, _R.ARTWORK)


def test_the_readme_test_order_reads_test(inprocess: Any) -> None:
    status = fetch(inprocess, "order-test-mode", strict=True)
    assert (status.state, [i.item_id for i in status.items]) == (_S.TEST, ["0", "1"])


def test_an_update_answered_had_error_false_succeeds(inprocess: Any) -> None:
    replay, options = replaying(inprocess, "order-get-by-id", "update-accepted")
    result = inprocess.update("9-3c1f2a7e-0b64-4d55-9f0e-5c8a2b1d7e40", _S.CANCELLED,
                              confirm=False, **options)
    assert replay.played == ["order-get-by-id", "update-accepted"]
    assert replay.unmatched == []
    sent = replay.requests[-1].url.params
    assert (sent["orderStatusName"], sent["partnerBillingKey"]) == ("Cancelled", "documented+key/=")
    assert result.order_id == "9-3c1f2a7e-0b64-4d55-9f0e-5c8a2b1d7e40"


def test_a_refusal_carries_gootens_messages_and_reference(inprocess: Any) -> None:
    replay, options = replaying(inprocess, "order-get-by-id", "update-refused")
    with pytest.raises(UpdateRejectedError) as raised:
        inprocess.update("9-3c1f2a7e-0b64-4d55-9f0e-5c8a2b1d7e40", _S.ON_HOLD, **options)
    assert replay.played[:2] == ["order-get-by-id", "update-refused"]
    assert raised.value.messages == ("Order status cannot be updated.",)
    assert raised.value.reference == "72f3c717-4a1b-4c2e-9d3f-0e1a2b3c4d5e"
    assert "documented+key" not in str(raised.value)


def test_out_for_delivery_is_past_the_update_sources(inprocess: Any) -> None:
    replay, options = replaying(inprocess, "order-out-for-delivery")
    with pytest.raises(TransitionNotAllowedError) as raised:
        inprocess.update("9-71d0c3b2-5e8f-4a1c-b7d6-2f9e8a4c3b10", _S.CANCELLED, **options)
    assert set(raised.value.blocking) == {"Out For Delivery", "Shipped"}
    assert [r.url.path for r in replay.requests] == ["/api/v/5/source/api/orders/"]
