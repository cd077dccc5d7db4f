"""Properties of the tracker over any history a provider could produce."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings

from orderstatus import OrderState, StatusChange, lifecycle
from orderstatus.plugins import Registry
from orderstatus.stores import MemoryStore, Outcome, SQLiteStore, Store
from orderstatus.testing.history import StatusHistory
from orderstatus.testing.strategies import status_histories
from orderstatus.tracking import Tracker, is_older

STORES: dict[str, Callable[[], Store]] = {
    "memory": MemoryStore,
    "sqlite": lambda: SQLiteStore(":memory:"),
}
store_kinds = pytest.mark.parametrize("kind", sorted(STORES))


def feed(tracker: Tracker, history: StatusHistory) -> list[StatusChange]:
    return [c for c in map(tracker.observe, history.observations) if c is not None]


def check_chain(changes: list[StatusChange]) -> None:
    """Each change follows the previous one, is real, and is legal or flagged."""
    for n, change in enumerate(changes):
        assert change.current is not change.previous
        assert change.current is not OrderState.UNKNOWN
        if n == 0:
            assert change.previous is None
            continue
        before = changes[n - 1]
        assert change.previous is before.current
        assert is_older(before.status, change.status), "the tracker went back in time"
        move = lifecycle.check_move(before.current, change.current)
        assert change.anomaly is not move.legal
        assert change.skipped == move.skipped


@store_kinds
@settings(max_examples=60, deadline=None)
@given(history=status_histories(duplicates=True, unknowns=True, max_size=12))
def test_in_order_histories_emit_every_real_change_exactly_once(
    kind: str, history: StatusHistory
) -> None:
    tracker = Tracker(STORES[kind](), registry=Registry())
    changes = feed(tracker, history)
    assert [c.status for c in changes] == list(history.truth)
    assert [c.current for c in changes] == list(history.states)
    assert not any(c.anomaly for c in changes)
    check_chain(changes)
    assert tracker.state(history.provider, history.order_id) is history.final.state


@store_kinds
@settings(max_examples=80, deadline=None)
@given(history=status_histories(duplicates=True, reorder=True, unknowns=True, max_size=12))
def test_reordered_histories_never_regress_and_end_at_the_last_state(
    kind: str, history: StatusHistory
) -> None:
    tracker = Tracker(STORES[kind](), registry=Registry())
    changes = feed(tracker, history)
    check_chain(changes)
    # Only real observations become changes, each at most once.
    statuses = [c.status for c in changes]
    assert all(s in history.truth for s in statuses)
    assert len(set(map(id, statuses))) == len(statuses)
    # The last observation by time wins, whatever order they arrived in.
    assert changes[-1].current is history.final.state
    assert tracker.current(history.provider, history.order_id) == history.final
    # Everything that arrived is in the history, with what the tracker made of it.
    recorded = tracker.history(history.provider, history.order_id)
    assert len(recorded) == len(history.observations)
    assert sum(e.outcome is Outcome.UNKNOWN for e in recorded) == sum(
        s.state is OrderState.UNKNOWN for s in history.observations
    )
    assert [e.change for e in recorded if e.change is not None] == changes


@store_kinds
@settings(max_examples=60, deadline=None)
@given(history=status_histories(duplicates=True, reorder=True, unknowns=True, max_size=10))
def test_replaying_a_history_is_a_no_op(kind: str, history: StatusHistory) -> None:
    tracker = Tracker(STORES[kind](), registry=Registry())
    feed(tracker, history)
    before = tracker.current(history.provider, history.order_id)
    assert feed(tracker, history) == []
    assert tracker.current(history.provider, history.order_id) == before


@settings(max_examples=40, deadline=None)
@given(history=status_histories(provider="fakeshop", duplicates=True, reorder=True,
                                unknowns=True, max_size=10))
def test_per_item_provider_histories_follow_the_same_rules(history: StatusHistory) -> None:
    tracker = Tracker(registry=Registry())
    changes = feed(tracker, history)
    check_chain(changes)
    assert tracker.state(history.provider, history.order_id) is history.final.state
