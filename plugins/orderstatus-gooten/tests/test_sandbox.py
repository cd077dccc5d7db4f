"""The sandbox on its own: Gooten's endpoints, rules and error shapes, and the control API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from orderstatus_gooten import NATIVE_STATUSES, UNMAPPED, GootenSandbox, native_key
from orderstatus_gooten.sandbox import DOCUMENTED_SOURCES, DOCUMENTED_TARGETS

from orderstatus import Client, OrderState, TransitionNotAllowedError
from orderstatus.testing.cassettes import json_shape, load_cassettes

ORDERS = "/v/5/source/api/orders/"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def http(sandbox: GootenSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(transport=sandbox.transport(), base_url="http://127.0.0.1") as client:
        yield client


def get_order(http: httpx.Client, sandbox: GootenSandbox, oid: str | None) -> httpx.Response:
    params = {"recipeid": sandbox.recipe_id, **({"id": oid} if oid is not None else {})}
    return http.get(ORDERS, params=params)


def set_order_status(http: httpx.Client, sandbox: GootenSandbox, oid: str, target: str,
                     **changes: str) -> httpx.Response:
    params = {"recipeid": sandbox.recipe_id, "partnerBillingKey": sandbox.partner_billing_key,
              "id": oid, "orderStatusName": target, **changes}
    return http.post("/orderstatus", params=params)


def assert_had_error(response: httpx.Response, prop: str) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body["HadError"] is True
    assert body["ErrorReferenceCode"]
    (error,) = body["Errors"]
    assert set(error) == {"PropertyName", "ErrorMessage", "AttemptedValue"}
    assert error["PropertyName"] == prop
    return error


def test_an_order_has_gootens_documented_shape(http: httpx.Client, sandbox: GootenSandbox) -> None:
    """The shape of "Get Orders by ID" (the cassette), key for key and type for type."""
    (documented,) = load_cassettes(FIXTURES, "order-get-by-id")
    oid = sandbox.create_order(items=2, source_id="shop-42")
    body = get_order(http, sandbox, oid).json()
    assert json_shape(body) == json_shape(documented.json())
    assert (body["Id"], body["SourceId"]) == (oid, "shop-42")
    assert [item["Status"] for item in body["Items"]] == ["New", "New"]
    assert all("Id" not in item for item in body["Items"])
    sandbox.set_status(oid, "Shipped", items=[0])
    shipped = get_order(http, sandbox, oid).json()["Items"][0]
    (out_for_delivery,) = load_cassettes(FIXTURES, "order-out-for-delivery")
    assert json_shape(shipped) == json_shape(out_for_delivery.json()["Items"][1])


def test_ids_look_like_gootens_and_are_reproducible() -> None:
    first, second = GootenSandbox(seed=3), GootenSandbox(seed=3)
    oid = first.create_order()
    assert oid == second.create_order()
    number, _, rest = oid.partition("-")
    assert number.isdigit()
    assert len(rest) == 36


def test_a_wrong_recipe_id_is_denied(http: httpx.Client, sandbox: GootenSandbox) -> None:
    oid = sandbox.create_order()
    for response in (http.get(ORDERS, params={"id": oid, "recipeid": "nope"}),
                     http.get(ORDERS, params={"id": oid}),
                     set_order_status(http, sandbox, oid, "Hold", recipeid="nope")):
        assert response.status_code == 401
        assert "Invalid recipeId" in response.json()["Message"]
    assert sandbox.orders[oid].items[0].status == "New"


def test_a_missing_or_unknown_order(http: httpx.Client, sandbox: GootenSandbox) -> None:
    missing = get_order(http, sandbox, None)
    assert missing.status_code == 400
    assert_had_error(missing, "Id")
    unknown = get_order(http, sandbox, "7-nope")
    assert unknown.status_code == 404
    assert assert_had_error(unknown, "Id")["AttemptedValue"] == "7-nope"
    assert_had_error(set_order_status(http, sandbox, "7-nope", "Hold"), "Id")


def test_a_wrong_billing_key_is_a_had_error(http: httpx.Client, sandbox: GootenSandbox) -> None:
    oid = sandbox.create_order()
    response = set_order_status(http, sandbox, oid, "Hold", partnerBillingKey="nope")
    assert response.status_code == 200
    error = assert_had_error(response, "PartnerBillingKey")
    assert error["AttemptedValue"] == ""
    assert sandbox.orders[oid].items[0].status == "New"


@pytest.mark.parametrize("target", ["Shipped", "cancelled", "HOLD", "Canceled", "", "InProduction"])
def test_only_the_documented_targets_are_accepted(
    http: httpx.Client, sandbox: GootenSandbox, target: str
) -> None:
    oid = sandbox.create_order()
    assert_had_error(set_order_status(http, sandbox, oid, target), "OrderStatusName")
    assert sandbox.orders[oid].items[0].status == "New"


@pytest.mark.parametrize("native", [*NATIVE_STATUSES, *UNMAPPED, "ready for image dl"])
@pytest.mark.parametrize("target", DOCUMENTED_TARGETS)
def test_only_the_documented_sources_can_be_updated(
    http: httpx.Client, sandbox: GootenSandbox, native: str, target: str
) -> None:
    oid = sandbox.create_order(items=2)
    sandbox.set_status(oid, native, items=[1])
    response = set_order_status(http, sandbox, oid, target)
    statuses = [i.status for i in sandbox.orders[oid].items]
    if native_key(native) in {native_key(s) for s in DOCUMENTED_SOURCES}:
        assert response.json() == {"HadError": False}
        assert statuses == [target, target]
    else:
        error = assert_had_error(response, "OrderStatusName")
        assert native in error["ErrorMessage"]
        assert statuses == ["New", native]


def test_the_control_api_over_http(sandbox: GootenSandbox, loopback: Any) -> None:
    router, url = loopback
    router.sandbox = sandbox
    with httpx.Client(base_url=url) as http:
        created = http.post("/_sandbox/orders", json={"items": 2})
        assert created.status_code == 201
        oid = created.json()["id"]
        moved = http.post(f"/_sandbox/orders/{oid}/status", json={
            "status": "Shipped", "items": [1],
            "tracking": {"number": "Z1", "carrier": "FedEx", "url": "https://t/Z1"}})
        assert moved.status_code == 200
        item = get_order(http, sandbox, oid).json()["Items"][1]
        assert (item["Status"], item["TrackingNumber"], item["ShipCarrierName"]) == (
            "Shipped", "Z1", "FedEx")
        refused = [
            http.post(f"/_sandbox/orders/{oid}/status", json={"status": "Teleported"}),
            http.post(f"/_sandbox/orders/{oid}/status", json={"status": "New", "items": [5]}),
            http.post(f"/_sandbox/orders/{oid}/status", json={"status": "New", "colour": 1}),
            http.post(f"/_sandbox/orders/{oid}/status", json={"status": "Shipped",
                                                              "tracking": {"parcel": 1}}),
            http.post("/_sandbox/orders", json={"items": 0}),
            http.post("/_sandbox/orders", json={"status": "Teleported"}),
            http.post("/_sandbox/orders", json={"order_id": oid}),
        ]
        assert [r.status_code for r in refused] == [400] * len(refused)
        gone = http.post("/_sandbox/orders/7-nope/status", json={"status": "New"})
        assert gone.status_code == 404
    router.sandbox = None


def test_unknown_statuses_need_unchecked(sandbox: GootenSandbox) -> None:
    oid = sandbox.create_order()
    with pytest.raises(ValueError, match="unchecked"):
        sandbox.set_status(oid, "Teleported")
    sandbox.set_status(oid, "Teleported", unchecked=True)
    sandbox.set_status(oid, "VendorAPIIssue")
    assert sandbox.orders[oid].items[0].status == "VendorAPIIssue"


def test_unknown_paths_answer_like_aspnet(http: httpx.Client, sandbox: GootenSandbox) -> None:
    response = http.get("/v/5/source/api/products/", params={"recipeid": sandbox.recipe_id})
    assert response.status_code == 404
    assert "No HTTP resource" in response.json()["Message"]


def test_the_documented_example_orders_are_seeded() -> None:
    sandbox = GootenSandbox()
    readme, fresh = sandbox.seed_examples()
    assert str(readme) == "7-501853e1-8d78-4e1e-83a0-be9fb432efe1 (InProduction, 2 items)"
    assert str(fresh) == "2-e3e70682-c209-4cac-a29f-6fbed82c07cd (New)"
    settings = sandbox.settings("http://127.0.0.1/")
    with Client({"gooten": settings}, transport=sandbox.transport()) as client:
        status = client.fetch("gooten", readme.order_id)
        assert (status.state, status.native_status, len(status.items)) == (
            OrderState.IN_PRODUCTION, "InProduction", 2)
        assert client.fetch("gooten", fresh.order_id).state is OrderState.CREATED
        with pytest.raises(TransitionNotAllowedError, match="items in InProduction"):
            client.update("gooten", readme.order_id, OrderState.CANCELLED)
