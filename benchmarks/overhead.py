"""Per-fetch overhead: ``Client.fetch`` against a raw httpx GET + ``json.loads``.

Both sides use the same in-process transport and the same payload, so the difference is what
orderstatus adds: the id check, building the request, the retry loop, parsing, mapping and the
:class:`~orderstatus.OrderStatus` it returns.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import httpx

from orderstatus import AsyncClient, Client

from ._common import BASE, KEY, Result, best_per_call, canned_transport, fakeshop_settings

TARGET = 1.3


def _raw_sync(http: httpx.Client) -> Callable[[], object]:
    def fetch() -> object:
        response = http.get(BASE + "orders/B-1", params={"key": KEY})
        response.raise_for_status()
        return json.loads(response.content)

    return fetch


def _sync(smoke: bool) -> Result:
    calls, rounds = (50, 2) if smoke else (2000, 7)
    transport = canned_transport()
    with httpx.Client(transport=transport) as http, \
            Client(fakeshop_settings(), transport=transport) as client:
        raw = _raw_sync(http)
        ours = lambda: client.fetch("fakeshop", "B-1")  # noqa: E731
        raw(), ours()  # warm up both (connection pools, caches)
        raw_t = ours_t = float("inf")
        for _ in range(rounds):  # interleaved, so drift hits both sides alike
            raw_t = min(raw_t, best_per_call(raw, calls, 1))
            ours_t = min(ours_t, best_per_call(ours, calls, 1))
    return _result("fetch overhead (sync)", ours_t, raw_t)


async def _best_async(func: Callable[[], Awaitable[object]], calls: int) -> float:
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(calls):
        await func()
    return (loop.time() - start) / calls


async def _async_pair(smoke: bool) -> tuple[float, float]:
    calls, rounds = (50, 2) if smoke else (2000, 7)
    transport = canned_transport()
    async with httpx.AsyncClient(transport=transport) as http, \
            AsyncClient(fakeshop_settings(), transport=transport) as client:

        async def raw() -> object:
            response = await http.get(BASE + "orders/B-1", params={"key": KEY})
            response.raise_for_status()
            return json.loads(response.content)

        async def ours() -> object:
            return await client.fetch("fakeshop", "B-1")

        await raw(), await ours()
        raw_t = ours_t = float("inf")
        for _ in range(rounds):
            raw_t = min(raw_t, await _best_async(raw, calls))
            ours_t = min(ours_t, await _best_async(ours, calls))
    return ours_t, raw_t


def _result(name: str, ours: float, raw: float) -> Result:
    ratio = ours / raw
    return Result(
        name, f"{ours * 1e6:.1f} us/fetch vs {raw * 1e6:.1f} us raw "
        f"(+{(ours - raw) * 1e6:.1f} us)",
        ratio, "fetch time / raw GET+json.loads", f"<= {TARGET}x", ratio <= TARGET,
    )


def run(smoke: bool) -> list[Result]:
    """Measure sync and async per-fetch overhead."""
    ours, raw = asyncio.run(_async_pair(smoke))
    return [_sync(smoke), _result("fetch overhead (async)", ours, raw)]
