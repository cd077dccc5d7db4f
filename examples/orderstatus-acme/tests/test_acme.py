"""Acme Print's own behaviour, through the orderstatus pytest plugin's fixtures."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from orderstatus_acme import AcmeProvider, AcmeSandbox, AcmeSettings

from orderstatus import (
    ActionReason,
    AsyncClient,
    Client,
    InvalidWebhookError,
    OrderState,
    OrderStatus,
    PaymentState,
    Secret,
    TransitionNotAllowedError,
    UpdateRejectedError,
)

pytestmark = pytest.mark.orderstatus(providers=["acme"])


def fetch_both(client: Client, async_client: AsyncClient, order_id: str) -> list[OrderStatus]:
    """The same fetch through the sync and the async client."""
    return [client.fetch("acme", order_id), asyncio.run(async_client.fetch("acme", order_id))]


@pytest.mark.parametrize("http", [False, True])
def test_lines_aggregate_and_keep_their_own_status(
    request: pytest.FixtureRequest, http: bool, orderstatus_sandboxes: dict[str, AcmeSandbox]
) -> None:
    request.applymarker(pytest.mark.orderstatus(providers=["acme"], http=http))
    sandbox = orderstatus_sandboxes["acme"]
    order_id = sandbox.create_order(items=2, payment="paid")
    sandbox.set_status(order_id, "shipped", items=[0])
    sandbox.set_status(order_id, "needs_artwork", items=[1])
    client = request.getfixturevalue("orderstatus_client")
    async_client = request.getfixturevalue("orderstatus_async_client")
    for status in fetch_both(client, async_client, order_id):
        assert status.state is OrderState.ACTION_REQUIRED
        assert status.reason is ActionReason.ARTWORK
        assert status.payment is PaymentState.PAID
        assert [i.native_status for i in status.items] == ["shipped", "needs_artwork"]
        assert status.tracking[0].carrier == "AcmePost"
        # the time of the order's last change, as the sandbox stamped it
        assert status.provider_time == dt.datetime.fromisoformat(
            sandbox.orders[order_id].updated_at.replace("Z", "+00:00"))


def test_update_is_checked_before_sending_and_acme_answers_409_otherwise(
    orderstatus_sandboxes: dict[str, AcmeSandbox], orderstatus_client: Client
) -> None:
    sandbox = orderstatus_sandboxes["acme"]
    order_id = sandbox.create_order()
    held = orderstatus_client.update("acme", order_id, OrderState.ON_HOLD)
    assert held.native_status == "paused"
    sandbox.set_status(order_id, "printing")
    current = orderstatus_client.fetch("acme", order_id)
    sent = len(sandbox.requests)
    with pytest.raises(TransitionNotAllowedError, match="items in printing"):
        orderstatus_client.update("acme", order_id, "cancelled", current=current)
    assert len(sandbox.requests) == sent


def test_an_outdated_current_status_meets_acmes_own_refusal(
    orderstatus_sandboxes: dict[str, AcmeSandbox], orderstatus_client: Client
) -> None:
    sandbox = orderstatus_sandboxes["acme"]
    order_id = sandbox.create_order()
    outdated = orderstatus_client.fetch("acme", order_id)
    sandbox.set_status(order_id, "shipped")
    with pytest.raises(UpdateRejectedError, match="lines in shipped cannot transition"):
        orderstatus_client.update("acme", order_id, "cancelled", current=outdated)


def test_webhooks_name_the_order_and_nothing_else(
    orderstatus_sandboxes: dict[str, AcmeSandbox], orderstatus_client: Client
) -> None:
    order_id = orderstatus_sandboxes["acme"].create_order()
    body = f'{{"event": "order.updated", "order_id": "{order_id}"}}'
    status = orderstatus_client.handle_webhook(
        "acme", body=body, headers={"content-type": "application/json"}
    )
    assert status.order_id == order_id
    for bad, message in [
        ('{"event": "order.deleted", "order_id": "x"}', "unexpected acme event"),
        ("orderId=1", "not an acme event"),
    ]:
        with pytest.raises(InvalidWebhookError, match=message):
            orderstatus_client.webhook_order_id(
                "acme", body=bad, headers={"content-type": "application/json"}
            )
    with pytest.raises(InvalidWebhookError, match="application/json"):
        orderstatus_client.webhook_order_id("acme", body=body, headers={})


def test_the_feed_pages_through_every_change(
    orderstatus_sandboxes: dict[str, AcmeSandbox], orderstatus_client: Client
) -> None:
    sandbox = orderstatus_sandboxes["acme"]
    first = sandbox.create_order()
    sandbox.set_status(first, "printing")
    page = orderstatus_client.feed("acme")
    assert [(s.order_id, s.state) for s in page.statuses] == [
        (first, OrderState.CREATED), (first, OrderState.IN_PRODUCTION)]
    assert orderstatus_client.feed("acme", since=page.cursor).statuses == ()


def test_statuses_match_in_any_case() -> None:
    assert AcmeProvider.native_key(" Needs_Artwork ") == AcmeProvider.native_key("needs_artwork")


def test_classify_error_only_claims_409() -> None:
    provider = AcmeProvider(AcmeSettings("acct_1", Secret("k" * 8)))
    assert provider.classify_error("x", httpx.Response(404, json={})) is None
    error = provider.classify_error("x", httpx.Response(409, content=b"not json"))
    assert isinstance(error, UpdateRejectedError)
    assert error.messages == ("no reason given",)
