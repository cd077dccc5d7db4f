"""Webhook storm: ten notifications for each of 500 orders, all arriving at once.

The notifications (shuffled, shaped as the provider's sandbox sends them) are posted
concurrently through the webhook ASGI app (``httpx.ASGITransport``, no sockets) to a
:class:`~orderstatus.webhooks.WebhookReceiver` whose client fetches from the provider's sandbox
in-process. The figure is how many fetches the sandbox saw: duplicates in flight share one
fetch, and the baseline is one fetch per order. The acknowledgement latencies are printed beside.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from typing import Any

import httpx

from orderstatus import AsyncClient
from orderstatus.tracking import Tracker
from orderstatus.webhooks import WebhookReceiver, webhook_app

from ._common import BASE, PROVIDERS, Result, Spread, at_most, sandbox

TARGET = at_most(1.0)


class _Count(list[Any]):
    """A request log that only counts fetches."""

    fetches = 0

    def append(self, item: Any) -> None:
        self.fetches += item[0] == "GET"


async def _storm(provider: str, orders: int, per_order: int) -> tuple[int, list[float]]:
    box = sandbox(provider, orders)
    path = f"/webhooks/{provider}" + ("?orderid=" if provider == "gooten" else "")
    box.subscribe(f"http://hooks{path}")
    notes = [box.webhook_notification(i) for i in box.ids for _ in range(per_order)]
    random.Random(3).shuffle(notes)
    box.requests = log = _Count()
    async with AsyncClient({provider: box.settings(BASE)}, transport=box.transport()) as client:
        app = webhook_app(WebhookReceiver(client, Tracker()))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://hooks") as http:

            async def post(body: bytes, content_type: str, suffix: str) -> float:
                start = time.perf_counter()
                answer = await http.post(path + suffix, content=body,
                                         headers={"content-type": content_type})
                if answer.status_code != 200:
                    raise RuntimeError(f"notification answered {answer.status_code}")
                return time.perf_counter() - start

            latencies = await asyncio.gather(*(post(*note) for note in notes))
    return log.fetches, latencies


def run(smoke: bool) -> list[Result]:
    """Fetches per order and acknowledgement latency under a storm, for each provider."""
    orders, per_order = (50, 10) if smoke else (500, 10)
    results = []
    for provider in PROVIDERS:
        fetches, latencies = asyncio.run(_storm(provider, orders, per_order))
        p50, p99 = (statistics.quantiles(latencies, n=100)[n] for n in (49, 98))
        results.append(Result(
            "webhook storm", provider, Spread.of([fetches / orders]), "one fetch per order",
            TARGET,
            f"{fetches:,} fetches for {orders * per_order:,} notifications on {orders:,} orders; "
            f"ack p50 {p50 * 1e3:.0f} ms, p99 {p99 * 1e3:.0f} ms (all posted at once)",
        ))
    return results
