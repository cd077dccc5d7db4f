"""Webhook storm: 10,000 notifications for 1,000 orders, all arriving at once.

The notifications (ten per order, shuffled) are posted concurrently through the webhook ASGI
app (``httpx.ASGITransport``, no sockets) to a :class:`~orderstatus.webhooks.WebhookReceiver`
whose client fetches from a fakeshop sandbox in-process. The figures are how many fetches the
sandbox saw (duplicates in flight share one fetch) and the acknowledgement latency of each
notification. The baseline is one fetch per order.
"""

from __future__ import annotations

import asyncio
import json
import random
import time

import httpx

from orderstatus import AsyncClient
from orderstatus.tracking import Tracker
from orderstatus.webhooks import WebhookReceiver, webhook_app

from ._common import Result, percentile

TARGET_RATIO = 1.0


async def _storm(orders: int, per_order: int) -> tuple[int, list[float], int]:
    from orderstatus_fakeshop import FakeshopSandbox

    sandbox = FakeshopSandbox()
    ids = [sandbox.create_order(items=2) for _ in range(orders)]
    notes = [i for i in ids for _ in range(per_order)]
    random.Random(3).shuffle(notes)
    settings = {"fakeshop": sandbox.settings("http://127.0.0.1/v1/")}
    async with AsyncClient(settings, transport=sandbox.transport()) as client:
        app = webhook_app(WebhookReceiver(client, Tracker()))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hooks") as http:

            async def post(order_id: str) -> tuple[float, int]:
                start = time.perf_counter()
                answer = await http.post(
                    "/webhooks/fakeshop", content=json.dumps({"order": order_id}),
                    headers={"content-type": "application/json"},
                )
                return time.perf_counter() - start, answer.status_code

            answers = await asyncio.gather(*(post(i) for i in notes))
    fetches = sum(1 for method, _ in sandbox.requests if method == "GET")
    failed = sum(1 for _, status in answers if status != 200)
    return fetches, [latency for latency, _ in answers], failed


def run(smoke: bool) -> list[Result]:
    """Fetches per order and acknowledgement latency under a storm."""
    orders, per_order = (50, 10) if smoke else (1_000, 10)
    fetches, latencies, failed = asyncio.run(_storm(orders, per_order))
    if failed:
        raise RuntimeError(f"{failed} notifications were not acknowledged with 200")
    ratio = fetches / orders
    return [Result(
        "webhook storm",
        f"{fetches:,} fetches for {orders * per_order:,} notifications on {orders:,} orders; "
        f"ack p50 {percentile(latencies, 0.5) * 1e3:.0f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1e3:.0f} ms (all posted at once)",
        ratio, "fetches / orders", f"<= {orders:,} fetches", ratio <= TARGET_RATIO,
    )]
