"""Worker processes for the many-workers tests: ``python -m tests.workers KIND DSN …``.

Each opens its own :class:`~orderstatus.PostgresStore` on ``DSN``, prints ``ready``, waits
for a line on its standard input (so that the test starts every worker at once), then works
and prints one JSON line per piece of work:

``observe DSN WORKER ORDERS``
    observes the walk of ``ORDERS`` orders (first observations included), rotated by
    ``WORKER``; prints ``[[change id, order, state], …]`` for the changes it emitted.
``consume DSN NAME ORDERS``
    polls consumer ``NAME`` and acknowledges what it read until it has read ``ORDERS``
    deliveries (every order's last change); prints the ids in the order read.
``schema DSN``
    only opens the store (the schema is created by whichever worker comes first).
``hold DSN ORDER``
    opens a transaction on ``ORDER``, records a change in it (its log position in flight),
    prints ``"held"`` and waits to be killed.
``watch DSN SETTINGS LEASE BATCH``
    a :class:`~orderstatus.Watcher` of the providers in the JSON ``SETTINGS`` whose clock
    runs ``OFFSET`` seconds ahead: each ``sweep OFFSET`` line runs one sweep and prints its
    report.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys

import attrs

from orderstatus import AsyncClient, OrderState, OrderStatus, PostgresStore, RetryPolicy, Watcher
from orderstatus.models import utcnow
from orderstatus.plugins import Registry
from orderstatus.tracking import HistoryEntry, Outcome, Tracker

WALK = (OrderState.CREATED, OrderState.IN_PRODUCTION, OrderState.SHIPPED,
        OrderState.DELIVERED)
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def walk(orders: int) -> list[OrderStatus]:
    """Every order's walk through the lifecycle, one minute a step."""
    return [OrderStatus("suite", f"O{order}", state, state.value,
                        provider_time=T0 + dt.timedelta(minutes=n),
                        observed_at=T0 + dt.timedelta(minutes=n))
            for order in range(orders) for n, state in enumerate(WALK)]


def _ready() -> None:
    print("ready", flush=True)
    sys.stdin.readline()


def observe(store: PostgresStore, worker: int, orders: int) -> None:
    stream = walk(orders)
    tracker = Tracker(store, registry=Registry())
    _ready()
    emitted = []
    for status in stream[worker:] + stream[:worker]:
        change = tracker.observe(status)
        if change is not None:
            emitted.append((change.id, change.order_id, change.current.value))
    print(json.dumps(emitted), flush=True)


def consume(store: PostgresStore, name: str, orders: int) -> None:
    consumer = Tracker(store, registry=Registry()).consumer(name)
    _ready()
    read: list[int] = []
    delivered = 0
    while delivered < orders:
        batch = consumer.poll(7)
        read.extend(change.id for change in batch)
        delivered += sum(change.current is OrderState.DELIVERED for change in batch)
        if batch:
            consumer.ack(batch[-1].id)
    print(json.dumps(read), flush=True)


def hold(store: PostgresStore, order: str) -> None:
    _ready()
    with store.transaction("suite", order) as txn:
        txn.append(HistoryEntry(Outcome.CHANGE, walk(1)[0]))
        print(json.dumps("held"), flush=True)
        sys.stdin.readline()  # killed here


def watch(store: PostgresStore, settings: str, lease: float, batch: int) -> None:
    offset = [0.0]
    loop = asyncio.new_event_loop()
    client = AsyncClient(json.loads(settings), retry=RetryPolicy(attempts=1))
    watcher = Watcher(client, Tracker(store), batch_size=batch,
                      lease=dt.timedelta(seconds=lease),
                      clock=lambda: utcnow() + dt.timedelta(seconds=offset[0]))
    _ready()
    for line in sys.stdin:
        command, _, argument = line.partition(" ")
        if command != "sweep":
            break
        offset[0] = float(argument)
        report = loop.run_until_complete(watcher.sweep())
        print(json.dumps(attrs.asdict(report)), flush=True)
    loop.run_until_complete(client.aclose())


def main(kind: str, dsn: str, *args: str) -> None:
    with PostgresStore(dsn) as store:
        if kind == "observe":
            observe(store, int(args[0]), int(args[1]))
        elif kind == "consume":
            consume(store, args[0], int(args[1]))
        elif kind == "schema":
            _ready()
            print(json.dumps(store.count()), flush=True)
        elif kind == "hold":
            hold(store, args[0])
        elif kind == "watch":
            watch(store, args[0], float(args[1]), int(args[2]))
        else:
            raise SystemExit(f"unknown worker {kind!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
