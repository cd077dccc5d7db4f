"""Bulk: ``AsyncClient.fetch_many`` over loopback HTTP against a hand-written ``asyncio.gather``.

Both sides fetch the same orders from the same fakeshop sandbox (served by uvicorn in its own
process) with the same concurrency and connection pool size.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx

from orderstatus import AsyncClient, OrderStatus

from ._common import ROOT, Result, fakeshop_settings

TARGET = 0.9
CONCURRENCY = 32


@contextlib.contextmanager
def served(orders: int) -> Iterator[str]:
    """A fakeshop sandbox with ``orders`` orders (``F-1`` …), served in a child process."""
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._server", str(orders)], cwd=ROOT,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url:
            raise RuntimeError("the benchmark server did not start")
        yield url
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


async def _raw(url: str, key: str, count: int) -> float:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(order_id: str) -> object:
            async with gate:
                response = await http.get(f"{url}orders/{order_id}", params={"key": key})
                response.raise_for_status()
                return json.loads(response.content)

        start = time.perf_counter()
        done = await asyncio.gather(*(one(f"F-{n + 1}") for n in range(count)))
        elapsed = time.perf_counter() - start
    assert len(done) == count
    return count / elapsed


async def _ours(url: str, key: str, count: int) -> float:
    settings = fakeshop_settings(url, key)
    async with AsyncClient(settings, limits={"fakeshop": CONCURRENCY}, timeout=30) as client:
        refs = (("fakeshop", f"F-{n + 1}") for n in range(count))
        start = time.perf_counter()
        done = [r async for r in client.fetch_many(refs, concurrency=CONCURRENCY)]
        elapsed = time.perf_counter() - start
    failed = [r for r in done if not isinstance(r, OrderStatus)]
    if len(done) != count or failed:
        raise RuntimeError(f"bulk fetch_many got {len(done)} of {count}, failures: {failed[:3]}")
    return count / elapsed


def run(smoke: bool) -> list[Result]:
    """Throughput of ``fetch_many`` against raw httpx with the same concurrency."""
    from orderstatus_fakeshop import API_KEY

    count, rounds = (200, 1) if smoke else (5_000, 3)
    with served(count) as url:
        asyncio.run(_raw(url, API_KEY, min(count, 500)))  # warm up the server
        raw = ours = 0.0
        for _ in range(rounds):  # interleaved; best of each
            raw = max(raw, asyncio.run(_raw(url, API_KEY, count)))
            ours = max(ours, asyncio.run(_ours(url, API_KEY, count)))
    return [Result(
        "bulk fetch_many (http)",
        f"{ours:,.0f} orders/s vs {raw:,.0f}/s raw gather ({count:,} orders, "
        f"concurrency {CONCURRENCY})",
        ours / raw, "throughput / raw asyncio.gather", f">= {TARGET}x", ours / raw >= TARGET,
    )]
