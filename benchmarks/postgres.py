"""Many watchers on one PostgreSQL database: 1, 2 and 4 watcher processes over the same due
orders.

A :class:`~orderstatus.PostgresStore` holds ``orders`` tracked orders of one provider, all
due. Each round makes them all due again and has N watcher processes (each its own
interpreter, store and client) sweep at once; the provider's sandbox is served by uvicorn in
a process of its own, which counts the order fetches it answers. As a provider over the
internet would, it answers each fetch 50 ms later, and each watcher keeps 4 fetches in flight
(a provider's budget for one client): one watcher is then bound by latency, and more watchers
check more orders a second, until a core saturates. The figures, for each
provider and N: GETs per due order (goal 1.0: each due order fetched once whatever the number
of watchers; the baseline is one GET per order), and due orders checked per second of wall
clock from the sweeps' start to the last one's end, as a ratio to one watcher's (goal: it
grows with the watchers, until the sandbox, the database or this machine's cores saturate).
N values run interleaved, round by round, in rotating order. Print API is swept with its
feed down (as in the ``sweep`` benchmark), so its orders are fetched one by one too.

Needs a PostgreSQL server the benchmark may create a database on: the DSN in
``ORDERSTATUS_TEST_POSTGRES`` (``.ci/run`` starts one; ``bash .ci/postgres.sh start DIR``
does by hand). Without it the benchmark says so and reports nothing. Run it alone with
``python -m benchmarks --only postgres``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

from ._common import PROVIDERS, ROOT, Result, Spread, at_least, at_most, sandbox
from ._server import served as served_by

WATCHERS = (1, 2, 4)
LATENCY = 0.05
"""Seconds the sandbox takes to answer a fetch, as a provider over the internet does."""
IN_FLIGHT = 4
"""Fetches each watcher keeps in flight (``limits=``): a provider's budget for one client."""
BATCH = 10
"""Due orders a watcher leases at a time: small, so that a few hundred orders are shared by
four watchers (with the default 200, the first watcher would take them all)."""
GROWTH = {2: at_least(1.2), 4: at_least(1.2)}
"""Checked per second against one watcher's."""
ENV = "ORDERSTATUS_TEST_POSTGRES"
_SERVE, _WATCH = "--serve-sandbox", "--watch"
_RETRY = {"attempts": 2, "backoff": 0.01, "backoff_max": 0.01}
"""A second attempt, at once: a keep-alive connection the server just closed is no failure,
and Print API's feed, down on purpose, costs no backoff."""


# -- the sandbox, in its own process -----------------------------------------------------------


def _order_of(scope: dict[str, Any]) -> str | None:
    """The order a GET fetches (``None``: not an order fetch, such as the feed)."""
    query = parse_qs(scope["query_string"].decode())
    found = next((v[0] for k, v in query.items() if k.lower() == "id"), None)  # Gooten
    if found is None and "/orders/" in scope["path"]:  # Print API: /v2/orders/{id}[/status]
        found = scope["path"].split("/orders/", 1)[1].split("/")[0] or None
    return found


def _serve_sandbox(provider: str, orders: int) -> None:
    """Serve a sandbox of ``orders`` orders that answers a fetch after :data:`LATENCY`
    seconds (waiting without holding the loop); print its settings and ids; answer
    ``GET /_counts`` with the fetches per order since the last look."""
    from orderstatus.testing.asgi import serve

    box = sandbox(provider, orders)
    if provider == "printapi":
        box.faults.inject("status", status=503, times=10**9, path="sync/statuses")
    app = box.asgi()
    counts: Counter[str] = Counter()

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/_counts":
            body = json.dumps(dict(counts)).encode()
            counts.clear()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] == "http" and scope["method"] == "GET":
            order = _order_of(scope)
            if order is not None:
                counts[order] += 1
                await asyncio.sleep(LATENCY)
        await app(scope, receive, send)

    with serve(counting) as url:
        print(json.dumps({"url": url, "settings": box.settings(url), "ids": box.ids}),
              flush=True)
        sys.stdin.read()


def _counts(url: str) -> Counter[str]:
    import httpx

    return Counter(httpx.get(f"{url}_counts", timeout=30).json())


# -- watcher processes --------------------------------------------------------------------------


def _watch(settings: str) -> None:
    """A watcher on the database in ``ORDERSTATUS_STORE`` (not on the command line, where
    ``ps`` shows it): each line on stdin runs one sweep and prints its checked and failed
    counts (Print API's feed is down on purpose: one failure a sweep, not logged)."""
    import logging

    from orderstatus import AsyncClient, PostgresStore, RetryPolicy, Tracker, Watcher
    from orderstatus.plugins import Registry

    loop = asyncio.new_event_loop()
    with PostgresStore(os.environ["ORDERSTATUS_STORE"]) as store:
        providers = json.loads(settings)
        client = AsyncClient(providers, limits=dict.fromkeys(providers, IN_FLIGHT),
                             retry=RetryPolicy(**_RETRY))
        watcher = Watcher(client, Tracker(store, registry=Registry()), batch_size=BATCH)
        logging.getLogger("orderstatus.watch").addFilter(
            lambda record: "feed failed" not in record.getMessage())
        print("ready", flush=True)
        for _ in sys.stdin:
            report = loop.run_until_complete(watcher.sweep())
            print(json.dumps([report.checked, report.failed]), flush=True)
        loop.run_until_complete(client.aclose())


