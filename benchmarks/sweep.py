"""Sweep: a watcher checking the due orders among 100,000 and 1,000,000 tracked ones.

A SQLite store holds ``size`` tracked orders, half Gooten, half Print API; ``due`` of each
provider are due for a check, the rest are not. Each round makes the due ones due again and
changes one in ten of them at the provider (an item of a Gooten order, the payment of a Print
API one), then times a :class:`~orderstatus.Watcher` sweep over one provider against the
baseline, interleaved, alternating which goes first. The baseline is the cheapest honest
hand-written sweep: an ids-only query for due orders, the same fetches (``fetch_many``, same
client, same in-process sandbox) and the same writes (the order rows and a history row per
change, one commit per batch), but no reading of the stored records, no reconciliation, no
leases. Print API is swept with its feed failing, so its orders are fetched one by one (as the
watcher does when a feed is down). The figures are the cost per due order in CPU time (every
thread of the process: both sides make the same durable commits, so the disk's waits are
alike, and CPU time is what a machine shared with other work measures steadily), as the median
of the rounds' ratios with their interquartile range and the wall-clock ratio beside; and the
growth of the process's peak RSS from after a warm-up round to the end, in a fresh interpreter
holding only the store.

Run it alone with ``python -m benchmarks --only sweep``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._common import Result, Spread, at_most, ratios

TARGET_RATIO = 1.3
TARGET_GROWTH_MB = 50.0
BATCH = 200
_CHILD_FLAG = "--sweep-child"


def _micros(moment: Any) -> int:
    """A time as the SQLite store keeps it: microseconds since the epoch, UTC."""
    import datetime as dt

    return (moment - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(
        microseconds=1)


def _connect(path: str | Path) -> Any:
    import sqlite3

    db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    return db


# -- building the store (parent process) -------------------------------------------------------


def _build(path: Path, size: int) -> None:
    """``size`` filler orders, not due for a day, in a new store at ``path``."""
    import datetime as dt

    from orderstatus import OrderState, OrderStatus
    from orderstatus.stores import SQLiteStore
    from orderstatus.stores._sqlite_format import body_text, raw_text

    SQLiteStore(path).close()
    now = dt.datetime.now(dt.timezone.utc)
    later = _micros(now + dt.timedelta(days=1))
    template = {}  # each provider's row as SQLiteStore writes it: the body and the payload
    for name, native in (("gooten", "InProduction"), ("printapi", "Processing")):
        status = OrderStatus(name, "@ID@", OrderState.IN_PRODUCTION, native, observed_at=now,
                             raw={"id": "@ID@", "status": native})
        template[name] = (body_text(status), raw_text(status.raw) or "{}")
    import sqlite3

    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous = OFF")  # building only; the benchmark reopens it as usual
    chunk = 50_000
    for start in range(0, size, chunk):
        rows = []
        for n in range(start, min(size, start + chunk)):
            name = "gooten" if n % 2 else "printapi"
            oid = f"filler-{n}"
            body, raw = template[name]
            rows.append((name, oid, "in_production", 0, _micros(now), later, _micros(now),
                         body.replace("@ID@", oid), raw.replace("@ID@", oid)))
        db.executemany("INSERT INTO orders (provider, order_id, state, terminal, changed_at,"
                       " due_at, observed_at, body, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       rows)
        db.commit()
    db.close()


# -- measuring (child process) ----------------------------------------------------------------


def _now() -> tuple[float, float]:
    return time.process_time(), time.perf_counter()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    """CPU seconds (every thread of the process) and wall-clock seconds since ``start``."""
    cpu, wall = _now()
    return cpu - start[0], wall - start[1]


def _peak_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status
                        if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _World:
    """The store, both sandboxes with their due orders, and one client per provider."""

    def __init__(self, path: str, due: int) -> None:
        import asyncio

        from orderstatus_gooten import GootenSandbox
        from orderstatus_printapi import PrintApiSandbox

        from orderstatus import AsyncClient, RetryPolicy, SQLiteStore, Tracker
        from orderstatus.plugins import Registry

        self.store = SQLiteStore(path)
        self.db = _connect(path)
        """The hand-written sweep's own connection, as durable as the store's."""
        self.tracker = Tracker(self.store, registry=Registry())
        self.sandboxes: dict[str, Any] = {"gooten": GootenSandbox(), "printapi": PrintApiSandbox()}
        retry = RetryPolicy(attempts=1)
        self.clients = {
            name: AsyncClient({name: box.settings("http://127.0.0.1/")},
                              transport=box.transport(), retry=retry)
            for name, box in self.sandboxes.items()
        }
        gooten, printapi = self.sandboxes["gooten"], self.sandboxes["printapi"]
        self.ids = {
            "gooten": [gooten.create_order(items=3, status="InProduction",
                                           order_id=f"7-due-{n}") for n in range(due)],
            "printapi": [printapi.create_order(checkout=True) for _ in range(due)],
        }
        for order_id in self.ids["printapi"]:
            printapi.set_status(order_id, "Processing")
        printapi.faults.inject("status", status=503, times=10**9, path="sync/statuses")
        self.round = 0

        async def track() -> None:
            for name, client in self.clients.items():
                found = [s async for s in client.fetch_many([(name, i) for i in self.ids[name]])]
                self.tracker.record_many(found)

        asyncio.run(track())

    def prepare(self, name: str) -> None:
        """Make the provider's due orders due again; change one in ten at the provider."""
        import datetime as dt

        self.round += 1
        box = self.sandboxes[name]
        for order_id in self.ids[name][::10]:
            if name == "gooten":
                box.set_status(order_id, "Shipped" if self.round % 2 else "InProduction",
                               items=[1])
            else:
                box.set_status(order_id, None,
                               payment="Successful" if self.round % 2 else "Open")
        long_ago = _micros(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1))
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany("UPDATE orders SET due_at = ? WHERE provider = ? AND order_id = ?",
                            [(long_ago, name, i) for i in self.ids[name]])
        self.db.execute("COMMIT")

    def watcher(self, name: str) -> tuple[float, float]:
        """CPU and wall-clock seconds for a Watcher sweep of ``name``."""
        import asyncio

        from orderstatus import Watcher

        watcher = Watcher(self.clients[name], self.tracker, batch_size=BATCH)
        start = _now()
        report = asyncio.run(watcher.sweep())
        took = _since(start)
        expected = len(self.ids[name])
        if report.checked != expected or report.changes != len(self.ids[name][::10]):
            raise RuntimeError(f"sweep of {name}: {report} for {expected} due orders")
        return took

    def baseline(self, name: str) -> tuple[float, float]:
        """CPU and wall-clock seconds for the hand-written sweep of ``name``: ids, fetches,
        the same writes."""
        import asyncio
        import datetime as dt

        from orderstatus import ChangeKind, OrderStatus
        from orderstatus.lifecycle import is_terminal
        from orderstatus.stores._sqlite_format import body_text, raw_text

        changed = set(self.ids[name][::10])
        db, client = self.db, self.clients[name]
        kind = ChangeKind.ITEMS if name == "gooten" else ChangeKind.PAYMENT

        async def sweep() -> int:
            now = _micros(dt.datetime.now(dt.timezone.utc))
            done = 0
            while True:
                ids = [i for (i,) in db.execute(
                    "SELECT order_id FROM orders WHERE provider = ? AND due_at IS NOT NULL"
                    " AND due_at <= ? ORDER BY due_at LIMIT ?", (name, now, BATCH))]
                if not ids:
                    return done
                statuses = [s async for s in client.fetch_many([(name, i) for i in ids])
                            if isinstance(s, OrderStatus)]
                db.execute("BEGIN IMMEDIATE")
                for status in statuses:
                    seen = _micros(status.observed_at)
                    body, raw = body_text(status), raw_text(status.raw) or "{}"
                    if status.order_id in changed:
                        db.execute(
                            "INSERT INTO history (provider, order_id, outcome, change,"
                            " recorded_at, body, observed_at, raw, kinds)"
                            " VALUES (?, ?, 'change', 1, ?, ?, ?, ?, ?)",
                            (name, status.order_id, seen, body, seen, raw, kind.value))
                    db.execute(
                        "UPDATE orders SET state = ?, terminal = ?, body = ?, raw = ?,"
                        " observed_at = ?, changed_at = ?, due_at = ?"
                        " WHERE provider = ? AND order_id = ?",
                        (status.state.value, int(is_terminal(status.state)), body, raw, seen,
                         seen, seen + 300_000_000, name, status.order_id))
                db.execute("COMMIT")
                done += len(statuses)

        start = _now()
        checked = asyncio.run(sweep())
        took = _since(start)
        if checked != len(self.ids[name]):
            raise RuntimeError(f"baseline sweep of {name} checked {checked}")
        return took


