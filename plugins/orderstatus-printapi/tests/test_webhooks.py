"""Webhooks: what the sandbox sends, on which schedule, and what the client accepts."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Iterator

import httpx
import pytest
from orderstatus_printapi import PrintApiSandbox

from orderstatus import OrderState, PaymentState
from orderstatus.errors import InvalidWebhookError, OrderNotFoundError
from orderstatus.testing.asgi import asgi_app, serve
from orderstatus.testing.sandbox import EPOCH, SandboxClock

FORM = {"content-type": "application/x-www-form-urlencoded"}


class Receiver:
    """A webhook endpoint on loopback that records every call and answers ``status``."""

    def __init__(self, sandbox: PrintApiSandbox, status: int = 200) -> None:
        self.sandbox = sandbox
        self.status = status
        self.calls: list[tuple[dt.datetime, bytes, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(
            (self.sandbox.clock.now(), request.content, request.headers.get("content-type", ""))
        )
        return httpx.Response(self.status)


@contextlib.contextmanager
def receiving(sandbox: PrintApiSandbox, status: int = 200) -> Iterator[Receiver]:
    receiver = Receiver(sandbox, status)
    with serve(asgi_app(receiver)) as url:
        sandbox.subscribe(url + "hooks/printapi")
        yield receiver


def test_every_status_and_payment_change_is_notified(api, sandbox):
    with receiving(sandbox) as receiver:
        order_id = sandbox.create_order(checkout=True)
        sandbox.set_status(order_id, "Processing")
        sandbox.set_payment(order_id, "Successful")
        sandbox.set_status(order_id, "Shipped")
        sandbox.set_status(order_id, "Shipped")  # no change, no notification
        assert sandbox.advance(0) == 3
    assert [(body, kind) for _, body, kind in receiver.calls] == [
        (f"orderId={order_id}".encode(), "application/x-www-form-urlencoded")
    ] * 3
    # each notification only names the order: the client fetches the real status
    for _, body, kind in receiver.calls:
        status = api.handle_webhook(body, {"content-type": kind})
        assert (status.state, status.payment) == (OrderState.SHIPPED, PaymentState.PAID)


def test_a_payment_set_up_and_its_expiry_are_notified(api, sandbox):
    with receiving(sandbox) as receiver:
        order_id = sandbox.create_order(checkout=True)
        sandbox.advance(60)
        assert receiver.calls == []  # placing the order and accepting its files: no call
        sandbox.setup_checkout(order_id)
        sandbox.advance(24 * 3600 - 1)
        assert len(receiver.calls) == 1
        sandbox.advance(1)
    assert len(receiver.calls) == 2
    _, body, kind = receiver.calls[-1]
    status = api.handle_webhook(body, {"content-type": kind})
    assert (status.state, status.payment) == (OrderState.CANCELLED, PaymentState.CANCELLED)


def test_sandbox_follows_the_documented_retry_schedule():
    sandbox = PrintApiSandbox(clock=SandboxClock(start=EPOCH))  # exact gaps: a frozen clock
    with receiving(sandbox, status=503) as receiver:
        order_id = sandbox.create_order()
        sandbox.set_status(order_id, "Processing")
        sandbox.advance(0)
        for _ in range(9 * 60):  # nine hours, a minute at a time
            sandbox.advance(60)
    times = [when for when, _, _ in receiver.calls]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert gaps == [120, 300] + [3600] * 7
    assert len(receiver.calls) == 10
    (delivery,) = sandbox.webhooks.deliveries
    assert delivery.given_up
    assert [status for _, status in delivery.attempts] == [503] * 10


def test_a_delivered_notification_is_not_sent_again(sandbox):
    with receiving(sandbox) as receiver:
        sandbox.set_status(sandbox.create_order(), "Cancelled")
        sandbox.advance(0)
        sandbox.advance(3 * 3600)
    assert len(receiver.calls) == 1
    assert sandbox.webhooks.deliveries[0].delivered


def test_a_repeated_notification_gives_the_same_status(api, sandbox):
    order_id = sandbox.create_order()
    sandbox.set_status(order_id, "Processing")
    body = f"orderId={order_id}".encode()
    first, second = (api.handle_webhook(body, FORM) for _ in range(2))
    assert first.state is second.state is OrderState.IN_PRODUCTION


def test_a_forged_notification_finds_no_order(api, sandbox):
    with pytest.raises(OrderNotFoundError):
        api.handle_webhook(b"orderId=12345", FORM)
    assert [m for m, _ in sandbox.requests] == ["POST", "GET"]


@pytest.mark.parametrize("content_type", [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=UTF-8",
    "Application/X-WWW-Form-Urlencoded",
])
def test_good_notifications(api, content_type):
    body = b"orderId=59802395"
    assert api.client.webhook_order_id(
        "printapi", body=body, headers={"content-type": content_type}
    ) == "59802395"


def test_the_query_string_is_not_trusted(api):
    order_id = api.client.webhook_order_id(
        "printapi", body=b"orderId=1", headers=FORM, query={"orderId": "2"}
    )
    assert order_id == "1"


MALFORMED = [
    (b"", FORM["content-type"], "empty"),
    (b"orderId=", FORM["content-type"], "orderid is empty"),
    (b"orderId=1&orderId=2", FORM["content-type"], "repeated"),
    (b"orderId=1&orderId=1", FORM["content-type"], "repeated"),
    (b"orderId=1&status=Shipped", FORM["content-type"], "unexpected field 'status'"),
    (b"orderId=1&", FORM["content-type"], "unexpected field ''"),
    (b"orderid=1", FORM["content-type"], "unexpected field 'orderid'"),
    (b"orderId", FORM["content-type"], "not a plain form value"),
    (b"orderId=1=2", FORM["content-type"], "not a plain form value"),
    (b"orderId=1\n", FORM["content-type"], "not a plain form value"),
    (b"orderId=a b", FORM["content-type"], "not a plain form value"),
    (b"orderId=" + b"1" * 65, FORM["content-type"], "more than 64"),
    (b"orderId=1%2F2", FORM["content-type"], "not a plain id"),
    (b"orderId=..", FORM["content-type"], "not a plain id"),
    (b"orderId=%00", FORM["content-type"], "not a plain id"),
    (b"orderId=\xff", FORM["content-type"], "not ascii"),
    (b"orderId=1&" + b"x" * 300, FORM["content-type"], "more than 256"),
    (b'{"orderId": "1"}', "application/json", "content type"),
    (b"orderId=1", "text/plain", "content type"),
    (b"orderId=1", "multipart/form-data; boundary=x", "content type"),
    (b"orderId=1", None, "not none"),
]


def test_malformed_notifications_are_refused_before_any_request(api, sandbox):
    for body, content_type, reason in MALFORMED:
        headers = {} if content_type is None else {"content-type": content_type}
        with pytest.raises(InvalidWebhookError) as caught:
            api.handle_webhook(body, headers)
        message = str(caught.value)
        assert message.startswith("printapi: refused notification: "), body
        assert reason in message.lower(), (body, message)
    assert sandbox.requests == []
