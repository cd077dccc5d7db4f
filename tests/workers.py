"""Worker processes for the many-workers tests: ``python -m tests.workers KIND …``.

Each opens its own :class:`~orderstatus.PostgresStore` on the DSN in ``ORDERSTATUS_STORE``
(not on the command line, where ``ps`` would show its password), prints ``ready``, waits
for a line on its standard input (so that the test starts every worker at once), then works
and prints one JSON line per piece of work:

``observe WORKER ORDERS``
    observes the walk of ``ORDERS`` orders (first observations included), rotated by
    ``WORKER``; prints ``[[change id, order, state], …]`` for the changes it emitted.
``consume NAME ORDERS``
    polls consumer ``NAME`` and acknowledges what it read until it has read ``ORDERS``
    deliveries (every order's last change); prints the ids in the order read.
``schema``
    only opens the store (the schema is created by whichever worker comes first).
``hold ORDER``
    opens a transaction on ``ORDER``, records a change in it (its log position in flight),
    prints ``"held"`` and waits to be killed.
``watch SETTINGS LEASE BATCH``
    a :class:`~orderstatus.Watcher` of the providers in the JSON ``SETTINGS``, leasing
    ``BATCH`` orders at a time for ``LEASE`` seconds: instead of ``go``, each ``sweep OFFSET``
    line runs one sweep with the clock ``OFFSET`` seconds ahead and prints its report, until
    the input ends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import attrs

from orderstatus import AsyncClient, OrderState, OrderStatus, PostgresStore, RetryPolicy, Watcher
from orderstatus.models import utcnow
from orderstatus.plugins import Registry
from orderstatus.tracking import HistoryEntry, Outcome, Tracker

ROOT = Path(__file__).resolve().parent.parent
WALK = (OrderState.CREATED, OrderState.IN_PRODUCTION, OrderState.SHIPPED,
        OrderState.DELIVERED)
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


def walk(orders: int) -> list[OrderStatus]:
    """Every order's walk through the lifecycle, one minute a step."""
    return [OrderStatus("suite", f"O{order}", state, state.value,
                        provider_time=T0 + dt.timedelta(minutes=n),
                        observed_at=T0 + dt.timedelta(minutes=n))
            for order in range(orders) for n, state in enumerate(WALK)]


# -- starting workers (the tests' side) ----------------------------------------------------


def start(kind: str, dsn: str, *args: str, count: int = 1,
            per_worker: bool = False) -> list[subprocess.Popen[str]]:
    """``count`` worker processes (:mod:`tests.workers`), each ready when returned; with
    ``per_worker``, each gets its number as its first argument."""
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.workers", kind, *((str(n),) if per_worker else ()),
             *args],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "ORDERSTATUS_STORE": dsn},
        )
        for n in range(count)
    ]
    for worker in started:
        assert worker.stdout is not None
        assert worker.stdout.readline() == "ready\n", "a worker did not start"
    return started


def tell(started: list[subprocess.Popen[str]], line: str) -> list[object]:
    """Send ``line`` to every worker at once; the result each prints."""
    for worker in started:
        assert worker.stdin is not None
        worker.stdin.write(line + "\n")
        worker.stdin.flush()
    return [read(worker) for worker in started]


def go(started: list[subprocess.Popen[str]]) -> list[object]:
    """Start every worker at once; their results, once they have exited."""
    results = tell(started, "go")
    for worker in started:
        assert worker.wait(60) == 0
    return results


def read(worker: subprocess.Popen[str]) -> object:
    assert worker.stdout is not None
    line = worker.stdout.readline()
    assert line, f"worker {worker.args} died"
    return json.loads(line)


# -- the workers ------------------------------------------------------------------------------


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
    print("ready", flush=True)
    for line in sys.stdin:
        command, _, argument = line.partition(" ")
        if command != "sweep":
            break
        offset[0] = float(argument)
        report = loop.run_until_complete(watcher.sweep())
        failures = [str(failure.error) for failure in watcher.failures]  # why, if any failed
        print(json.dumps({**attrs.asdict(report), **({"failures": failures} if failures else {})}),
              flush=True)
    loop.run_until_complete(client.aclose())


def main(kind: str, *args: str) -> None:
    with PostgresStore(os.environ["ORDERSTATUS_STORE"]) as store:
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
