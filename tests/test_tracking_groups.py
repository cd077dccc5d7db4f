"""Observations from event loops are written in groups: one commit for those that arrive
together, each caller answered once its own is durable, a failure undoing only its own."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderstatus import OrderState, StatusChange
from orderstatus.plugins import Registry
from orderstatus.stores import MemoryStore, SQLiteStore, Store
from orderstatus.testing.stores import observation
from orderstatus.tracking import Outcome, Tracker
from orderstatus.tracking.groups import lock_order

S = OrderState


class Counting(MemoryStore):
    """A memory store that counts its commits and can be told to fail."""

    def __init__(self) -> None:
        super().__init__()
        self.commits = 0
        self.refused: set[str] = set()
        self.fail_commit = False
        self.hold = threading.Event()
        """Order ``HOLD``'s transaction waits for it: what arrives meanwhile groups."""
        self.hold.set()
        self.holding = threading.Event()
        """Set once order ``HOLD``'s transaction has begun (and waits for :attr:`hold`)."""

    @contextlib.contextmanager
    def transaction(self, provider: str, order_id: str) -> Iterator[object]:  # type: ignore[override]
        if order_id == "HOLD":
            self.holding.set()
            assert self.hold.wait(timeout=30)
        if order_id in self.refused:
            raise OSError(f"order {order_id} refused")
        with super().transaction(provider, order_id) as txn:
            yield txn
        if not self._undo:  # outside a batch: its own commit
            self.commits += 1

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        with super().batch():
            yield
            if self.fail_commit:
                raise OSError("disk full")
        self.commits += 1


def tracker_on(store: Store, seen: list[StatusChange] | None = None) -> Tracker:
    return Tracker(store, registry=Registry(),
                   on_change=None if seen is None else seen.append)


async def observe_all(tracker: Tracker, orders: list[str]) -> list[object]:
    return await asyncio.gather(
        *(tracker.arecord(observation(S.CREATED, 0, order=o)) for o in orders),
        return_exceptions=True,
    )


async def while_held(store: Counting, tracker: Tracker, orders: list[str]) -> list[object]:
    """Observe ``orders`` while order ``HOLD`` is being written: they make one group."""
    store.hold.clear()
    store.holding.clear()
    held = asyncio.ensure_future(tracker.arecord(observation(S.CREATED, 0, order="HOLD")))
    # its group (of one) is being written, and waits
    assert await asyncio.to_thread(store.holding.wait, 30)
    waiting = asyncio.ensure_future(observe_all(tracker, orders))
    await asyncio.sleep(0)  # every caller has handed its observation over
    store.hold.set()
    await held
    return await waiting


def test_observations_arriving_together_share_a_commit() -> None:
    store = Counting()
    orders = [f"O{n}" for n in range(60)]
    entries = asyncio.run(while_held(store, tracker_on(store), orders))
    assert [e.status.order_id for e in entries] == orders  # type: ignore[attr-defined]
    assert all(e.outcome is Outcome.CHANGE for e in entries)  # type: ignore[attr-defined]
    assert store.count() == 61
    assert store.commits == 2  # the held one alone, then the other sixty at once


def test_each_caller_is_answered_once_its_observation_is_durable(tmp_path: Path) -> None:
    """Read from another handle (another process would see the same) the moment each caller
    hears back: its order is stored, and its change was announced after the commit."""
    path = tmp_path / "s.sqlite3"
    seen: list[StatusChange] = []
    with SQLiteStore(path) as store, SQLiteStore(path) as reader:
        tracker = tracker_on(store, seen)

        async def one(order: str) -> None:
            entry = await tracker.arecord(observation(S.CREATED, 0, order=order))
            assert reader.current("suite", order) == entry.status
            assert entry.change in seen

        async def many() -> None:
            await asyncio.gather(*(one(f"O{n}") for n in range(40)))

        asyncio.run(many())
        assert len(seen) == 40
        changes = asyncio.run(tracker.aobserve(observation(S.SHIPPED, 5, order="O1")))
        assert changes is not None and changes.current is S.SHIPPED


def test_a_failing_observation_is_undone_alone() -> None:
    store = Counting()
    store.refused = {"O3", "O7"}
    results = asyncio.run(while_held(store, tracker_on(store), [f"O{n}" for n in range(10)]))
    assert [n for n, r in enumerate(results) if isinstance(r, OSError)] == [3, 7]
    assert store.count() == 9
    assert store.current("suite", "O3") is None
    assert store.commits == 2


