"""The tracker's reconciliation rules, each against both stores."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from orderstatus_gooten import GootenProvider

from orderstatus import (
    ActionReason,
    ChangeKind,
    ItemStatus,
    OrderState,
    OrderStatus,
    ParsedItem,
    ParsedOrder,
    PaymentState,
    StatusChange,
    Tracking,
    hookimpl,
)
from orderstatus.mapping import StatusMapper
from orderstatus.plugins import Registry
from orderstatus.stores import MemoryStore, SQLiteStore, Store
from orderstatus.tracking import Outcome, Tracker, is_older

S = OrderState
K = ChangeKind
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
WALK = (S.CREATED, S.IN_PRODUCTION, S.SHIPPED, S.DELIVERED)


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
    assert change == StatusChange("shop", "A1", None, S.IN_PRODUCTION, (), False, first,
                                  frozenset({K.STATE}), None, change.id if change else 0)
    assert change is not None
    assert change.id > 0
    assert tracker.current("shop", "A1") == first
    assert tracker.state("shop", "A1") is S.IN_PRODUCTION


def test_a_first_observation_changes_everything_it_carries(tracker: Tracker) -> None:
    shipped = status(S.SHIPPED, 0, payment=PaymentState.PAID, tracking=(Tracking(number="3S"),))
    change = tracker.observe(shipped)
    assert change is not None
    assert change.kinds == {K.STATE, K.PAYMENT, K.TRACKING}


def test_duplicates_are_dropped_but_refresh_the_snapshot(tracker: Tracker) -> None:
    tracker.observe(status(S.SHIPPED, 0))
    assert tracker.observe(status(S.SHIPPED, 0)) is None
    newer = status(S.SHIPPED, 5, native="Verzonden")  # another native word, same meaning
    assert tracker.observe(newer) is None
    assert tracker.current("shop", "A1") == newer
    assert outcomes(tracker) == [Outcome.CHANGE]  # repeats are not kept by default


def test_legal_move_emits_one_change_with_inferred_skipped_states(tracker: Tracker) -> None:
    tracker.observe(status(S.CREATED, 0))
    created, shipped = status(S.CREATED, 0), status(S.SHIPPED, 10)
    change = tracker.observe(shipped)
    assert change is not None
    assert change == StatusChange("shop", "A1", S.CREATED, S.SHIPPED, (S.IN_PRODUCTION,),
                                  False, shipped, frozenset({K.STATE}), created, change.id)
    delivered = tracker.observe(status(S.DELIVERED, 20))
    assert delivered is not None
    assert (delivered.previous, delivered.skipped, delivered.anomaly) == (S.SHIPPED, (), False)


def test_older_observations_are_stale_and_dropped(tracker: Tracker) -> None:
    tracker.observe(status(S.IN_PRODUCTION, 10))
    assert tracker.record(status(S.CREATED, 5)).outcome is Outcome.STALE
    assert tracker.state("shop", "A1") is S.IN_PRODUCTION
    assert outcomes(tracker) == [Outcome.CHANGE]


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
    assert change is not None
    assert (change.previous, change.current, change.skipped, change.anomaly, change.status) == (
        S.SHIPPED, S.CREATED, (), True, created)
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


def test_history_keeps_what_each_observation_was(make_store: Callable[[], Store]) -> None:
    tracker = Tracker(make_store(), registry=Registry(), keep_duplicates=True)
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


def test_only_what_matters_is_kept_by_default(tracker: Tracker) -> None:
    for observed in (status(S.CREATED, 0), status(S.CREATED, 1), status(S.SHIPPED, 9),
                     status(S.IN_PRODUCTION, 5), status(S.UNKNOWN, 10, native="?")):
        tracker.observe(observed)
    assert outcomes(tracker) == [Outcome.CHANGE, Outcome.CHANGE, Outcome.UNKNOWN]
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



# -- changes that are not state moves --------------------------------------------------------


def test_a_payment_change_is_a_change_without_a_state_move(tracker: Tracker) -> None:
    first = status(S.CREATED, 0, payment=PaymentState.OPEN, native_payment="Open")
    tracker.observe(first)
    paid = status(S.CREATED, 5, payment=PaymentState.PAID, native_payment="Successful")
    change = tracker.observe(paid)
    assert change is not None
    assert (change.kinds, change.previous, change.current, change.anomaly) == (
        {K.PAYMENT}, S.CREATED, S.CREATED, False)
    assert change.previous_status == first
    assert change.previous_status is not None
    assert change.previous_status.raw == {}  # the replaced status is kept without its payload
    assert outcomes(tracker) == [Outcome.CHANGE, Outcome.CHANGE]
    assert tracker.observe(status(S.CREATED, 9, payment=PaymentState.PAID,
                                  native_payment="Successful")) is None


def test_an_unmapped_payment_status_never_moves_the_payment(tracker: Tracker) -> None:
    tracker.observe(status(S.CREATED, 0, payment=PaymentState.PAID, native_payment="Successful"))
    assert tracker.observe(status(S.CREATED, 5, native_payment="Weird")) is None
    current = tracker.current("shop", "A1")
    assert current is not None
    assert (current.payment, current.native_payment) == (PaymentState.PAID, "Successful")
    assert tracker.observe(status(S.CREATED, 9, payment=PaymentState.PAID,
                                  native_payment="Successful")) is None


def test_tracking_added_or_changed_is_a_change_but_reordered_parcels_are_not(
    tracker: Tracker,
) -> None:
    one, two = Tracking("PostNL", "3S1"), Tracking("DHL", "JJD2", "https://dhl.example/JJD2")
    tracker.observe(status(S.SHIPPED, 0))
    added = tracker.observe(status(S.SHIPPED, 1, tracking=(one,)))
    assert added is not None
    assert (added.kinds, added.previous, added.current) == ({K.TRACKING}, S.SHIPPED, S.SHIPPED)
    assert tracker.observe(status(S.SHIPPED, 2, tracking=(one, two))) is not None
    assert tracker.observe(status(S.SHIPPED, 3, tracking=(two, one))) is None
    moved = tracker.observe(status(S.DELIVERED, 4, tracking=(two,)))
    assert moved is not None
    assert moved.kinds == {K.STATE, K.TRACKING}


def test_a_new_reason_to_act_is_a_state_change_in_place(tracker: Tracker) -> None:
    tracker.observe(status(S.ACTION_REQUIRED, 0, reason=ActionReason.ADDRESS))
    change = tracker.observe(status(S.ACTION_REQUIRED, 1, reason=ActionReason.ARTWORK))
    assert change is not None
    assert (change.kinds, change.previous, change.current, change.anomaly) == (
        {K.STATE}, S.ACTION_REQUIRED, S.ACTION_REQUIRED, False)


GOOTEN = StatusMapper(GootenProvider)


def gooten(natives: list[str], *, sent: int, order: str = "7-ab") -> OrderStatus:
    """A Gooten answer (no provider time) to a request sent ``sent`` minutes after T0."""
    parsed = ParsedOrder(order, items=tuple(
        ParsedItem(str(n + 1), native,
                   (Tracking("UPS", f"1Z{n}"),) if native == "Shipped" else ())
        for n, native in enumerate(natives)
    ), raw={"Items": [{"Status": n} for n in natives]})
    return GOOTEN.to_status(parsed, observed_at=T0 + dt.timedelta(minutes=sent))


def test_one_item_of_three_moving_is_an_items_change(tracker: Tracker) -> None:
    tracker.observe(gooten(["InProduction"] * 3, sent=0))
    one = tracker.observe(gooten(["Shipped", "InProduction", "InProduction"], sent=5))
    assert one is not None
    assert (one.kinds, one.previous, one.current) == (
        {K.ITEMS, K.TRACKING}, S.IN_PRODUCTION, S.IN_PRODUCTION)
    last = tracker.observe(gooten(["Shipped"] * 3, sent=10))
    assert last is not None
    assert last.kinds == {K.STATE, K.ITEMS, K.TRACKING}
    # Items moving together, each just showing the order's state: the state says it all.
    together = tracker.observe(gooten(["Delivered"] * 3, sent=15))
    assert together is not None
    assert together.kinds == {K.STATE, K.TRACKING}


def test_an_answer_requested_earlier_but_arriving_later_is_stale(tracker: Tracker) -> None:
    """Two overlapping fetches of a Gooten order (it gives no timestamps): the one sent
    first is answered before the order shipped, but its answer arrives second."""
    tracker.observe(gooten(["InProduction"] * 2, sent=0))
    sent_second = gooten(["Shipped"] * 2, sent=11)
    sent_first = gooten(["InProduction"] * 2, sent=10)
    forward = tracker.observe(sent_second)
    assert forward is not None
    assert (forward.previous, forward.current) == (S.IN_PRODUCTION, S.SHIPPED)
    assert tracker.record(sent_first).outcome is Outcome.STALE  # not an anomaly
    assert tracker.state("gooten", "7-ab") is S.SHIPPED
    # The next notification brings nothing new: the forward move is not emitted again.
    assert tracker.observe(gooten(["Shipped"] * 2, sent=12)) is None
    assert [(c.previous, c.current) for c in tracker.changes()] == [
        (None, S.IN_PRODUCTION), (S.IN_PRODUCTION, S.SHIPPED)]


# -- partial observations --------------------------------------------------------------------


def feed_entry(state: OrderState, minute: int, native: str | None = None) -> OrderStatus:
    """What a feed says of an order: its id, status and time, nothing else."""
    return attrs.evolve(status(state, minute, native=native), partial=True)


def test_a_feed_entry_keeps_tracking_payment_and_items(tracker: Tracker) -> None:
    parcel = Tracking(url="https://track.example/P-1")
    items = (ItemStatus("1", S.SHIPPED, "Shipped"), ItemStatus("2", S.SHIPPED, "Shipped"))
    fetched = status(S.SHIPPED, 0, native="Shipped", payment=PaymentState.PAID,
                     native_payment="Successful", tracking=(parcel,), items=items)
    tracker.observe(fetched)
    assert tracker.observe(feed_entry(S.SHIPPED, 1, "Shipped")) is None
    kept = tracker.current("shop", "A1")
    assert kept is not None
    assert (kept.tracking, kept.payment, kept.native_payment, kept.items, kept.partial) == (
        (parcel,), PaymentState.PAID, "Successful", items, False)
    assert kept.observed_at == feed_entry(S.SHIPPED, 1).observed_at
    # A move from the feed keeps them too; items that only showed the order's own status
    # (as Print API's do) move with it.
    delivered = tracker.observe(feed_entry(S.DELIVERED, 2, "Delivered"))
    assert delivered is not None
    assert delivered.kinds == {K.STATE}
    assert delivered.status.tracking == (parcel,)
    assert delivered.status.payment is PaymentState.PAID
    assert [(i.state, i.native_status) for i in delivered.status.items] == [
        (S.DELIVERED, "Delivered")] * 2


def test_a_feed_entry_leaves_items_with_their_own_status_alone(tracker: Tracker) -> None:
    items = (ItemStatus("1", S.SHIPPED, "Shipped"),
             ItemStatus("2", S.IN_PRODUCTION, "Printing"))
    tracker.observe(status(S.IN_PRODUCTION, 0, native="Printing", items=items))
    change = tracker.observe(feed_entry(S.SHIPPED, 1, "Shipped"))
    assert change is not None
    assert change.status.items == items


def test_a_first_feed_entry_is_tracked_as_partial(tracker: Tracker) -> None:
    change = tracker.observe(feed_entry(S.IN_PRODUCTION, 0))
    assert change is not None
    assert change.status.partial
    full = status(S.IN_PRODUCTION, 1, payment=PaymentState.PAID)
    change = tracker.observe(full)
    assert change is not None
    assert change.kinds == {K.PAYMENT}
    assert tracker.current("shop", "A1") == full


# -- the change log --------------------------------------------------------------------------


def test_changes_are_read_from_the_log_in_order(tracker: Tracker) -> None:
    emitted = [c for n, state in enumerate(WALK) for order in ("A", "B")
               if (c := tracker.observe(status(state, n, order=order))) is not None]
    assert len(emitted) == 8
    assert tracker.changes() == emitted
    assert tracker.last_change_id() == emitted[-1].id
    assert tracker.changes(after=emitted[2].id, limit=2) == emitted[3:5]
    for bad, error in ((-1, ValueError), (True, TypeError), ("1", TypeError)):
        with pytest.raises(error, match="after"):
            tracker.changes(after=bad)  # type: ignore[arg-type]
    for bad, error in ((0, ValueError), (10_001, ValueError), (2.5, TypeError)):
        with pytest.raises(error, match="limit"):
            tracker.changes(limit=bad)  # type: ignore[arg-type]


def test_record_many_announces_once_everything_is_stored(
    make_store: Callable[[], Store],
) -> None:
    registry = Registry()
    tracker = Tracker(make_store(), registry=registry)
    listener = Listener(tracker)
    registry.add_plugin(listener, "listener")
    entries = tracker.record_many([status(S.CREATED, 0, order="A"),
                                   status(S.CREATED, 0, order="B"),
                                   status(S.SHIPPED, 1, order="A")])
    assert [e.outcome for e in entries] == [Outcome.CHANGE] * 3
    # Every hook call saw the whole batch stored, the last move of A included; the changes
    # are announced as written, in lock order (A's two, then B's), as the log has them.
    assert [state for _, state in listener.heard] == [S.SHIPPED, S.SHIPPED, S.CREATED]
    assert [c for c, _ in listener.heard] == tracker.changes()


def test_prune_drops_old_history_but_never_the_current_record(tracker: Tracker) -> None:
    tracker.observe(status(S.CREATED, 0))
    tracker.observe(status(S.SHIPPED, 1))
    assert tracker.prune(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)) == 2
    assert tracker.history("shop", "A1") == []
    assert tracker.state("shop", "A1") is S.SHIPPED
    with pytest.raises(TypeError, match="datetime"):
        tracker.prune("yesterday")  # type: ignore[arg-type]
