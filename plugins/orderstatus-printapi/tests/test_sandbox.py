"""The sandbox itself: its control API, its endpoints answering in the shapes Print API's
recorded and documented answers have, OAuth, payment set-up and expiry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from orderstatus_printapi import PrintApiSandbox, format_provider_time

from orderstatus import Client, OrderState, PaymentState
from orderstatus.testing.asgi import mount, serve
from orderstatus.testing.cassettes import json_shape, load_cassettes

from .conftest import FIXTURES

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def served(sandbox) -> Iterator[httpx.Client]:
    """Raw HTTP to the sandbox on loopback, with a fresh access token."""
    with serve(sandbox.asgi()) as url, httpx.Client(base_url=url) as http:
        token = http.post("v2/oauth", data={
            "grant_type": "client_credentials", "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        }).json()["access_token"]
        http.headers["authorization"] = f"Bearer {token}"
        yield http


def test_control_api_creates_and_moves_orders(sandbox, served):
    created = served.post("_sandbox/orders", json={"items": 2, "checkout": True})
    assert created.status_code == 201
    order_id = created.json()["id"]
    moved = served.post(f"_sandbox/orders/{order_id}/status",
                        json={"status": "Processing", "payment": "Successful"})
    assert moved.status_code == 200
    assert served.get(f"v2/orders/{order_id}/status").json() == {
        "order": "Processing", "payment": "Successful"
    }
    served.post(f"_sandbox/orders/{order_id}/status", json={"status": None, "payment": "Open"})
    with Client({"printapi": sandbox.settings(str(served.base_url))}) as client:
        status = client.fetch("printapi", order_id)
    assert (status.state, status.payment, len(status.items)) == (
        OrderState.IN_PRODUCTION, PaymentState.OPEN, 2
    )


@pytest.mark.parametrize(("path", "body", "code"), [
    ("orders", {"items": 0}, 400),
    ("orders", {"colour": "red"}, 400),
    ("orders/1/status", {"status": "Shipped"}, 404),
    ("orders/{id}/status", {"status": "Delivered"}, 400),
    ("orders/{id}/status", {"status": "Shipped", "items": [0]}, 400),
    ("orders/{id}/status", {"status": None, "payment": "Successful"}, 400),
    ("orders/{id}/status", {"status": "Shipped", "payment": "Paid"}, 400),
    ("orders/{id}/status", {"status": None, "files": "Lost"}, 400),
    ("orders/{id}/status", {"status": None, "files": "Accepted", "file_items": [3]}, 400),
    ("orders/{id}/status", {"status": None, "file_items": [0]}, 400),
])
def test_control_api_refuses_nonsense(sandbox, served, path, body, code):
    order_id = sandbox.create_order()
    answer = served.post("_sandbox/" + path.format(id=order_id), json=body)
    assert answer.status_code == code
    assert answer.json()["error"]


def recorded(name):
    (cassette,) = load_cassettes(FIXTURES, name)
    return cassette.json()


def test_an_order_answers_in_the_recorded_shape(sandbox, served):
    order_id = sandbox.create_order()
    data = served.get(f"v2/orders/{order_id}").json()
    assert json_shape(data) == json_shape(recorded("order-placed"))
    # the creation time, Amsterdam wall-clock time, trailing zeros left out
    assert data["dateTime"] == format_provider_time(sandbox.orders[order_id].created_at)
    sandbox.set_status(order_id, "DownloadFailed")
    failed = served.get(f"v2/orders/{order_id}").json()
    assert json_shape(failed) == json_shape(recorded("order-download-failed"))
    assert failed["items"][0]["files"]["content"]["status"] == "DownloadFailed"
    assert served.get(f"v2/orders/{order_id}/status").json() == {"order": "Created"}
    assert json_shape(served.get(f"v2/orders/{order_id}/status").json()) == json_shape(
        recorded("order-status"))


def test_a_checkout_answers_in_the_documented_shapes(sandbox, served):
    order_id = sandbox.create_order(checkout=True, amount=22.49)
    data = served.get(f"v2/orders/{order_id}").json()
    assert json_shape(data["checkout"]) == json_shape(
        recorded("order-checkout-not-set-up")["checkout"])
    assert "trackingUrl" not in data
    setup = data["checkout"]["setupUrl"]
    assert setup.startswith(str(served.base_url) + "v2/checkout/")
    assert served.post(setup, json={"returnUrl": "x"}).status_code == 400
    answer = served.post(setup, json={"returnUrl": "https://shop.example/paid"})
    assert answer.status_code == 201
    assert (answer.json()["status"], answer.json()["amount"]) == ("Open", 22.49)
    data = served.get(f"v2/orders/{order_id}").json()
    assert json_shape(data["checkout"]) == json_shape(recorded("order-payment-failed")["checkout"])
    assert data["checkout"]["paymentUrl"].startswith(str(served.base_url) + "v2/payments/")
    assert served.get(f"v2/orders/{order_id}/status").json() == {
        "order": "Created", "payment": "Open"
    }
    sandbox.set_status(order_id, "AwaitingUpload")
    file = served.get(f"v2/orders/{order_id}").json()["items"][0]["files"]["content"]
    assert json_shape(file) == json_shape(
        recorded("order-checkout-not-set-up")["items"][1]["files"]["content"])
    sandbox.set_status(order_id, "Shipped")
    assert served.get(f"v2/orders/{order_id}").json()["trackingUrl"].startswith("https://")
    sandbox.set_payment(order_id, "Successful")
    assert served.post(setup, json={"returnUrl": "https://shop.example/again"}).status_code == 400


def test_the_feed_echoes_since_in_the_recorded_shape(sandbox, served):
    sandbox.create_order()
    answer = served.get("v2/sync/statuses", params={"since": "2025-03-24T13:00:00"}).json()
    assert answer["since"] == "2025-03-24T13:00:00"
    assert json_shape(answer) == json_shape(recorded("sync-statuses"))
    since = format_provider_time(sandbox.clock.now() + dt.timedelta(seconds=1))
    later = served.get("v2/sync/statuses", params={"since": since}).json()
    assert later == {"since": since, "results": []}


def test_the_token_answers_in_the_recorded_shape(sandbox, served):
    good = {"grant_type": "client_credentials", "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret}
    token = served.post("v2/oauth", data=good).json()
    assert json_shape(token) == json_shape(recorded("oauth-token"))


def test_oauth_endpoint(sandbox, served):
    good = {"grant_type": "client_credentials", "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret}
    token = served.post("v2/oauth", data=good).json()
    assert set(token) == {"scope", "access_token", "token_type", "expires_in"}
    assert (token["token_type"], token["expires_in"]) == ("bearer", 14399)
    assert served.post("v2/oauth", data={**good, "grant_type": "password"}).json() == {
        "error": "unsupported_grant_type"
    }
    assert served.post("v2/oauth", json=good).status_code == 400
    assert served.get("v2/oauth").status_code == 405
    refused = served.post("v2/oauth", data={**good, "client_secret": "nope"})
    assert (refused.status_code, refused.json()) == (401, {"error": "invalid_client"})


def test_api_calls_need_a_live_token(sandbox, served):
    order_id = sandbox.create_order()
    assert served.get(f"v2/orders/{order_id}").status_code == 200
    anonymous = served.get(f"v2/orders/{order_id}", headers={"authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    sandbox.advance(14399)
    expired = served.get(f"v2/orders/{order_id}")
    assert (expired.status_code, expired.json()) == (401, {"error": "expired_token"})


def test_unknown_paths_and_methods(sandbox, served):
    assert served.get("v2/orders/1").status_code == 404
    assert served.get("v2/nothing").status_code == 404
    assert served.get("other").status_code == 404
    assert served.post(f"v2/orders/{sandbox.create_order()}").status_code == 405
    assert served.get("v2/sync/statuses", params={"since": "soon"}).status_code == 400


def test_open_payment_links_expire_24_hours_after_their_set_up(sandbox):
    unpaid, paid, shipped, later = (sandbox.create_order(checkout=True) for _ in range(4))
    for order_id in (unpaid, shipped):
        sandbox.setup_checkout(order_id)
    sandbox.set_payment(paid, "Successful")
    sandbox.orders[shipped].status = "Shipped"
    sandbox.advance(24 * 3600 - 1)
    assert sandbox.orders[unpaid].checkout.status == "Open"
    sandbox.advance(1)
    states = {o: (sandbox.orders[o].status, sandbox.orders[o].checkout.status)
              for o in (unpaid, paid, shipped, later)}
    assert states == {unpaid: ("Cancelled", "Cancelled"), paid: ("Created", "Successful"),
                      shipped: ("Shipped", "Cancelled"), later: ("Created", None)}


def test_sandbox_settings_and_statuses():
    sandbox = PrintApiSandbox(token_lifetime=60, feed_page_size=3)
    settings = sandbox.settings("http://127.0.0.1:8000/")
    assert settings["base_url"] == "http://127.0.0.1:8000/v2/"
    assert sandbox.settings(settings["base_url"])["base_url"] == settings["base_url"]
    assert settings["environment"] == "test"
    assert sandbox.statuses == ("Created", "Processing", "Shipped", "Cancelled", "Failed",
                                "AwaitingUpload", "DownloadFailed")
    assert (sandbox.webhook_schedule, sandbox.webhook_attempts) == ((120, 300, 3600), 10)


def test_the_documented_example_orders_are_seeded():
    sandbox = PrintApiSandbox()
    examples = sandbox.seed_examples()
    assert [str(e) for e in examples] == [
        "59802395 (Processing, 2 items)", "83432183 (Shipped, payment Successful)",
        "11410411 (Created)",
    ]
    settings = sandbox.settings("http://127.0.0.1/")
    with Client({"printapi": settings}, transport=sandbox.transport()) as client:
        readme = client.fetch("printapi", "59802395")
        paid = client.fetch("printapi", "83432183")
        fresh = client.fetch("printapi", "11410411")
    assert (readme.state, readme.payment, len(readme.items)) == (
        OrderState.IN_PRODUCTION, None, 2)
    assert (paid.state, paid.payment) == (OrderState.SHIPPED, PaymentState.PAID)
    assert paid.tracking[0].url.startswith("https://jouw.postnl.nl/")
    assert fresh.state is OrderState.CREATED
    assert sandbox.create_order() == "11410412"
    with pytest.raises(ValueError, match="order '59802395' exists"):
        sandbox.create_order(order_id="59802395")


def test_links_in_answers_reach_the_sandbox_served_under_a_prefix(sandbox):
    """Served by ``orderstatus sandbox`` (under ``/printapi/`` of a shared port), the
    ``setupUrl`` and ``paymentUrl`` an order carries lead back to it."""
    order_id = sandbox.create_order(checkout=True)
    with serve(mount({"printapi": sandbox.asgi()})) as url, httpx.Client() as http:
        base = sandbox.settings(f"{url}printapi/")["base_url"]
        assert base == f"{url}printapi/v2/"
        token = http.post(base + "oauth", data={
            "grant_type": "client_credentials", "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        }).json()["access_token"]
        http.headers["authorization"] = f"Bearer {token}"
        setup = http.get(f"{base}orders/{order_id}").json()["checkout"]["setupUrl"]
        assert setup.startswith(f"{base}checkout/")
        answer = http.post(setup, json={"returnUrl": "https://shop.example/paid"})
        assert answer.status_code == 201
        assert answer.json()["paymentUrl"].startswith(f"{base}payments/")


def test_an_order_created_with_a_payment_has_its_payment_screen_set_up(sandbox):
    order_id = sandbox.create_order(items=2, payment="Open")
    settings = sandbox.settings("http://127.0.0.1/")
    with Client({"printapi": settings}, transport=sandbox.transport()) as client:
        assert client.fetch("printapi", order_id).payment is PaymentState.OPEN
        sandbox.set_status(order_id, "Created", payment="Successful")
        paid = client.fetch("printapi", order_id)
    assert (paid.state, paid.payment) == (OrderState.CREATED, PaymentState.PAID)
    assert sandbox.orders[order_id].checkout.set_up_at is not None
    with pytest.raises(ValueError, match="unknown payment 'Paid'"):
        sandbox.create_order(payment="Paid")
    assert list(sandbox.orders) == [order_id]  # nothing half made
