"""The tracker's reconciliation rules, each against both stores."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from orderstatus import OrderState, OrderStatus, StatusChange, Tracking, hookimpl
from orderstatus.plugins import Registry
from orderstatus.stores import MemoryStore, Outcome, SQLiteStore, Store
from orderstatus.tracking import Tracker, is_older

S = OrderState
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def status(
    state: OrderState, minute: int, *, order: str = "A1", stamped: bool = True,
    native: str | None = None, observed: int | None = None, **fields: Any,
) -> OrderStatus:
    """An observation of ``order`` in ``state``, true at ``minute`` past T0."""
    seen = minute if observed is None else observed
    return OrderStatus(
        "shop", order, state, native or state.value,
        provider_time=T0 + dt.timedelta(minutes=minute) if stamped else None,
        observed_at=T0 + dt.timedelta(minutes=seen, seconds=30),
        raw=fields.pop("raw", {"status": native or state.value, "minute": minute}), **fields,
    )


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """A factory of stores; SQLite ones share one file, like processes would."""
    opened: list[Store] = []

    def make() -> Store:
        store: Store = MemoryStore() if request.param == "memory" else SQLiteStore(
            tmp_path / "orders.sqlite3"
        )
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def tracker(make_store: Callable[[], Store]) -> Tracker:
    return Tracker(make_store(), registry=Registry())


def outcomes(tracker: Tracker, order: str = "A1") -> list[Outcome]:
    return [entry.outcome for entry in tracker.history("shop", order)]


def test_first_observation_is_a_change_from_nothing(tracker: Tracker) -> None:
    first = status(S.IN_PRODUCTION, 0)
    change = tracker.observe(first)
    assert change == StatusChange("shop", "A1", None, S.IN_PRODUCTION, (), False, first)
    assert tracker.current("shop", "A1") == first
    assert tracker.state("shop", "A1") is S.IN_PRODUCTION


def test_duplicates_are_dropped_but_refresh_the_snapshot(tracker: Tracker) -> None:
    tracker.observe(status(S.SHIPPED, 0))
    assert tracker.observe(status(S.SHIPPED, 0)) is None
    newer = status(S.SHIPPED, 5, tracking=(Tracking("PostNL", "3S123"),))
    assert tracker.observe(newer) is None
    assert tracker.current("shop", "A1") == newer
    assert outcomes(tracker) == [Outcome.CHANGE, Outcome.DUPLICATE, Outcome.DUPLICATE]


def test_legal_move_emits_one_change_with_inferred_skipped_states(tracker: Tracker) -> None:
    tracker.observe(status(S.CREATED, 0))
    shipped = status(S.SHIPPED, 10)
    change = tracker.observe(shipped)
    assert change == StatusChange("shop", "A1", S.CREATED, S.SHIPPED, (S.IN_PRODUCTION,),
                                  False, shipped)
    delivered = tracker.observe(status(S.DELIVERED, 20))
    assert delivered is not None
    assert (delivered.previous, delivered.skipped, delivered.anomaly) == (S.SHIPPED, (), False)


def test_older_observations_are_stale_and_dropped(tracker: Tracker) -> None:
    tracker.observe(status(S.IN_PRODUCTION, 10))
    assert tracker.observe(status(S.CREATED, 5)) is None
    assert tracker.state("shop", "A1") is S.IN_PRODUCTION
    assert outcomes(tracker) == [Outcome.CHANGE, Outcome.STALE]


def test_provider_time_decides_over_observed_at(tracker: Tracker) -> None:
    # Fetched later, but the provider says it was true earlier: stale.
    tracker.observe(status(S.SHIPPED, 10, observed=10))
    assert tracker.observe(status(S.IN_PRODUCTION, 5, observed=30)) is None
    assert tracker.state("shop", "A1") is S.SHIPPED


def test_observed_at_decides_without_provider_time(tracker: Tracker) -> None:
    tracker.observe(status(S.SHIPPED, 0, stamped=False, observed=10))
    assert tracker.observe(status(S.IN_PRODUCTION, 0, stamped=False, observed=5)) is None
    late = tracker.observe(status(S.DELIVERED, 0, stamped=False, observed=20))
    assert late is not None
    assert late.current is S.DELIVERED


def test_equal_provider_times_fall_back_to_observed_at() -> None:
    # Providers whose timestamp never moves (say, an order's creation time) still order.
    first, second = status(S.CREATED, 0, observed=1), status(S.SHIPPED, 0, observed=2)
    assert is_older(first, second)
    assert not is_older(second, first)
    assert not is_older(first, first)


def test_naive_and_aware_provider_times_fall_back_to_observed_at() -> None:
    naive = attrs.evolve(status(S.CREATED, 50, observed=1), provider_time=dt.datetime(2026, 3, 9))
    assert is_older(naive, status(S.SHIPPED, 0, observed=2))


def test_newer_illegal_move_is_applied_as_an_anomaly(tracker: Tracker) -> None:
    tracker.observe(status(S.SHIPPED, 0))
    created = status(S.CREATED, 10)
    change = tracker.observe(created)
    assert change == StatusChange("shop", "A1", S.SHIPPED, S.CREATED, (), True, created)
    assert tracker.state("shop", "A1") is S.CREATED
    assert outcomes(tracker) == [Outcome.CHANGE, Outcome.ANOMALY]


def test_terminal_states_only_leave_as_anomalies(tracker: Tracker) -> None:
    tracker.observe(status(S.DELIVERED, 0))
    change = tracker.observe(status(S.CANCELLED, 10))
    assert change is not None
    assert change.anomaly


def test_unknown_never_moves_an_order_but_is_reported(
    tracker: Tracker, caplog: pytest.LogCaptureFixture
) -> None:
    tracker.observe(status(S.CREATED, 0))
    weird = status(S.UNKNOWN, 10, native="Teleported", raw={"status": "Teleported"})
    with caplog.at_level(logging.WARNING, "orderstatus.tracking"):
        assert tracker.observe(weird) is None
    assert "'Teleported'" in caplog.text
    assert tracker.state("shop", "A1") is S.CREATED
    entry = tracker.history("shop", "A1")[-1]
    assert (entry.outcome, entry.previous) == (Outcome.UNKNOWN, S.CREATED)
    assert entry.status.native_status == "Teleported"
    assert entry.status.raw == {"status": "Teleported"}
    # The unknown did not advance the clock either: a later legal move is still a change.
    change = tracker.observe(status(S.IN_PRODUCTION, 5))
    assert change is not None
    assert change.previous is S.CREATED


def test_unknown_first_observation_tracks_nothing(tracker: Tracker) -> None:
    assert tracker.observe(status(S.UNKNOWN, 0, native="?")) is None
    assert tracker.current("shop", "A1") is None
    assert tracker.tracked() == []
    assert outcomes(tracker) == [Outcome.UNKNOWN]
    change = tracker.observe(status(S.CREATED, 1))
    assert change is not None
    assert change.previous is None


def test_history_keeps_what_each_observation_was(tracker: Tracker) -> None:
    for observed in (status(S.CREATED, 0), status(S.CREATED, 0), status(S.SHIPPED, 9),
                     status(S.IN_PRODUCTION, 5), status(S.UNKNOWN, 10, native="?"),
                     status(S.CREATED, 11)):
        tracker.observe(observed)
    history = tracker.history("shop", "A1")
    assert [e.outcome for e in history] == [
        Outcome.CHANGE, Outcome.DUPLICATE, Outcome.CHANGE, Outcome.STALE, Outcome.UNKNOWN,
        Outcome.ANOMALY,
    ]
    assert [e.seq for e in history] == sorted({e.seq for e in history})
    assert [e.status.native_status for e in history] == [
        "created", "created", "shipped", "in_production", "?", "created",
    ]
    # Changes keep the provider's payload; repeats are stored without it.
    assert history[0].status.raw == {"status": "created", "minute": 0}
    assert history[1].status.raw == {}
    assert history[3].status.raw == {}
    changes = [e.change for e in history if e.change is not None]
    assert [(c.previous, c.current, c.skipped, c.anomaly) for c in changes] == [
        (None, S.CREATED, (), False),
        (S.CREATED, S.SHIPPED, (S.IN_PRODUCTION,), False),
        (S.SHIPPED, S.CREATED, (), True),
    ]


def test_keep_duplicates_off_records_only_what_matters(make_store: Callable[[], Store]) -> None:
    tracker = Tracker(make_store(), registry=Registry(), keep_duplicates=False)
    for observed in (status(S.CREATED, 0), status(S.CREATED, 1), status(S.SHIPPED, 9),
                     status(S.IN_PRODUCTION, 5)):
        tracker.observe(observed)
    assert outcomes(tracker) == [Outcome.CHANGE, Outcome.CHANGE]
    assert tracker.current("shop", "A1") == status(S.SHIPPED, 9)


def test_tracked_lists_orders_and_filters_terminal_ones(tracker: Tracker) -> None:
    tracker.observe(status(S.SHIPPED, 0, order="B"))
    tracker.observe(status(S.DELIVERED, 0, order="A"))
    tracker.observe(status(S.ON_HOLD, 0, order="C"))
    assert [s.order_id for s in tracker.tracked()] == ["A", "B", "C"]
    assert [s.order_id for s in tracker.tracked(non_terminal=True)] == ["B", "C"]


class Listener:
    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self.heard: list[tuple[StatusChange, OrderState | None]] = []

    @hookimpl
    def orderstatus_status_changed(self, change: StatusChange) -> None:
        # The change is already stored when the hook hears it.
        self.heard.append((change, self.tracker.state(change.provider, change.order_id)))


def test_changes_reach_hooks_and_on_change_after_they_are_stored(
    make_store: Callable[[], Store],
) -> None:
    registry = Registry()
    called: list[StatusChange] = []
    tracker = Tracker(make_store(), registry=registry, on_change=called.append)
    listener = Listener(tracker)
    registry.add_plugin(listener, "listener")
    first = tracker.observe(status(S.CREATED, 0))
    tracker.observe(status(S.CREATED, 1))
    tracker.observe(status(S.UNKNOWN, 2, native="?"))
    second = tracker.observe(status(S.IN_PRODUCTION, 3))
    assert [c for c, _ in listener.heard] == called == [first, second]
    assert [state for _, state in listener.heard] == [S.CREATED, S.IN_PRODUCTION]


def test_failing_listeners_do_not_undo_the_change(
    make_store: Callable[[], Store], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(change: StatusChange) -> None:
        raise RuntimeError("listener bug")

    class BrokenHook:
        @hookimpl
        def orderstatus_status_changed(self, change: StatusChange) -> None:
            raise RuntimeError("hook bug")

    registry = Registry()
    registry.add_plugin(BrokenHook(), "broken")
    tracker = Tracker(make_store(), registry=registry, on_change=broken)
    with caplog.at_level(logging.ERROR):
        change = tracker.observe(status(S.CREATED, 0))
    assert change is not None
    assert tracker.state("shop", "A1") is S.CREATED
    assert "hook of 'broken' failed" in caplog.text
    assert "on_change callback failed" in caplog.text


def test_async_observe_runs_the_same_rules(tracker: Tracker) -> None:
    async def main() -> list[StatusChange | None]:
        return [await tracker.aobserve(s) for s in
                (status(S.CREATED, 0), status(S.CREATED, 0), status(S.SHIPPED, 2))]

    first, duplicate, shipped = asyncio.run(main())
    assert first is not None
    assert duplicate is None
    assert shipped is not None
    assert shipped.skipped == (S.IN_PRODUCTION,)


def test_a_failed_transaction_leaves_no_trace(make_store: Callable[[], Store]) -> None:
    store = make_store()
    tracker = Tracker(store, registry=Registry())
    tracker.observe(status(S.CREATED, 0))

    def crash() -> None:
        with store.transaction("shop", "A1") as txn:
            txn.append(attrs.evolve(tracker.history("shop", "A1")[0], seq=0))
            txn.set_current(status(S.SHIPPED, 5))
            raise RuntimeError("crash inside the transaction")

    with pytest.raises(RuntimeError, match="crash inside"):
        crash()
    assert tracker.state("shop", "A1") is S.CREATED
    assert len(tracker.history("shop", "A1")) == 1


def test_concurrent_observers_emit_each_change_once(make_store: Callable[[], Store]) -> None:
    """Eight threads, on four stores (for SQLite: four connections to one file, as four
    processes would have), all observe the same walks of 20 orders in their own order."""
    walk = (S.CREATED, S.IN_PRODUCTION, S.SHIPPED, S.DELIVERED)
    stream = [status(state, n, order=f"O{o}") for o in range(20) for n, state in enumerate(walk)]
    first = make_store()
    shared = isinstance(first, MemoryStore)
    stores = [first] * 4 if shared else [first, *(make_store() for _ in range(3))]
    emitted: list[StatusChange] = []
    lock = threading.Lock()

    def observe(worker: int) -> None:
        tracker = Tracker(stores[worker % 4], registry=Registry())
        ordered = stream[worker::] + stream[:worker]
        for observed in ordered:
            change = tracker.observe(observed)
            if change is not None:
                with lock:
                    emitted.append(change)

    threads = [threading.Thread(target=observe, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys = [(c.order_id, c.current) for c in emitted]
    assert len(keys) == len(set(keys)), "a change was emitted twice"
    reader = Tracker(stores[0], registry=Registry())
    for order in range(20):
        assert reader.state("shop", f"O{order}") is S.DELIVERED
        changes = [e.change for e in reader.history("shop", f"O{order}") if e.change]
        # Every emitted change is stored, and every stored change was emitted.
        assert sorted((f"O{order}", c.current) for c in changes) == sorted(
            k for k in keys if k[0] == f"O{order}"
        )
        for before, after in itertools.pairwise(changes):
            assert after.previous is before.current
