"""Consumers of the change log: at least once, exactly once by id, across crashes."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from orderstatus import Consumer, OrderState, OrderStatus, SQLiteStore, Tracker
from orderstatus.plugins import Registry
from orderstatus.stores import MemoryStore

S = OrderState
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def walk(tracker: Tracker, orders: int, order: str = "O") -> None:
    for step, state in enumerate((S.CREATED, S.IN_PRODUCTION, S.SHIPPED)):
        for n in range(orders):
            at = T0 + dt.timedelta(minutes=step)
            tracker.observe(OrderStatus("shop", f"{order}{n}", state, state.value,
                                        provider_time=at, observed_at=at))


@pytest.fixture
def tracker() -> Tracker:
    return Tracker(MemoryStore(), registry=Registry())


def test_what_is_not_acknowledged_comes_back(tracker: Tracker) -> None:
    walk(tracker, 2)
    consumer = tracker.consumer("billing")
    assert consumer.position == 0
    first = consumer.poll(limit=4)
    assert [c.id for c in first] == [c.id for c in tracker.changes()[:4]]
    assert consumer.poll(limit=4) == first  # polled, not acknowledged: the same again
    assert consumer.ack(first[1].id) == first[1].id
    assert consumer.poll(limit=2) == first[2:4]
    # Acknowledging is idempotent and never goes back.
    assert consumer.ack(first[0].id) == first[1].id
    assert consumer.ack(first[1].id) == first[1].id
    # Another consumer, or this one in another process, starts from what is stored.
    assert tracker.consumer("billing").position == first[1].id
    assert tracker.consumer("erp").poll(limit=1) == first[:1]
    assert tracker.consumers() == {"billing": first[1].id, "erp": 0}


def test_acknowledging_the_unknown_is_refused(tracker: Tracker) -> None:
    walk(tracker, 1)
    consumer = tracker.consumer("billing")
    last = tracker.last_change_id()
    with pytest.raises(ValueError, match=rf"consumer 'billing': there is no change {last + 1} "
                                         rf"yet \(the last is {last}\)"):
        consumer.ack(last + 1)
    for bad, error in ((-1, ValueError), (True, TypeError), ("3", TypeError)):
        with pytest.raises(error, match="change id"):
            consumer.ack(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        consumer.poll(limit=0)
    assert consumer.position == 0


@pytest.mark.parametrize(("name", "error"), [
    ("", ValueError), ("a b", ValueError), ("tab\there", ValueError), ("x" * 129, ValueError),
    ("nul\x00", ValueError), (7, TypeError),
])
def test_consumer_names_are_checked(tracker: Tracker, name: object, error: type) -> None:
    with pytest.raises(error, match="consumer name"):
        tracker.consumer(name)  # type: ignore[arg-type]
    assert tracker.consumers() == {}


def test_a_dropped_consumer_no_longer_holds_back_pruning(tracker: Tracker) -> None:
    walk(tracker, 1)
    tracker.consumer("slow")
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
    assert tracker.prune(later) == 0
    assert tracker.drop_consumer("slow")
    assert not tracker.drop_consumer("slow")
    assert tracker.prune(later) == 3


def test_async_poll_and_ack_are_the_same(tracker: Tracker) -> None:
    walk(tracker, 1)
    consumer = tracker.consumer("jobs")

    async def main() -> list[int]:
        got = await consumer.apoll(limit=2)
        await consumer.aack(got[-1].id)
        return [c.id for c in await consumer.apoll()]

    assert asyncio.run(main()) == [c.id for c in tracker.changes()[2:]]
    assert isinstance(consumer, Consumer)
    assert "jobs" in repr(consumer)


# -- crashes ---------------------------------------------------------------------------------

PRODUCER = textwrap.dedent("""
    import datetime as dt, sys, time
    from orderstatus import OrderState, OrderStatus, SQLiteStore, Tracker
    from orderstatus.plugins import Registry

    tracker = Tracker(SQLiteStore(sys.argv[1]), registry=Registry())
    T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    for step, state in enumerate((OrderState.CREATED, OrderState.IN_PRODUCTION,
                                  OrderState.SHIPPED, OrderState.DELIVERED)):
        for n in range(int(sys.argv[2])):
            at = T0 + dt.timedelta(minutes=step)
            tracker.observe(OrderStatus("crash", f"O{n}", state, state.value,
                                        provider_time=at, observed_at=at))
            time.sleep(0.002)
    open(sys.argv[3], "w").close()
""")

CONSUMER = textwrap.dedent("""
    import os, random, sys, time
    from orderstatus import SQLiteStore, Tracker
    from orderstatus.plugins import Registry

    store, handled, finished = sys.argv[1], sys.argv[2], sys.argv[3]
    rng = random.Random(int(sys.argv[4]))
    consumer = Tracker(SQLiteStore(store), registry=Registry()).consumer("crash-test")
    with open(handled, "a") as out:
        while True:
            done = os.path.exists(finished)  # looked at before polling: nothing comes later
            batch = consumer.poll(limit=rng.randint(1, 9))
            for change in batch:
                out.write(f"{change.id}\\n")  # the side effect: before the acknowledgement
                out.flush()
                print(change.id, flush=True)
                time.sleep(0.01)  # handling takes a while
            if batch:
                consumer.ack(batch[-1].id)
            elif done:
                break
    print("done", flush=True)
""")


def test_a_consumer_killed_anywhere_handles_every_change_exactly_once_by_id(
    tmp_path: Path,
) -> None:
    store, handled, finished = (tmp_path / n for n in ("s.sqlite3", "handled", "finished"))
    (tmp_path / "producer.py").write_text(PRODUCER)
    (tmp_path / "consumer.py").write_text(CONSUMER)
    SQLiteStore(store).close()  # created before two processes open it
    producer = subprocess.Popen(
        [sys.executable, str(tmp_path / "producer.py"), str(store), "40", str(finished)])
    rng = random.Random(20260311)
    killed = 0
    try:
        for run in range(8):
            consumer = subprocess.Popen(
                [sys.executable, str(tmp_path / "consumer.py"), str(store), str(handled),
                 str(finished), str(run)], stdout=subprocess.PIPE, text=True)
            assert consumer.stdout is not None
            for _ in range(rng.randint(1, 15)):  # let it handle a few, then kill it anywhere
                if not consumer.stdout.readline():
                    break
            spin = rng.randrange(0, 200_000)
            while spin:
                spin -= 1
            consumer.kill()
            out, _ = consumer.communicate(timeout=30)
            killed += "done" not in out
        assert producer.wait(timeout=120) == 0
        final = subprocess.run(
            [sys.executable, str(tmp_path / "consumer.py"), str(store), str(handled),
             str(finished), "99"], capture_output=True, text=True, timeout=120, check=True)
        assert final.stdout.endswith("done\n")
    finally:
        producer.kill()
        producer.wait()
    assert killed >= 4, "the kills came too late to test anything"

    with SQLiteStore(store) as saved:
        ids = [c.id for c in Tracker(saved, registry=Registry()).changes(limit=1000)]
        assert len(ids) == 160
        assert saved.consumers() == {"crash-test": ids[-1]}
    deliveries = Counter(int(line) for line in handled.read_text().split())
    assert sorted(deliveries) == ids  # every change handled; nothing that is not a change
    # At least once: repeats only of what a killed consumer had not acknowledged yet.
    repeats = sum(deliveries.values()) - len(ids)
    assert 0 < repeats <= 9 * killed, "no kill landed between handling and acknowledging"
