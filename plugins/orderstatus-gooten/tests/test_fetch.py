"""Fetching: per-item statuses, aggregation, tracking, refunds, and every answer shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orderstatus import (
    ActionReason,
    AuthenticationError,
    InvalidOrderIdError,
    OrderNotFoundError,
    OrderState,
    PaymentState,
    ProviderError,
    ResponseFormatError,
    Tracking,
)

_S = OrderState


def order_with(sandbox: Any, *statuses: str) -> str:
    oid: str = sandbox.create_order(items=len(statuses))
    for position, native in enumerate(statuses):
        sandbox.set_status(oid, native, items=[position], unchecked=True)
    return oid


def test_a_new_order_reads_created_with_gootens_fields(gooten: Any) -> None:
    oid = gooten.sandbox.create_order(items=2)
    status = gooten.fetch(oid)
    assert (status.provider, status.order_id, status.state) == ("gooten", oid, _S.CREATED)
    assert status.native_status == "New"
    assert status.payment is None
    # as documented, items carry no Id: their id is their images' OrderItemId
    assert [i.item_id for i in status.items] == [
        str(i["Images"][0]["OrderItemId"]) for i in status.raw["Items"]
    ]
    assert all("Id" not in i for i in status.raw["Items"])
    assert {"Id", "NiceId", "SourceId", "GootenId", "ShippingAddress"} <= set(status.raw)
    assert status.raw["Id"] == oid


@pytest.mark.parametrize(
    ("statuses", "state", "native", "reason"),
    [
        (("In Production", "Shipped"), _S.IN_PRODUCTION, "In Production", None),
        (("Delivered", "Out For Delivery"), _S.IN_PRODUCTION, "Out For Delivery", None),
        (("Delivered", "Shipped"), _S.SHIPPED, "Shipped", None),
        (("Pre-Payment", "Payment Processing"), _S.ACTION_REQUIRED, "Payment Processing",
         ActionReason.PAYMENT),
        (("Delivered", "Delivered"), _S.DELIVERED, "Delivered", None),
        (("New", "Hold", "AddressIssue"), _S.ACTION_REQUIRED, "AddressIssue", ActionReason.ADDRESS),
        (("ImageIssue", "AddressIssue"), _S.ACTION_REQUIRED, "ImageIssue", ActionReason.ARTWORK),
        (("Printing", "Hold"), _S.ON_HOLD, "Hold", None),
        (("Cancelled", "Shipped"), _S.SHIPPED, "Shipped", None),
        (("Cancelled", "Canceled", "CanceledRefunded"), _S.CANCELLED, "Cancelled", None),
        (("Test", "New"), _S.CREATED, "New", None),
        (("Test", "Test"), _S.TEST, "Test", None),
        (("Teleported", "Shipped"), _S.UNKNOWN, "Teleported", None),
    ],
)
def test_the_order_state_aggregates_its_items(
    inprocess: Any, statuses: tuple[str, ...], state: OrderState, native: str,
    reason: ActionReason | None,
) -> None:
    status = inprocess.fetch(order_with(inprocess.sandbox, *statuses))
    assert (status.state, status.native_status, status.reason) == (state, native, reason)
    assert [i.native_status for i in status.items] == list(statuses)


def test_item_order_never_changes_the_aggregate(gooten: Any) -> None:
    forward = gooten.fetch(order_with(gooten.sandbox, "Printing", "Shipped", "Test"))
    backward = gooten.fetch(order_with(gooten.sandbox, "Test", "Shipped", "Printing"))
    assert forward.state is backward.state is _S.IN_PRODUCTION


def test_items_travel_through_production_shipping_and_delivery(gooten: Any) -> None:
    sandbox = gooten.sandbox
    oid = sandbox.create_order(items=2)
    sandbox.set_status(oid, "InProduction")
    assert gooten.fetch(oid).state is _S.IN_PRODUCTION
    parcel = {"number": "TRK1", "url": "https://track.example/TRK1", "carrier": "DHL"}
    sandbox.set_status(oid, "Shipped", items=[0], tracking=parcel)
    status = gooten.fetch(oid)
    assert status.state is _S.IN_PRODUCTION
    assert status.items[0].tracking == (Tracking("DHL", "TRK1", "https://track.example/TRK1"),)
    assert status.items[1].tracking == ()
    sandbox.set_status(oid, "Shipped", items=[1], tracking=[])
    sandbox.set_status(oid, "Delivered", items=[0])
    status = gooten.fetch(oid)
    assert (status.state, status.native_status) == (_S.SHIPPED, "Shipped")
    assert status.tracking == (Tracking("DHL", "TRK1", "https://track.example/TRK1"),)
    sandbox.set_status(oid, "Delivered")
    assert gooten.fetch(oid).state is _S.DELIVERED


def test_shipping_without_tracking_gets_an_invented_parcel(inprocess: Any) -> None:
    oid = inprocess.sandbox.create_order()
    inprocess.sandbox.set_status(oid, "Out For Delivery")
    assert inprocess.fetch(oid).tracking == ()  # waits for the courier: no number yet
    inprocess.sandbox.set_status(oid, "Shipped")
    (parcel,) = inprocess.fetch(oid).tracking
    assert parcel.carrier == "UPS"
    assert parcel.number
    assert parcel.url
    assert parcel.number in parcel.url


def test_every_parcel_of_an_item_is_kept(inprocess: Any) -> None:
    oid = inprocess.sandbox.create_order()
    parcels = [{"number": "A1", "carrier": "USPS"}, {"number": "B2", "url": "https://t/B2"}]
    inprocess.sandbox.set_status(oid, "Shipped", tracking=parcels)
    status = inprocess.fetch(oid)
    assert status.items[0].tracking == (
        Tracking(None, "B2", "https://t/B2"), Tracking("USPS", "A1", None)
    )


@pytest.mark.parametrize("refund", ["CanceledRefunded", "Canceled Refunded", "Billed Refunded"])
def test_a_refunded_item_shows_in_the_payment(inprocess: Any, refund: str) -> None:
    status = inprocess.fetch(order_with(inprocess.sandbox, "Shipped", refund))
    assert (status.payment, status.native_payment) == (PaymentState.REFUNDED, refund)
    assert status.items[1].native_status == refund


def test_test_mode_orders_read_test(gooten: Any) -> None:
    status = gooten.fetch(gooten.sandbox.create_order(items=2, test_mode=True))
    assert status.state is _S.TEST
    assert "IsInTestMode" not in status.raw  # a field of placing an order, not of its answer


def item(**fields: Any) -> dict[str, Any]:
    return {"Status": "New", "Sku": "S", "Quantity": 1, **fields}


@pytest.mark.parametrize(("items", "ids"), [
    ([item(OrderItemId=11), item(OrderItemId="12")], ["11", "12"]),
    ([item(Images=[{"SourceUrl": "u", "OrderItemId": 21}]),
      item(Images=[{"OrderItemId": None}, {"OrderItemId": 22}])], ["21", "22"]),
    ([item(Id=31, OrderItemId=32), item(Id="33")], ["32", "33"]),
])
def test_item_ids_come_from_order_item_id_then_images_then_id(
    inprocess: Any, canned: Any, items: list[dict[str, Any]], ids: list[str]
) -> None:
    status = inprocess.fetch("7-x", transport=canned({"Id": "7-x", "Items": items}))
    assert [i.item_id for i in status.items] == ids


@pytest.mark.parametrize("items", [
    [item(Id=11), item(Status="Printing")],
    [item(OrderItemId=5), item(OrderItemId=5)],
    [item(Images="x"), item(Images=[1, "2", {"OrderItemId": True}]), item(OrderItemId=" ")],
])
def test_items_without_usable_ids_are_numbered_by_position(
    inprocess: Any, canned: Any, items: list[dict[str, Any]]
) -> None:
    body = {"Id": "7-x", "Items": items, "Future": {"a": 1}}
    status = inprocess.fetch("7-x", transport=canned(body))
    assert [i.item_id for i in status.items] == [str(n) for n in range(len(items))]
    assert status.raw["Future"] == {"a": 1}


def test_nulls_and_unknown_keys_are_tolerated(inprocess: Any, canned: Any) -> None:
    body = {"Items": [item(Id="a", Shipments=None, TrackingNumber="T9", TrackingUrl=None,
                           ShipCarrierName="", Extra=[1, 2]),
                      item(Id="b", Shipments=[{"TrackingNumber": 42, "Other": True}])]}
    status = inprocess.fetch("7-x", transport=canned(body))
    assert [i.tracking for i in status.items] == [
        (Tracking(None, "T9", None),), (Tracking(None, "42", None),)
    ]


@pytest.mark.parametrize("items", [[], None])
def test_an_order_without_items_is_unknown(inprocess: Any, canned: Any, items: Any) -> None:
    assert inprocess.fetch("7-x", transport=canned({"Items": items})).state is _S.UNKNOWN


@pytest.mark.parametrize(
    "body",
    [[1, 2], {"Id": "7-x"}, {"Items": "New"}, {"Items": [{"Sku": "no status"}]},
     {"Items": [{"Status": None}]}, {"Items": [item(Shipments="DHL")]}, b"{\"Items\": [",
     b"<html>oops</html>"],
    ids=["list", "no-items", "items-string", "no-status", "null-status", "bad-shipments",
         "truncated", "html"],
)
def test_malformed_answers_are_response_format_errors(
    inprocess: Any, canned: Any, body: Any
) -> None:
    with pytest.raises(ResponseFormatError) as raised:
        inprocess.fetch("7-x", transport=canned(body))
    assert raised.value.provider == "gooten"
    assert raised.value.order_id == "7-x"


@pytest.mark.parametrize("code", [200, 400, 401, 403, 500])
def test_an_invalid_recipe_id_message_is_an_authentication_error(
    inprocess: Any, canned: Any, code: int
) -> None:
    body = {"Message": "Authorization has been denied for this request. Invalid recipeId."}
    with pytest.raises(AuthenticationError) as raised:
        inprocess.fetch("7-x", transport=canned(body, code))
    assert "invalid recipeid" in str(raised.value).lower()
    assert raised.value.status_code == code


@pytest.mark.parametrize("code", [200, 401])
def test_a_wrong_recipe_id_against_the_sandbox(gooten: Any, code: int) -> None:
    gooten.sandbox.auth_status = code
    oid = gooten.sandbox.create_order()
    with pytest.raises(AuthenticationError):
        gooten.fetch(oid, settings=gooten.settings(recipe_id="not-the-recipe"))
    assert gooten.sleeps == []


@pytest.mark.parametrize("flag", [True, "true", " True "])
def test_had_error_on_fetch_carries_the_messages(inprocess: Any, canned: Any, flag: Any) -> None:
    body = {"HadError": flag, "ErrorReferenceCode": "ref-1",
            "Errors": [{"PropertyName": "Id", "ErrorMessage": "Something odd",
                        "AttemptedValue": ""}]}
    with pytest.raises(ProviderError) as raised:
        inprocess.fetch("7-x", transport=canned(body))
    assert type(raised.value) is ProviderError
    assert "Something odd" in str(raised.value)
    assert "ref-1" in str(raised.value)


def test_an_unknown_order_is_not_found(gooten: Any) -> None:
    with pytest.raises(OrderNotFoundError) as raised:
        gooten.fetch("7-00000000-nope")
    assert raised.value.status_code == 404
    assert "Order not found" in str(raised.value)


def test_a_plain_message_answer_is_a_provider_error(inprocess: Any, canned: Any) -> None:
    with pytest.raises(ProviderError, match="An error has occurred"):
        inprocess.fetch("7-x", transport=canned({"Message": "An error has occurred."}, 400))


@pytest.mark.parametrize("bad", ["", "7/1", "7?x", "a b", "..", "7%2F", "x" * 129])
def test_unsafe_ids_are_refused_before_any_request(gooten: Any, bad: str) -> None:
    with pytest.raises(InvalidOrderIdError):
        gooten.fetch(bad)
    assert gooten.sandbox.requests == []


def test_the_fetch_request_is_the_documented_one(inprocess: Any, canned: Any) -> None:
    seen: list[httpx.Request] = []
    inprocess.fetch("7-a+b=c&d", transport=canned({"Items": [item()]}, seen=seen))
    (request,) = seen
    assert request.method == "GET"
    assert request.url.path == "/v/5/source/api/orders/"
    assert dict(request.url.params) == {"id": "7-a+b=c&d",
                                        "recipeid": inprocess.sandbox.recipe_id}
    assert "partnerBillingKey" not in str(request.url)