def _child(path: str, due: int, rounds: int) -> dict[str, Any]:
    world = _World(path, due)
    for name in ("gooten", "printapi"):  # warm-up: both ways once
        world.prepare(name)
        world.watcher(name)
        world.prepare(name)
        world.baseline(name)
    before = _peak_mb()
    figures: dict[str, Any] = {}
    for name in ("gooten", "printapi"):
        taken: dict[str, list[tuple[float, float]]] = {"ours": [], "baseline": []}
        for n in range(rounds):
            order = (("ours", world.watcher), ("baseline", world.baseline))
            for side, measure in order if n % 2 else order[::-1]:
                world.prepare(name)
                cpu, wall = measure(name)
                taken[side].append((cpu / due, wall / due))
        figures[name] = taken
    figures["growth_mb"] = _peak_mb() - before
    figures["orders"] = world.store.count()
    return figures


# -- the benchmark ------------------------------------------------------------------------------


def _measure(size: int, due: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="orderstatus-sweep-") as folder:
        path = Path(folder) / "orders.sqlite3"
        _build(path, size - 2 * due)
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.sweep", _CHILD_FLAG, str(path), str(due),
             str(rounds)],
            cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True,
            check=False, timeout=3600,
        )
        if done.returncode:
            raise RuntimeError(f"sweep benchmark child failed:\n{done.stderr[-3000:]}")
        figures: dict[str, Any] = json.loads(done.stdout)
        if figures["orders"] != size:
            raise RuntimeError(f"the store held {figures['orders']} orders, not {size}")
        return figures


