"""Webhook notifications of any shape: an order id that is safe to fetch, or a typed refusal.

Through the client (``webhook_order_id``, ``handle_webhook``), the framework-free receiver and
its ASGI app: never an unexpected exception, never a request for an unsafe id.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from orderstatus import AsyncClient, InvalidWebhookError, OrderStatusError, check_order_id
from orderstatus.tracking import Tracker
from orderstatus.webhooks import WebhookReceiver, webhook_app
from tests.conftest import Api
from tests.providers import LOCAL, new_sandbox

from .conftest import HOSTILE, NO_RETRY, Guard
from .strategies import bodies, headers, queries

RECEIVER_ANSWERS = {200, 400, 404, 405, 413, 415, 500, 503}


@HOSTILE
@given(body=bodies, head=headers, query=queries)
def test_a_notification_names_a_safe_id_or_is_refused(
    guarded: tuple[Api, Guard], provider: str, body: bytes, head: dict[str, str],
    query: Any,
) -> None:
    api, guard = guarded
    guard.expect()
    try:
        order_id = api.webhook_order_id(provider, body=body, headers=head, query=query)
    except InvalidWebhookError as err:
        refusal: InvalidWebhookError | None = err
    else:
        refusal = None
    if refusal is not None:
        assert "\n" not in str(refusal)
        assert guard.seen == []
        return
    assert check_order_id(order_id) == order_id
    guard.expect(order_id)
    try:
        status = api.handle_webhook(provider, body=body, headers=head, query=query)
    except OrderStatusError:
        pass  # the sandbox does not know most ids: a typed error, after a well-shaped fetch
    else:
        assert status.order_id == order_id
    assert guard.seen


def _receiver(provider: str) -> tuple[WebhookReceiver, Guard, AsyncClient]:
    sandbox = new_sandbox(provider)
    guard = Guard(sandbox)
    client = AsyncClient({provider: sandbox.settings(LOCAL)}, transport=guard.transport(),
                         retry=NO_RETRY)
    return WebhookReceiver(client, Tracker()), guard, client


@HOSTILE
@given(body=bodies, head=headers, query=queries,
       method=st.sampled_from(("POST", "GET", "PUT", "post")))
def test_the_receiver_always_answers(
    provider: str, body: bytes, head: dict[str, str], query: Any, method: str
) -> None:
    async def scenario() -> int:
        receiver, _, client = _receiver(provider)
        async with client:
            answer = await receiver.receive(provider, method=method, body=body, headers=head,
                                            query=query)
        return answer.status

    assert asyncio.run(scenario()) in RECEIVER_ANSWERS


@HOSTILE
@given(body=bodies, head=headers, path=st.text(max_size=30),
       method=st.sampled_from(("POST", "GET", "DELETE")))
def test_the_asgi_app_always_answers(
    provider: str, body: bytes, head: dict[str, str], path: str, method: str
) -> None:
    import httpx

    async def scenario() -> set[int]:
        receiver, _, client = _receiver(provider)
        app = webhook_app(receiver)
        async with client, httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hooks"
        ) as http:
            codes = set()
            hostile = quote(path, safe="/")
            for url in (f"/webhooks/{provider}", "/webhooks/" + hostile, f"/webhooks/{hostile}/x"):
                raw = {k: v.encode("latin-1") for k, v in head.items()}  # bytes, as on the wire
                answer = await http.request(method, url, content=body, headers=raw)
                codes.add(answer.status_code)
        return codes

    assert asyncio.run(scenario()) <= RECEIVER_ANSWERS
