"""The sandboxes post real webhooks to the site served on loopback; the view records them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orderstatus import OrderState, Tracker

# Each provider's webhook URL as its docs ask for it, a native status and where it lands.
PROVIDERS = {
    "printapi": ("webhooks/printapi", "Shipped", OrderState.SHIPPED),
    "gooten": ("webhooks/gooten?orderid=", "InProduction", OrderState.IN_PRODUCTION),
}


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_a_notification_is_fetched_recorded_and_answered(
    provider: str, site: str, orderstatus_sandboxes: dict[str, Any], recorded: Tracker
) -> None:
    path, native, state = PROVIDERS[provider]
    sandbox = orderstatus_sandboxes[provider]
    sandbox.subscribe(site + path)
    order_id = sandbox.create_order()
    sandbox.set_status(order_id, native)
    sandbox.deliver_webhooks()
    (delivery,) = sandbox.webhooks.deliveries
    assert [status for _, status in delivery.attempts] == [200]  # answered: stored
    assert recorded.state(provider, order_id) is state
    assert [e.status.state for e in recorded.history(provider, order_id)][-1] is state


@pytest.mark.orderstatus(providers=["printapi"])
def test_the_answer_says_what_was_recorded(
    site: str, orderstatus_sandboxes: dict[str, Any]
) -> None:
    order_id = orderstatus_sandboxes["printapi"].create_order()
    form = {"content-type": "application/x-www-form-urlencoded"}
    first = httpx.post(f"{site}webhooks/printapi", content=f"orderId={order_id}", headers=form)
    again = httpx.post(f"{site}webhooks/printapi", content=f"orderId={order_id}", headers=form)
    assert (first.status_code, first.json()) == (
        200, {"result": "change", "order_id": order_id, "state": "created"})
    assert again.json()["result"] == "duplicate"


@pytest.mark.orderstatus(providers=["printapi"])
@pytest.mark.parametrize(("method", "path", "body", "content_type", "status", "says"), [
    ("GET", "webhooks/printapi", "", "", 405, None),
    ("POST", "webhooks/nowhere", "orderId=1", "application/x-www-form-urlencoded", 404,
     "provider 'nowhere' is not configured"),
    ("POST", "webhooks/printapi", '{"orderId": 1}', "application/json", 415, "content type"),
    ("POST", "webhooks/printapi", "order=1", "application/x-www-form-urlencoded", 400, None),
    ("POST", "webhooks/printapi", "orderId=" + "9" * 70_000, "application/x-www-form-urlencoded",
     400, None),  # over DATA_UPLOAD_MAX_MEMORY_SIZE: refused before the view reads it
    ("POST", "webhooks/printapi", "orderId=404404", "application/x-www-form-urlencoded", 200,
     "ignored"),  # no such order: a forged or stale id, nothing stored
])
def test_what_cannot_be_recorded_is_refused_or_ignored(
    site: str, method: str, path: str, body: str, content_type: str, status: int,
    says: str | None, recorded: Tracker,
) -> None:
    answer = httpx.request(method, site + path, content=body,
                           headers={"content-type": content_type} if content_type else {})
    assert answer.status_code == status
    if says is not None:
        assert says in answer.text
    assert recorded.tracked() == []


@pytest.mark.orderstatus(providers=["printapi"])
def test_an_outage_asks_the_provider_to_retry_and_its_retry_is_recorded(
    site: str, orderstatus_sandboxes: dict[str, Any], recorded: Tracker
) -> None:
    sandbox = orderstatus_sandboxes["printapi"]
    order_id = sandbox.create_order()
    sandbox.subscribe(f"{site}webhooks/printapi")
    sandbox.set_status(order_id, "Processing")
    sandbox.faults.inject("status", status=503, times=2)  # both attempts of the view's fetch
    sandbox.deliver_webhooks()
    (delivery,) = sandbox.webhooks.deliveries
    assert [status for _, status in delivery.attempts] == [503]
    assert recorded.state("printapi", order_id) is None
    sandbox.advance(sandbox.webhook_schedule[0])  # Print API calls again two minutes later
    assert [status for _, status in delivery.attempts] == [503, 200]
    assert recorded.state("printapi", order_id) is OrderState.IN_PRODUCTION
