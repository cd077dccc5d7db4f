"""Webhooks: the sandbox notifies per item update; the client trusts only the query's id."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orderstatus import InvalidWebhookError, OrderNotFoundError, OrderState


def test_every_item_update_notifies_with_the_order_and_its_id(gooten: Any, receiver: Any) -> None:
    sandbox = gooten.sandbox
    oid = sandbox.create_order(order_id="7-a+b=c&d", items=2)
    sandbox.subscribe(receiver.url + "hooks/gooten?orderid=")
    sandbox.set_status(oid, "Printing")
    assert sandbox.advance(0) == 2
    assert len(receiver.calls) == 2
    for call in receiver.calls:
        assert call.method == "POST"
        assert call.url.path == "/hooks/gooten"
        assert call.url.params.get_list("orderid") == [oid]
        assert call.headers["content-type"] == "application/json"
        assert json.loads(call.content)["Id"] == oid
    first, second = (json.loads(c.content)["Items"] for c in receiver.calls)
    assert [i["Status"] for i in first] == ["Printing", "New"]
    assert [i["Status"] for i in second] == ["Printing", "Printing"]
    call = receiver.calls[-1]
    status = gooten.call("handle_webhook", "gooten", body=call.content,
                         headers=dict(call.headers), query=call.url.query.decode())
    assert (status.order_id, status.state) == (oid, OrderState.IN_PRODUCTION)


@pytest.mark.parametrize(("path", "query"), [("hooks", "orderid=ID"),
                                             ("hooks?shop=3", "shop=3&orderid=ID"),
                                             ("hooks?orderid=", "orderid=ID")])
def test_the_id_is_appended_to_any_subscribed_url(
    sandbox: Any, receiver: Any, path: str, query: str
) -> None:
    oid = sandbox.create_order()
    sandbox.subscribe(receiver.url + path)
    sandbox.set_status(oid, "Hold")
    sandbox.advance(0)
    (call,) = receiver.calls
    assert call.url.query.decode() == query.replace("ID", oid)


def test_updates_through_the_api_notify_too(gooten: Any, receiver: Any) -> None:
    oid = gooten.sandbox.create_order(items=3)
    gooten.sandbox.subscribe(receiver.url + "?orderid=")
    gooten.update(oid, "cancelled")
    assert gooten.sandbox.advance(0) == 3


def test_unanswered_notifications_are_retried_after_one_and_five_minutes(
    sandbox: Any, receiver: Any
) -> None:
    receiver.status = 500
    oid = sandbox.create_order()
    sandbox.subscribe(receiver.url + "?orderid=")
    sandbox.set_status(oid, "Shipped")
    assert sandbox.advance(0) == 1
    assert sandbox.advance(59) == 0
    assert sandbox.advance(1) == 1
    assert sandbox.advance(299) == 0
    assert sandbox.advance(1) == 1
    assert sandbox.advance(3600) == 0
    (delivery,) = sandbox.webhooks.deliveries
    assert delivery.given_up
    assert [s for _, s in delivery.attempts] == [500, 500, 500]


def test_a_notification_answered_later_is_delivered(sandbox: Any, receiver: Any) -> None:
    receiver.status = 503
    oid = sandbox.create_order()
    sandbox.subscribe(receiver.url + "?orderid=")
    sandbox.set_status(oid, "Shipped")
    sandbox.advance(0)
    receiver.status = 200
    sandbox.advance(60)
    (delivery,) = sandbox.webhooks.deliveries
    assert delivery.delivered
    assert len(receiver.calls) == 2


def test_a_forged_body_is_never_trusted(gooten: Any) -> None:
    oid = gooten.sandbox.create_order(items=2)
    forged = {"Id": oid, "Items": [{"Status": "Delivered"}, {"Status": "Delivered"}]}
    status = gooten.call("handle_webhook", "gooten", body=json.dumps(forged),
                         headers={"content-type": "application/json"}, query=f"orderid={oid}")
    assert status.state is OrderState.CREATED
    assert [r[0] for r in gooten.sandbox.requests] == ["GET"]


def test_a_forged_id_is_not_found(gooten: Any) -> None:
    with pytest.raises(OrderNotFoundError):
        gooten.call("handle_webhook", "gooten", body=b"{}", query={"orderid": "7-forged"})


@pytest.mark.parametrize("query", ["orderid=7-a%2B1", "OrderId=7-a%2B1", "orderId=7-a%2B1&x=1"])
def test_the_id_parameter_is_matched_case_insensitively(gooten: Any, query: str) -> None:
    oid = gooten.sandbox.create_order(order_id="7-a+1")
    assert gooten.call("webhook_order_id", "gooten", body=b"", query=query) == oid
    assert gooten.call("handle_webhook", "gooten", body=b"", query=query).order_id == oid


@pytest.mark.parametrize(
    "query",
    ["", "id=7-1", "orderid=", "orderid=%20", "orderid=7-1&orderid=7-2", "orderid=7-1&OrderId=7-1",
     "orderid=7%2F1", "orderid=..", "orderid=7-1%0A", "orderid=" + "x" * 129],
)
def test_malformed_notifications_are_refused_before_any_request(gooten: Any, query: str) -> None:
    with pytest.raises(InvalidWebhookError) as raised:
        gooten.call("handle_webhook", "gooten", body=b"{\"Id\": \"7-1\"}", query=query)
    assert raised.value.provider == "gooten"
    assert gooten.sandbox.requests == []
