"""Many workers on one PostgreSQL database, against a Gooten sandbox served on loopback:
watcher processes sharing the due orders (one killed mid-sweep), and webhook receiver
processes sharing a notification storm."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import attrs
import httpx
import psycopg
import pytest
from orderstatus_gooten import GootenSandbox

from orderstatus import AsyncClient, OrderState, PostgresStore, Tracker
from orderstatus.asgi import ASGIApp
from orderstatus.plugins import Registry, default_registry
from orderstatus.settings import env_names
from orderstatus.stores.postgres import describe_dsn
from orderstatus.testing.asgi import serve
from tests.cli.conftest import clean_env
from tests.workers import ROOT, start, tell

S = OrderState
ORDERS = 300


class Counting:
    """The sandbox's ASGI app, counting each order's GETs; requests wait while the gate is
    closed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gets: Counter[str] = Counter()
        self.gate = threading.Event()
        self.gate.set()
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = parse_qs(scope["query_string"].decode()).get("id", [""])
            with self._lock:
                self.gets[found[0]] += 1
            if not self.gate.is_set():
                await asyncio.to_thread(self.gate.wait, 60)
        await self.app(scope, receive, send)

    def arrived(self) -> int:
        with self._lock:
            return sum(self.gets.values())


@attrs.define
class World:
    box: GootenSandbox
    counting: Counting
    url: str
    dsn: str
    ids: list[str]


@contextlib.contextmanager
def served_world(dsn: str, orders: int, *, tracked: bool) -> Iterator[World]:
    """``orders`` Gooten orders in production at a sandbox served on loopback; if
    ``tracked``, tracked in the database as last seen 13 hours ago (so due at once) and
    shipped since."""
    box = GootenSandbox()
    ids = [box.create_order(status="InProduction") for _ in range(orders)]

    async def track() -> None:
        async with AsyncClient({"gooten": box.settings("http://127.0.0.1/")},
                               transport=box.transport()) as client:
            found = [attrs.evolve(s, observed_at=s.observed_at - dt.timedelta(hours=13))
                     async for s in client.fetch_many([("gooten", i) for i in ids])]
        with PostgresStore(dsn) as store:
            Tracker(store, registry=Registry()).record_many(found)  # type: ignore[arg-type]

    if tracked:
        asyncio.run(track())
        for order_id in ids:
            box.set_status(order_id, "Shipped")
    counting = Counting(box.asgi())
    with serve(counting) as url:
        yield World(box, counting, url, dsn, ids)


@pytest.fixture
def world(postgres_database: str) -> Iterator[World]:
    """300 tracked Gooten orders, due, and shipped since at the sandbox."""
    with served_world(postgres_database, ORDERS, tracked=True) as built:
        yield built


def watchers(world: World, count: int, *, lease: float = 600, batch: int = 20
             ) -> list[subprocess.Popen[str]]:
    settings = json.dumps({"gooten": world.box.settings(world.url)})
    return start("watch", world.dsn, settings, str(lease), str(batch), count=count)


def stop(started: list[subprocess.Popen[str]]) -> None:
    for worker in started:
        assert worker.stdin is not None
        worker.stdin.close()
    for worker in started:
        worker.wait(30)


def shipped_once(dsn: str, ids: list[str]) -> None:
    """Every order's move to shipped is in the change log exactly once."""
    with PostgresStore(dsn) as store:
        moves = Counter(c.order_id for c in store.changes(limit=10_000)
                        if c.current is S.SHIPPED)
        assert moves == Counter(ids)
        assert store.count(non_terminal=True) == len(ids)


def test_three_watchers_fetch_each_due_order_once(world: World) -> None:
    started = watchers(world, 3)
    try:
        reports: list[dict[str, int]] = tell(started, "sweep 0")  # type: ignore[assignment]
        assert sum(r["checked"] for r in reports) == ORDERS, reports
        assert all(r["checked"] > 0 for r in reports), f"a watcher had no share: {reports}"
        assert sum(r["failed"] for r in reports) == 0
        assert world.counting.gets == Counter(world.ids), "an order was fetched twice"
        assert tell(started, "sweep 0") == [{"checked": 0, "changes": 0, "failed": 0}] * 3
    finally:
        stop(started)
    shipped_once(world.dsn, world.ids)