def run(smoke: bool) -> list[Result]:
    """Cost per due order against the hand-written sweep, and memory, at two sizes."""
    plans = [(2_000, 100, 2)] if smoke else [(100_000, 1_000, 7), (1_000_000, 1_000, 7)]
    results = []
    for size, due, rounds in plans:
        figures = _measure(size, due, rounds)
        for name, title in (("gooten", "Gooten"), ("printapi", "Print API, feed down")):
            ours, theirs = figures[name]["ours"], figures[name]["baseline"]
            walls = [a[1] / b[1] for a, b in zip(ours, theirs, strict=True)]
            results.append(Result(
                f"sweep {size:,}", name,
                ratios([a[0] for a in ours], [b[0] for b in theirs]),
                "hand-written sweep, CPU", at_most(TARGET_RATIO),
                f"{title}: {statistics.median(a[0] for a in ours) * 1e6:.0f} us CPU per due "
                f"order vs {statistics.median(b[0] for b in theirs) * 1e6:.0f} us hand-written "
                f"({due:,} due of {size:,} tracked, {rounds} rounds; wall-clock ratio "
                f"{statistics.median(walls):.2f})",
            ))
        growth = figures["growth_mb"]
        results.append(Result(
            f"sweep memory {size:,}", "-",
            Spread.of([growth / TARGET_GROWTH_MB]), f"a {TARGET_GROWTH_MB:.0f} MB budget",
            at_most(1.0),
            f"peak RSS +{growth:.1f} MB over {2 * rounds} sweeps of each provider "
            f"({size:,} tracked orders)",
        ))
    return results


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == _CHILD_FLAG:
    print(json.dumps(_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
