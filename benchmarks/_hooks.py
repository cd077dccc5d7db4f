"""A webhook receiver on loopback, in its own process: orderstatus's, or the hand-written one.

``python -m benchmarks._hooks KIND PROVIDER ORDERS DATABASE`` (KIND ``orderstatus`` or
``handwritten``) serves, with uvicorn, a receiver that fetches from an in-process sandbox of
PROVIDER holding ORDERS orders and records into the SQLite file DATABASE. It prints its base URL
as one JSON line, then answers each line on its standard input with its CPU seconds so far and
the part of them the sandbox spent, and stops when the input closes.

The hand-written receiver does the same work as :func:`orderstatus.webhooks.webhook_app` with
no library around it: read the body; take the id from Print API's form (``orderId=…``) or
Gooten's ``?orderid=`` query; fetch the order (the hand-written client of
``benchmarks/_handwritten.py``, on the same sandbox transport); map the statuses with the
provider's table (Gooten's items aggregated with :func:`orderstatus.lifecycle.aggregate`);
record it with :class:`~benchmarks._handwritten.RawTracker` in a worker thread (as the tracker
does), one transaction with the same durability; answer 200 with a small JSON body.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx

from . import _handwritten as handwritten
from ._common import BASE, sandbox

ASGIApp = Callable[..., Any]
FORM = b"application/x-www-form-urlencoded"


class TimedTransport(httpx.MockTransport):
    """The sandbox's in-process transport, adding up the CPU its answers take."""

    def __init__(self, box: Any) -> None:
        self.spent = 0.0

        def handler(request: httpx.Request) -> httpx.Response:
            request.read()
            start = time.thread_time()
            try:
                return box.handle(request)  # type: ignore[no-any-return]
            finally:
                self.spent += time.thread_time() - start

        super().__init__(handler)


def orderstatus_app(provider: str, box: Any, transport: httpx.MockTransport,
                    database: str) -> ASGIApp:
    from orderstatus import AsyncClient
    from orderstatus.stores import SQLiteStore
    from orderstatus.tracking import Tracker
    from orderstatus.webhooks import WebhookReceiver, webhook_app

    client = AsyncClient({provider: box.settings(BASE)}, transport=transport)
    return webhook_app(WebhookReceiver(client, Tracker(SQLiteStore(database))))


def handwritten_app(provider: str, box: Any, transport: httpx.MockTransport,
                    database: str) -> ASGIApp:
    from orderstatus import OrderState
    from orderstatus.lifecycle import aggregate
    from orderstatus.plugins import default_registry

    settings = box.settings(BASE)
    with httpx.Client(transport=transport) as http:
        headers = handwritten.headers(provider, settings, http)
    http = httpx.AsyncClient(transport=transport, headers=headers)
    url = handwritten.url_for(provider, settings)
    table = {k: v.state for k, v in default_registry().provider(provider).native_statuses.items()}
    store = handwritten.RawTracker(database)

    def order_id_of(scope: Any, body: bytes) -> str | None:
        if provider == "printapi":
            kind = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0]
            found = parse_qs(body.decode("ascii")) if kind == FORM else {}
            return found.get("orderId", [None])[0]
        return parse_qs(scope["query_string"].decode("latin-1")).get("orderid", [None])[0]

    async def answer(send: Any, status: int, body: dict[str, str]) -> None:
        content = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(content)).encode()),
        ]})
        await send({"type": "http.response.body", "body": content})

    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        order_id = order_id_of(scope, body)
        if order_id is None:
            await answer(send, 400, {"error": "no order id"})
            return
        response = await http.get(url(order_id))
        response.raise_for_status()
        data = json.loads(response.content)
        if provider == "printapi":
            native, payment = data["status"], (data.get("checkout") or {}).get("status")
            state, when = table.get(native, OrderState.UNKNOWN), data.get("dateTime")
        else:
            natives = [item["Status"] for item in data["Items"]]
            state = aggregate(table.get(n, OrderState.UNKNOWN) for n in natives)
            native, payment, when = natives[0], None, None
        observed = dt.datetime.now(dt.timezone.utc).isoformat()
        outcome = await asyncio.to_thread(
            store.observe, provider, order_id, state, native, payment, observed, when,
            response.text,
        )
        await answer(send, 200, {"result": outcome, "order_id": order_id, "state": state.value})

    return app


def main() -> None:
    from orderstatus.testing.asgi import serve

    kind, provider, orders, database = sys.argv[1:5]
    box = sandbox(provider, int(orders))
    transport = TimedTransport(box)
    build = orderstatus_app if kind == "orderstatus" else handwritten_app
    with serve(build(provider, box, transport, database)) as url:
        print(json.dumps({"url": url, "ids": [box.ids[0], box.ids[-1]]}), flush=True)
        for _ in sys.stdin:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu = usage.ru_utime + usage.ru_stime
            print(json.dumps({"cpu": cpu, "sandbox": transport.spent}), flush=True)


if __name__ == "__main__":
    main()