def test_a_killed_watchers_orders_are_checked_once_its_lease_runs_out(world: World) -> None:
    victim, *others = watchers(world, 3, lease=60)
    world.counting.gate.clear()
    assert victim.stdin is not None
    victim.stdin.write("sweep 0\n")
    victim.stdin.flush()
    for _ in range(3000):  # until its first fetches are held at the gate
        if world.counting.arrived():
            break
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait(30)
    with psycopg.connect(world.dsn) as conn:
        leased = {order_id for (order_id,) in conn.execute(
            "SELECT order_id FROM orderstatus_orders WHERE due_at > now()")}
    assert len(leased) == 20  # its first batch
    world.counting.gate.set()
    held = Counter(world.counting.gets)
    try:
        reports: list[dict[str, int]] = tell(others, "sweep 0")  # type: ignore[assignment]
        assert sum(r["checked"] for r in reports) == ORDERS - len(leased)
        assert world.counting.gets - held == Counter(set(world.ids) - leased)
        # A minute on, the lease has run out: only the killed watcher's orders are due.
        reports = tell(others, "sweep 61")  # type: ignore[assignment]
        assert sum(r["checked"] for r in reports) == len(leased)
        checked = world.counting.gets - held
        assert checked == Counter(world.ids), "an order was checked twice, or never"
    finally:
        stop(others)
    shipped_once(world.dsn, world.ids)


# -- receivers ----------------------------------------------------------------------------------


def receivers(world: World, count: int) -> Iterator[list[str]]:
    """``count`` ``orderstatus serve`` processes on the store; their base URLs."""
    cls = default_registry().provider("gooten").settings_class
    names = env_names("gooten", cls)
    env = clean_env(ORDERSTATUS_STORE=world.dsn, **{
        names[field]: str(value) for field, value in world.box.settings(world.url).items()})
    started = [subprocess.Popen(
        [sys.executable, "-m", "orderstatus", "serve", "--port", "0"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    ) for _ in range(count)]
    try:
        bases = []
        for receiver in started:
            assert receiver.stderr is not None
            banner = receiver.stderr.readline()
            assert banner.startswith("receiving webhooks at http://127.0.0.1:"), banner
            password = str(psycopg.conninfo.conninfo_to_dict(world.dsn)["password"])
            assert password not in banner
            assert f"(store: {describe_dsn(world.dsn)})" in banner
            bases.append(banner.split(" at ")[1].split("/webhooks/")[0])
        yield bases
    finally:
        for receiver in started:
            receiver.send_signal(signal.SIGTERM)
        for receiver in started:
            try:
                receiver.wait(10)
            finally:
                receiver.kill()
                print(receiver.communicate()[1], file=sys.stderr)  # shown if the test fails


async def storm(box: GootenSandbox, ids: list[str], bases: list[str], per_order: int) -> None:
    """``per_order`` notifications for each order, shuffled, spread over the receivers,
    fifty in flight at once."""
    notes = [(random.Random(n).choice(bases), box.webhook_notification(i))
             for n, i in enumerate(ids * per_order)]
    random.Random(7).shuffle(notes)
    limit = asyncio.Semaphore(50)
    async with httpx.AsyncClient(timeout=60) as http:

        async def post(base: str, note: tuple[bytes, str, str] | None) -> int:
            assert note is not None
            body, content_type, order_id = note  # subscribed with ?orderid= at the end
            async with limit:
                answer = await http.post(f"{base}/webhooks/gooten?orderid={order_id}",
                                         content=body,
                                         headers={"content-type": content_type})
            return answer.status_code

        codes = await asyncio.gather(*(post(base, note) for base, note in notes))
    assert Counter(codes) == {200: len(notes)}


def test_two_receivers_lose_and_double_nothing_in_a_storm(postgres_database: str) -> None:
    """40 orders no receiver has seen yet (first seen in the storm), then shipped."""
    with served_world(postgres_database, 40, tracked=False) as world:
        world.box.subscribe("http://receiver/webhooks/gooten?orderid=")
        for bases in receivers(world, 2):
            asyncio.run(storm(world.box, world.ids, bases, 5))
            for order_id in world.ids:
                world.box.set_status(order_id, "Shipped")
            asyncio.run(storm(world.box, world.ids, bases, 5))
    with PostgresStore(postgres_database) as store:
        walks = {i: [(c.previous, c.current) for c in store.changes(limit=10_000)
                     if c.order_id == i] for i in world.ids}
        assert walks == {i: [(None, S.IN_PRODUCTION), (S.IN_PRODUCTION, S.SHIPPED)]
                         for i in world.ids}
        assert store.count() == len(world.ids)