def _watchers(dsn: str, settings: dict[str, Any], count: int) -> list[subprocess.Popen[str]]:
    started = [subprocess.Popen([sys.executable, "-m", "benchmarks.postgres", _WATCH,
                                 json.dumps(settings)], cwd=ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "ORDERSTATUS_STORE": dsn})
               for _ in range(count)]
    for child in started:
        assert child.stdout is not None
        if child.stdout.readline() != "ready\n":
            raise RuntimeError("a watcher process did not start")
    return started


def _sweep(started: list[subprocess.Popen[str]]) -> tuple[int, int, float]:
    """One sweep by every watcher at once: orders checked, failures, wall-clock seconds."""
    began = time.perf_counter()
    for child in started:
        assert child.stdin is not None
        child.stdin.write("sweep\n")
        child.stdin.flush()
    checked = failed = 0
    for child in started:
        assert child.stdout is not None
        done, failures = json.loads(child.stdout.readline())
        checked, failed = checked + done, failed + failures
    return checked, failed, time.perf_counter() - began


# -- the benchmark ------------------------------------------------------------------------------


def _database(server: str, name: str) -> str:
    import psycopg
    from psycopg import conninfo

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return conninfo.make_conninfo(server, dbname=name)


def _drop(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _track(dsn: str, provider: str, served: dict[str, Any]) -> None:
    """Track every order of the served sandbox (fetched over HTTP once, before measuring)."""
    from orderstatus import AsyncClient, OrderStatus, PostgresStore, Tracker
    from orderstatus.plugins import Registry

    async def fetch() -> list[OrderStatus]:
        async with AsyncClient({provider: served["settings"]}) as client:
            found = [s async for s in client.fetch_many([(provider, i) for i in served["ids"]])]
        return [s for s in found if isinstance(s, OrderStatus)]

    statuses = asyncio.run(fetch())
    if len(statuses) != len(served["ids"]):
        raise RuntimeError(f"tracked {len(statuses)} of {len(served['ids'])} orders")
    with PostgresStore(dsn) as store:
        Tracker(store, registry=Registry()).record_many(statuses)


def _make_due(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE orderstatus_orders SET due_at = %s",
                     (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1),))


def _measure(server: str, provider: str, orders: int, rounds: int) -> dict[int, list[Any]]:
    """For each N, per round: (GETs per order, most GETs of one order, checked per second)."""
    name = f"orderstatus_bench_{provider}_{os.getpid()}"
    dsn = _database(server, name)
    figures: dict[int, list[Any]] = {n: [] for n in WATCHERS}
    try:
        with served_by(provider, orders, runner=("-m", "benchmarks.postgres", _SERVE)) as served:
            _track(dsn, provider, served)
            _counts(served["url"])
            every = _watchers(dsn, {provider: served["settings"]}, max(WATCHERS))
            try:
                for number in range(rounds + 1):  # round 0 warms up
                    shift = number % len(WATCHERS)
                    for count in WATCHERS[shift:] + WATCHERS[:shift]:
                        _make_due(dsn)
                        checked, failed, wall = _sweep(every[:count])
                        gets = _counts(served["url"])
                        if checked != orders or set(gets) != set(served["ids"]):
                            raise RuntimeError(
                                f"{provider}: {count} watchers checked {checked} of {orders} "
                                f"orders ({failed} failures, the feed's included), fetched "
                                f"{len(gets)}")
                        if number:
                            figures[count].append((sum(gets.values()) / orders,
                                                   max(gets.values()), checked / wall))
            finally:
                for child in every:
                    assert child.stdin is not None
                    child.stdin.close()
                for child in every:
                    child.wait(timeout=60)
    finally:
        _drop(server, name)
    return figures


def run(smoke: bool) -> list[Result]:
    """GETs per order and orders checked per second for 1, 2 and 4 watchers, per provider."""
    server = os.environ.get(ENV)
    if not server:
        print(f"  (postgres: skipped, {ENV} names no PostgreSQL server; "
              "bash .ci/postgres.sh start DIR starts one)", flush=True)
        return []
    orders, rounds = (40, 1) if smoke else (400, 5)
    results = []
    for provider in PROVIDERS:
        figures = _measure(server, provider, orders, rounds)
        alone = [rate for _, _, rate in figures[1]]
        for count in WATCHERS:
            per_order = [gets for gets, _, _ in figures[count]]
            rates = [rate for _, _, rate in figures[count]]
            most = max(worst for _, worst, _ in figures[count])
            results.append(Result(
                f"postgres {count} watcher{'s' if count > 1 else ''}", provider,
                Spread.of(per_order), "one GET per due order", at_most(1.0),
                f"{orders:,} due orders; at most {most} GET(s) of one order; "
                f"{Spread.of(rates).median:,.0f} orders checked/s",
            ))
            if count in GROWTH:
                ratio = Spread.of([rate / one for rate, one in zip(rates, alone, strict=True)])
                results.append(Result(
                    f"postgres {count} watchers rate", provider, ratio,
                    "one watcher's orders checked/s", GROWTH[count],
                    f"{ratio.median * Spread.of(alone).median:,.0f} vs "
                    f"{Spread.of(alone).median:,.0f} orders checked/s (sandbox in one process)",
                ))
    return results


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == _SERVE:
    _serve_sandbox(sys.argv[2], int(sys.argv[3]))
elif __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == _WATCH:
    _watch(sys.argv[2])
