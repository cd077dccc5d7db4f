"""Properties of the tracker over any history a provider could produce: state moves and
payment, tracking and item changes, duplicated, reordered and mixed with unknown statuses."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderstatus import ChangeKind, OrderState, OrderStatus, StatusChange, lifecycle
from orderstatus.plugins import Registry
from orderstatus.stores import MemoryStore, SQLiteStore, Store
from orderstatus.testing.history import StatusHistory
from orderstatus.testing.strategies import status_histories
from orderstatus.tracking import Outcome, Tracker, is_older

STORES: dict[str, Callable[[], Store]] = {
    "memory": MemoryStore,
    "sqlite": lambda: SQLiteStore(":memory:"),
}
# Every provider's shape on the memory store; the SQLite store with Gooten's (per-item).
combinations = pytest.mark.parametrize(("kind", "provider"), [
    *(("memory", p) for p in (None, "gooten", "printapi", "fakeshop")), ("sqlite", "gooten"),
])
K = ChangeKind


def feed(tracker: Tracker, history: StatusHistory) -> list[StatusChange]:
    return [c for c in map(tracker.observe, history.observations) if c is not None]


def plain(status: OrderStatus | None) -> OrderStatus | None:
    return None if status is None else attrs.evolve(status, raw={})


def kinds_between(before: OrderStatus, after: OrderStatus) -> set[ChangeKind]:
    """What changed, worked out here independently of the tracker's own rule."""
    found = set()
    if (before.state, before.reason) != (after.state, after.reason):
        found.add(K.STATE)
    if before.payment is not after.payment:
        found.add(K.PAYMENT)
    if set(before.tracking) != set(after.tracking):
        found.add(K.TRACKING)
    items = [sorted((i.item_id, i.state, i.reason) for i in s.items) for s in (before, after)]
    in_step = all(i.state is s.state and i.reason is s.reason
                  for s in (before, after) for i in s.items)
    if items[0] != items[1] and not in_step:
        found.add(K.ITEMS)
    return found


def check_chain(changes: list[StatusChange]) -> None:
    """Each change follows the previous one, is real, goes forward in time and ids, and is
    legal or flagged."""
    for n, change in enumerate(changes):
        assert change.current is not OrderState.UNKNOWN
        assert change.kinds
        if n == 0:
            assert (change.previous, change.previous_status) == (None, None)
            assert K.STATE in change.kinds
            continue
        before = changes[n - 1]
        assert change.id > before.id
        assert change.previous is before.current
        # What it replaced is the previous change's status (maybe refreshed by a duplicate).
        assert change.previous_status is not None
        assert change.previous_status.raw == {}
        assert not kinds_between(before.status, change.previous_status)
        assert is_older(before.status, change.status), "the tracker went back in time"
        assert change.kinds == kinds_between(before.status, change.status)
        if change.current is change.previous:
            assert (change.skipped, change.anomaly) == ((), False)
            continue
        move = lifecycle.check_move(before.current, change.current)
        assert change.anomaly is not move.legal
        assert change.skipped == move.skipped


def histories(data: st.DataObject, provider: str | None, **options: bool) -> StatusHistory:
    return data.draw(status_histories(provider=provider, duplicates=True, unknowns=True,
                                      details=True, max_size=12, **options))


@combinations
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_in_order_histories_emit_every_real_change_exactly_once(
    kind: str, provider: str | None, data: st.DataObject
) -> None:
    history = histories(data, provider)
    tracker = Tracker(STORES[kind](), registry=Registry())
    changes = feed(tracker, history)
    assert [c.status for c in changes] == list(history.truth)
    assert [c.current for c in changes] == list(history.states)
    assert not any(c.anomaly for c in changes)
    check_chain(changes)
    assert [c.previous_status for c in changes] == [None, *map(plain, history.truth[:-1])]
    assert tracker.changes() == changes
    assert tracker.current(history.provider, history.order_id) == history.final


@combinations
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_reordered_histories_never_regress_and_end_at_the_last_status(
    kind: str, provider: str | None, data: st.DataObject
) -> None:
    history = histories(data, provider, reorder=True)
    tracker = Tracker(STORES[kind](), registry=Registry(), keep_duplicates=True)
    changes = feed(tracker, history)
    check_chain(changes)
    # Only real observations become changes, each at most once.
    statuses = [c.status for c in changes]
    assert all(s in history.truth for s in statuses)
    assert len(set(map(id, statuses))) == len(statuses)
    # The last observation by time wins, whatever order they arrived in (its change may have
    # been emitted by an earlier step that looked the same).
    assert not kinds_between(changes[-1].status, history.final)
    assert tracker.current(history.provider, history.order_id) == history.final
    # Everything that arrived is in the history, with what the tracker made of it, and the
    # change log holds exactly the changes emitted.
    recorded = tracker.history(history.provider, history.order_id)
    assert len(recorded) == len(history.observations)
    assert sum(e.outcome is Outcome.UNKNOWN for e in recorded) == sum(
        s.state is OrderState.UNKNOWN for s in history.observations
    )
    assert [e.change for e in recorded if e.change is not None] == changes
    assert tracker.changes() == changes


@combinations
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_replaying_a_history_is_a_no_op(
    kind: str, provider: str | None, data: st.DataObject
) -> None:
    history = histories(data, provider, reorder=True)
    tracker = Tracker(STORES[kind](), registry=Registry())
    feed(tracker, history)
    before = tracker.current(history.provider, history.order_id)
    logged = tracker.changes()
    assert feed(tracker, history) == []
    assert tracker.current(history.provider, history.order_id) == before
    assert tracker.changes() == logged


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_every_step_recorded_in_one_batch_is_still_emitted_once(data: st.DataObject) -> None:
    history = histories(data, "gooten", reorder=True)
    one_by_one = Tracker(registry=Registry())
    batched = Tracker(registry=Registry())
    expected = feed(one_by_one, history)
    entries = batched.record_many(history.observations)
    assert [e.change for e in entries if e.change is not None] == expected
    assert batched.changes() == expected


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_a_feed_that_carries_only_states_never_erases_details(data: st.DataObject) -> None:
    """Fetches interleaved with feed entries (the same status, stripped to id, state and
    time) end where the fetches alone end, and the feed never emits a detail change."""
    history = histories(data, "printapi")
    both, alone = Tracker(registry=Registry()), Tracker(registry=Registry())
    for status in history.observations:
        entry = attrs.evolve(status, payment=None, native_payment=None, tracking=(),
                             items=(), partial=True)
        alone.observe(status)
        both.observe(status)
        change = both.observe(entry)
        assert change is None
    assert both.current(history.provider, history.order_id) == alone.current(
        history.provider, history.order_id)


def test_kinds_are_exercised() -> None:
    """The histories above do bring every kind of change."""
    seen: set[ChangeKind] = set()

    @settings(max_examples=200, deadline=None, derandomize=True)  # the same draws every run
    @given(data=st.data())
    def look(data: st.DataObject) -> None:
        for change in feed(Tracker(registry=Registry()), histories(data, "gooten")):
            if change.previous is not None:
                seen.update(change.kinds)

    look()
    assert seen == set(ChangeKind)
