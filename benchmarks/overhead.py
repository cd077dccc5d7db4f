"""Per-fetch CPU overhead: ``Client.fetch`` / ``AsyncClient.fetch`` against a hand-written client.

Both sides fetch the same orders (two items each, cycled) from the provider's bundled sandbox
through one in-process transport (``sandbox.transport()``), in interleaved rounds timed in CPU
seconds (``time.process_time``). The baseline is the hand-written client of
``benchmarks/_handwritten.py``: for Print API a bearer token fetched once and kept in the
default headers (orderstatus caches its token too, so neither side pays a token round trip per
request), for Gooten an f-string URL; on both ``raise_for_status()``, ``json.loads`` and a
read of the statuses.

What orderstatus adds on top: the id check, building the request, the auth flow, the retry
loop, error classification, structuring the payload, mapping and aggregating the statuses, and
the frozen :class:`~orderstatus.OrderStatus` it returns.

The sandbox answers every request in-process, so its own work (routing, building the order's
JSON, ``httpx.Response``) lands on the client's CPU, identical on both sides, where a real
provider costs the client nothing. It is measured as a third interleaved variant
(``sandbox.handle`` on prebuilt requests) and the goal is held to the ratio with it taken out
of both sides, ``(ours - sandbox) / (baseline - sandbox)``; the ratio with it left in is
printed beside.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx

from orderstatus import AsyncClient, Client

from . import _handwritten as handwritten
from ._common import (
    BASE,
    PROVIDERS,
    Result,
    Spread,
    at_most,
    cycling,
    interleaved,
    median,
    ratios,
    repeat,
    sandbox,
    us,
)

TARGET = at_most(1.15)
ORDERS = 16


def _result(kind: str, provider: str, times: dict[str, list[float]], calls: int) -> Result:
    ours, raw, alone = times["orderstatus"], times["baseline"], times["sandbox"]
    net = Spread.of([(o - s) / (r - s) for o, r, s in zip(ours, raw, alone, strict=True)])
    per = {name: median(t) / calls for name, t in times.items()}
    return Result(
        f"fetch overhead ({kind})", provider, net, "hand-written httpx, sandbox cost taken out",
        TARGET,
        f"{us(per['orderstatus'])} CPU per fetch vs {us(per['baseline'])} baseline; the sandbox "
        f"itself {us(per['sandbox'])} of each; with it left in: {ratios(ours, raw)}",
    )


@dataclass
class Setup:
    """One provider's sandbox, its transport, and the hand-written client's parts for it."""

    provider: str
    box: Any
    transport: httpx.MockTransport
    settings: dict[str, Any]
    headers: dict[str, str]
    url: Callable[[str], str]
    read: Callable[[bytes], object]

    @classmethod
    def of(cls, provider: str) -> Setup:
        box = sandbox(provider, ORDERS)
        transport = box.transport()
        settings = box.settings(BASE)
        with httpx.Client(transport=transport) as http:
            headers = handwritten.headers(provider, settings, http)
        return cls(provider, box, transport, settings, headers,
                   handwritten.url_for(provider, settings), handwritten.read(provider))

    def raw(self, http: httpx.Client) -> Callable[[], object]:
        """The hand-written fetch of the next order (cycling), with ``http``."""
        following = cycling(self.box.ids)

        def fetch() -> object:
            response = http.get(self.url(following()))
            response.raise_for_status()
            return self.read(response.content)

        return fetch

    def sandbox_alone(self) -> Callable[[], object]:
        """The sandbox answering one request per order, with nothing around it."""
        requests = [httpx.Request("GET", self.url(i), headers=self.headers) for i in self.box.ids]
        return lambda: [self.box.handle(r) for r in requests]


def _sync(provider: str, calls: int, rounds: int) -> Result:
    setup = Setup.of(provider)
    with httpx.Client(transport=setup.transport, headers=setup.headers) as http, \
            Client({provider: setup.settings}, transport=setup.transport) as client:
        following = cycling(setup.box.ids)
        times = interleaved({
            "orderstatus": repeat(lambda: client.fetch(provider, following()), calls),
            "baseline": repeat(setup.raw(http), calls),
            "sandbox": repeat(setup.sandbox_alone(), calls // ORDERS),
        }, rounds)
    return _result("sync", provider, times, calls)


def _async(provider: str, calls: int, rounds: int) -> Result:
    setup = Setup.of(provider)
    loop = asyncio.new_event_loop()
    http = httpx.AsyncClient(transport=setup.transport, headers=setup.headers)
    client = AsyncClient({provider: setup.settings}, transport=setup.transport)
    next_ours, next_raw = cycling(setup.box.ids), cycling(setup.box.ids)

    async def raw() -> object:
        response = await http.get(setup.url(next_raw()))
        response.raise_for_status()
        return setup.read(response.content)

    async def ours() -> object:
        return await client.fetch(provider, next_ours())

    def batch(func: Callable[[], Coroutine[Any, Any, object]]) -> Callable[[], None]:
        async def many() -> None:
            for _ in range(calls):
                await func()

        return lambda: loop.run_until_complete(many())

    try:
        times = interleaved({
            "orderstatus": batch(ours), "baseline": batch(raw),
            "sandbox": repeat(setup.sandbox_alone(), calls // ORDERS),
        }, rounds)
    finally:
        loop.run_until_complete(http.aclose())
        loop.run_until_complete(client.aclose())
        loop.close()
    return _result("async", provider, times, calls)


def run(smoke: bool) -> list[Result]:
    """Sync and async per-fetch CPU overhead, for each provider."""
    calls, rounds = (32, 1) if smoke else (480, 13)
    return [
        measure(provider, calls, rounds)
        for provider in PROVIDERS for measure in (_sync, _async)
    ]
