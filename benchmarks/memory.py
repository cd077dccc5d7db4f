"""Memory: ``fetch_many`` over 10,000 ids streams instead of holding them.

Runs in a fresh interpreter so nothing else sits on its heap: the ids come from a generator
(cycling over the sandbox's orders), the answers from the provider's sandbox in-process, and
the results are dropped as they arrive. The figure is the growth of peak RSS (``VmHWM``;
``getrusage`` where there is no ``/proc``) from after a warm-up to the end, against a 50 MB
budget.
"""

from __future__ import annotations

import json

from ._common import PROVIDERS, Result, Spread, at_most, run_python

BUDGET_MB = 50.0

_CHILD = """
import asyncio, gc, json, resource, sys
from benchmarks._common import BASE, sandbox
from orderstatus import AsyncClient, Client, OrderStatus

def peak_mb():
    # VmHWM is this process's own peak; ru_maxrss survives exec and may be the parent's
    try:
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

provider, count, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
box = sandbox(provider, 16)
settings = {provider: box.settings(BASE)}

def refs(count):
    return ((provider, box.ids[n % 16]) for n in range(count))

async def run_async(count):
    async with AsyncClient(settings, transport=box.transport()) as client:
        return sum([1 async for r in client.fetch_many(refs(count)) if isinstance(r, OrderStatus)])

def run_sync(count):
    with Client(settings, transport=box.transport()) as client:
        return sum(1 for r in client.fetch_many(refs(count)) if isinstance(r, OrderStatus))

go = (lambda n: asyncio.run(run_async(n))) if kind == "async" else run_sync
go(min(500, count))
gc.collect()
before = peak_mb()
done = go(count)
print(json.dumps({"done": done, "growth": peak_mb() - before, "before": before}))
"""


def run(smoke: bool) -> list[Result]:
    """Peak RSS growth over a long ``fetch_many``, async and sync, for each provider."""
    count = 100 if smoke else 10_000
    results = []
    for provider in PROVIDERS:
        for kind in ("async", "sync"):
            figures = json.loads(run_python(_CHILD, provider, str(count), kind, timeout=900))
            if figures["done"] != count:
                raise RuntimeError(f"memory benchmark fetched {figures['done']} of {count}")
            growth = figures["growth"]
            results.append(Result(
                f"memory fetch_many ({kind})", provider, Spread.of([growth / BUDGET_MB]),
                f"a {BUDGET_MB:.0f} MB budget", at_most(1.0),
                f"peak RSS +{growth:.1f} MB over {count:,} fetches "
                f"(from {figures['before']:.0f} MB)",
            ))
    return results