def test_a_failed_batch_is_written_again_one_observation_at_a_time() -> None:
    """Nothing of a batch whose commit failed is stored (on PostgreSQL one failed statement
    aborts the whole transaction): each observation is then written in its own."""
    store = Counting()
    seen: list[StatusChange] = []
    tracker = tracker_on(store, seen)
    store.fail_commit = True
    group = asyncio.run(while_held(store, tracker, ["B", "C", "D"]))
    assert [e.outcome for e in group] == [Outcome.CHANGE] * 3  # type: ignore[attr-defined]
    assert [store.current("suite", o) is not None for o in "BCD"] == [True] * 3
    assert sorted(c.order_id for c in seen) == ["B", "C", "D", "HOLD"]  # each announced once
    assert store.commits == 4  # the held one, then B, C and D alone


def test_when_every_write_fails_each_caller_hears_why_and_the_next_one_is_written() -> None:
    store = Counting()
    tracker = tracker_on(store)
    store.fail_commit, store.refused = True, {"B", "C", "D"}
    group = asyncio.run(while_held(store, tracker, ["B", "C", "D"]))
    assert all(isinstance(r, OSError) for r in group)
    assert [store.current("suite", o) for o in "BCD"] == [None] * 3
    store.fail_commit = False
    later = asyncio.run(tracker.arecord(observation(S.CREATED, 0, order="E")))
    assert later.outcome is Outcome.CHANGE
    assert store.current("suite", "E") is not None


class Ordered(MemoryStore):
    """A memory store noting the order its transactions (their locks) are taken in."""

    def __init__(self) -> None:
        super().__init__()
        self.taken: list[str] = []

    @contextlib.contextmanager
    def transaction(self, provider: str, order_id: str) -> Iterator[object]:  # type: ignore[override]
        self.taken.append(order_id)
        with super().transaction(provider, order_id) as txn:
            yield txn


@given(st.lists(st.sampled_from(["A", "B", "C", "D"]), max_size=12))
def test_a_batch_takes_its_orders_locks_in_one_order(orders: list[str]) -> None:
    """Two batches sharing orders can never each hold a lock the other waits for; one
    order's observations keep the order they came in; entries come back as given."""
    store = Ordered()
    statuses = [observation(S.CREATED, minute, order=o) for minute, o in enumerate(orders)]
    positions = lock_order(statuses)
    assert sorted(positions) == list(range(len(orders)))
    assert [orders[i] for i in positions] == sorted(orders)
    for order in set(orders):
        mine = [i for i in positions if orders[i] == order]
        assert mine == sorted(mine)
    entries = tracker_on(store).record_many(statuses)
    assert store.taken == sorted(orders)
    assert [e.status for e in entries] == statuses


def test_callers_in_several_event_loops_are_each_answered_in_their_own() -> None:
    store = Counting()
    tracker = tracker_on(store)
    answers: dict[int, list[object]] = {}

    def loop_thread(n: int) -> None:
        answers[n] = asyncio.run(observe_all(tracker, [f"L{n}-{k}" for k in range(25)]))

    threads = [threading.Thread(target=loop_thread, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == [0, 1, 2, 3]
    for n, entries in answers.items():
        assert [e.status.order_id for e in entries] == [  # type: ignore[attr-defined]
            f"L{n}-{k}" for k in range(25)]
    assert store.count() == 100


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_grouped_observations_reach_the_verdicts_one_by_one_would(
    tmp_path: Path, kind: str
) -> None:
    """A walk of each order, all orders at once: the same changes as recorded in turn."""
    def store() -> Store:
        return MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / f"{id(object())}")

    walk = [(S.CREATED, 0), (S.CREATED, 0), (S.IN_PRODUCTION, 2), (S.SHIPPED, 4),
            (S.IN_PRODUCTION, 3)]
    grouped, alone = tracker_on(store()), tracker_on(store())

    async def walks() -> None:
        async def order(o: str) -> None:
            for state, minute in walk:
                await grouped.arecord(observation(state, minute, order=o))

        await asyncio.gather(*(order(f"O{n}") for n in range(20)))

    asyncio.run(walks())
    for n in range(20):
        for state, minute in walk:
            alone.record(observation(state, minute, order=f"O{n}"))
    key = lambda c: (c.order_id, str(c.previous), c.current)  # noqa: E731
    assert sorted(map(key, grouped.changes())) == sorted(map(key, alone.changes()))
