"""Notifications are queued by the receiver and recorded by a separate worker process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from orderstatus_jobs.tasks import reference

from orderstatus import OrderState, Tracker

from .conftest import wait_for

FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_the_receiver_queues_and_the_worker_fetches_and_records(
    sandboxes: dict[str, Any], receiver_url: str, worker: Path, recorded: Tracker
) -> None:
    printapi, gooten = sandboxes["printapi"], sandboxes["gooten"]
    printapi.subscribe(f"{receiver_url}webhooks/printapi")
    gooten.subscribe(f"{receiver_url}webhooks/gooten?orderid=")
    forged = httpx.post(f"{receiver_url}webhooks/printapi", content="orderId=404404",
                        headers=FORM)
    assert (forged.status_code, forged.json()) == (202, {"queued": "printapi:404404"})
    shipped, making = printapi.create_order(), gooten.create_order(items=2)
    printapi.set_status(shipped, "Shipped")
    gooten.set_status(making, "InProduction")
    assert (printapi.deliver_webhooks(), gooten.deliver_webhooks()) == (1, 2)  # Gooten: per item
    deliveries = [*printapi.webhooks.deliveries, *gooten.webhooks.deliveries]
    # Answered at once: queued, not yet fetched.
    assert [[status for _, status in d.attempts] for d in deliveries] == [[202]] * 3
    wait_for(lambda: recorded.state("printapi", shipped) is OrderState.SHIPPED
             and recorded.state("gooten", making) is OrderState.IN_PRODUCTION, 60, worker)
    wait_for(lambda: f"{reference('printapi', '404404')}: no such order, ignored"
             in worker.read_text(), 30, worker)
    assert recorded.state("printapi", "404404") is None


def test_an_outage_is_retried_by_the_queue(
    sandboxes: dict[str, Any], receiver_url: str, worker: Path, recorded: Tracker
) -> None:
    printapi = sandboxes["printapi"]
    order_id = printapi.create_order()
    printapi.set_status(order_id, "Processing")
    printapi.faults.inject("status", status=503, times=1, path=f"/v2/orders/{order_id}")
    answer = httpx.post(f"{receiver_url}webhooks/printapi", content=f"orderId={order_id}",
                        headers=FORM)
    assert answer.status_code == 202
    wait_for(lambda: recorded.state("printapi", order_id) is OrderState.IN_PRODUCTION, 60, worker)
    fetches = [r for r in printapi.requests if r == ("GET", f"/v2/orders/{order_id}")]
    assert len(fetches) == 2  # refused once, fetched again when the task came back
    assert "retry: Retry in" in worker.read_text()


@pytest.mark.parametrize(("method", "path", "body", "headers", "status"), [
    ("GET", "webhooks/printapi", "", {}, 405),
    ("POST", "elsewhere/printapi", "orderId=1", FORM, 404),
    ("POST", "webhooks/nowhere", "orderId=1", FORM, 404),
    ("POST", "webhooks/printapi", '{"orderId": 1}', {"content-type": "application/json"}, 415),
    ("POST", "webhooks/printapi", "order=1", FORM, 400),
    ("POST", "webhooks/printapi", "orderId=" + "9" * 70_000, FORM, 413),
])
def test_what_cannot_be_queued_is_refused(
    receiver_url: str, method: str, path: str, body: str, headers: dict[str, str], status: int
) -> None:
    answer = httpx.request(method, receiver_url + path, content=body, headers=headers)
    assert answer.status_code == status
    assert "error" in answer.json()
