"""Memory: ``fetch_many`` over 100,000 ids streams instead of holding them.

Runs in a fresh interpreter so nothing else sits on its heap: the ids come from a generator,
the answers from an in-process transport, and the results are dropped as they arrive. The
figure is the growth of peak RSS (``VmHWM``; ``getrusage`` where there is no ``/proc``) from
after a warm-up to the end.
"""

from __future__ import annotations

import json

from ._common import Result, run_python

TARGET_MB = 50.0

_CHILD = """
import asyncio, gc, json, resource, sys
from benchmarks._common import canned_transport, fakeshop_settings
from orderstatus import AsyncClient, Client, OrderStatus

def peak_mb():
    # VmHWM is this process's own peak; ru_maxrss survives exec and may be the parent's
    try:
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

async def run_async(count):
    async with AsyncClient(fakeshop_settings(), transport=canned_transport()) as client:
        refs = (("fakeshop", f"B-{n}") for n in range(count))
        return sum([1 async for r in client.fetch_many(refs) if isinstance(r, OrderStatus)])

def run_sync(count):
    with Client(fakeshop_settings(), transport=canned_transport()) as client:
        refs = (("fakeshop", f"B-{n}") for n in range(count))
        return sum(1 for r in client.fetch_many(refs) if isinstance(r, OrderStatus))

count, kind = int(sys.argv[1]), sys.argv[2]
go = (lambda n: asyncio.run(run_async(n))) if kind == "async" else run_sync
go(500)
gc.collect()
before = peak_mb()
done = go(count)
print(json.dumps({"done": done, "growth": peak_mb() - before, "before": before}))
"""


def _measure(count: int, kind: str) -> dict[str, float]:
    code = _CHILD.replace("sys.argv[1]", str(count)).replace("sys.argv[2]", repr(kind))
    figures: dict[str, float] = json.loads(run_python(code))
    if figures["done"] != count:
        raise RuntimeError(f"memory benchmark fetched {figures['done']} of {count}")
    return figures


def run(smoke: bool) -> list[Result]:
    """Peak RSS growth over a long ``fetch_many``, async and sync."""
    count = 2_000 if smoke else 100_000
    results = []
    for kind in ("async", "sync"):
        figures = _measure(count, kind)
        growth = figures["growth"]
        results.append(Result(
            f"memory fetch_many ({kind})",
            f"peak RSS +{growth:.1f} MB over {count:,} fetches (from {figures['before']:.0f} MB)",
            growth / TARGET_MB, "growth / 50 MB budget", f"< {TARGET_MB:.0f} MB",
            growth < TARGET_MB,
        ))
    return results
