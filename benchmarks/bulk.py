"""Bulk: ``AsyncClient.fetch_many`` over loopback HTTP against a hand-written ``asyncio.gather``.

Both sides fetch the same orders from the same provider sandbox, served by uvicorn in its own
process, with the same concurrency (32) and connection pool size (orderstatus's per-provider
limit raised to match). The baseline is the hand-written client of
``benchmarks/_handwritten.py`` under a 32-slot semaphore. Interleaved rounds; the figure is
orders per second (wall time: the server is part of what is measured), and the client's own CPU
time per order is printed beside.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from orderstatus import AsyncClient, OrderStatus

from . import _handwritten as handwritten
from ._common import PROVIDERS, Result, at_least, interleaved, median, ratios, us
from ._server import served

TARGET = at_least(0.9)
CONCURRENCY = 32


async def _raw(provider: str, settings: dict[str, Any], ids: list[str]) -> None:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    url, read = handwritten.url_for(provider, settings), handwritten.read(provider)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        http.headers.update(await handwritten.aheaders(provider, settings, http))
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(order_id: str) -> object:
            async with gate:
                response = await http.get(url(order_id))
                response.raise_for_status()
                return read(response.content)

        done = await asyncio.gather(*(one(i) for i in ids))
    assert len(done) == len(ids)


async def _ours(provider: str, settings: dict[str, Any], ids: list[str]) -> None:
    async with AsyncClient({provider: settings}, limits={provider: CONCURRENCY},
                           timeout=30) as client:
        refs = ((provider, i) for i in ids)
        done = [r async for r in client.fetch_many(refs, concurrency=CONCURRENCY)]
    failed = [r for r in done if not isinstance(r, OrderStatus)]
    if len(done) != len(ids) or failed:
        raise RuntimeError(f"fetch_many got {len(done)} of {len(ids)}, failures: {failed[:3]}")


def _measure(provider: str, count: int, rounds: int) -> Result:
    with served(provider, count) as sandbox:
        settings, ids = sandbox["settings"], sandbox["ids"]
        cpu: dict[str, list[float]] = {"orderstatus": [], "baseline": []}

        def timed(name: str, func: Any) -> None:
            start = time.process_time()
            asyncio.run(func(provider, settings, ids))
            cpu[name].append(time.process_time() - start)

        wall = interleaved({
            "orderstatus": lambda: timed("orderstatus", _ours),
            "baseline": lambda: timed("baseline", _raw),
        }, rounds, clock=time.perf_counter)
    rates = {name: [count / t for t in times] for name, times in wall.items()}
    per_cpu = {name: median(times[1:]) / count for name, times in cpu.items()}
    return Result(
        "bulk fetch_many (http)", provider,
        ratios(rates["orderstatus"], rates["baseline"]),
        "asyncio.gather, same concurrency", TARGET,
        f"{median(rates['orderstatus']):,.0f} orders/s vs {median(rates['baseline']):,.0f}/s "
        f"({count:,} orders, concurrency {CONCURRENCY}); client CPU per order "
        f"{us(per_cpu['orderstatus'])} vs {us(per_cpu['baseline'])}",
    )


def run(smoke: bool) -> list[Result]:
    """Throughput of ``fetch_many`` against raw httpx, for each provider."""
    count, rounds = (30, 1) if smoke else (300, 5)
    return [_measure(provider, count, rounds) for provider in PROVIDERS]
