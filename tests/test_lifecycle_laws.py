"""The laws of the lifecycle, checked by Hypothesis."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderstatus import OrderState, lifecycle
from orderstatus.lifecycle import MAIN_LINE, TERMINAL, TRANSITIONS, aggregate, can_transition
from orderstatus.mapping import StatusMapper
from orderstatus.testing import strategies as os_st
from orderstatus.testing.generic import GenericProvider
from orderstatus.testing.history import StatusHistory

S = OrderState
item_states = st.lists(os_st.order_states(include_unknown=True), max_size=8)


@given(item_states.flatmap(lambda states: st.tuples(st.just(states), st.permutations(states))))
def test_aggregation_does_not_depend_on_item_order(
    pair: tuple[list[OrderState], list[OrderState]],
) -> None:
    states, shuffled = pair
    assert aggregate(shuffled) is aggregate(states)


@given(item_states)
def test_aggregation_ignores_repeats(states: list[OrderState]) -> None:
    assert aggregate(states + states) is aggregate(states)


@given(os_st.order_states(include_unknown=True))
def test_a_single_item_aggregates_to_itself(state: OrderState) -> None:
    assert aggregate([state]) is state


def test_no_items_aggregate_to_unknown() -> None:
    assert aggregate([]) is S.UNKNOWN


@given(item_states.filter(lambda s: S.CANCELLED not in s), st.integers(1, 3))
def test_cancelled_items_are_ignored_unless_all_are(states: list[OrderState], n: int) -> None:
    assert aggregate(states + [S.CANCELLED] * n) is (aggregate(states) if states else S.CANCELLED)


@given(item_states)
def test_the_aggregate_is_one_of_the_items_states(states: list[OrderState]) -> None:
    if states:
        assert aggregate(states) in states


@given(os_st.order_states(include_unknown=True))
def test_unknown_never_moves_an_order(state: OrderState) -> None:
    assert not can_transition(state, S.UNKNOWN)
    assert not can_transition(S.UNKNOWN, state)


@given(os_st.order_states(include_unknown=True))
def test_staying_put_is_not_a_move(state: OrderState) -> None:
    assert not can_transition(state, state)


@given(st.sampled_from(sorted(TERMINAL)), os_st.order_states(include_unknown=True))
def test_terminal_stays_terminal(terminal: OrderState, other: OrderState) -> None:
    assert not can_transition(terminal, other)
    assert lifecycle.is_terminal(terminal)


def test_terminal_states_are_exactly_delivered_cancelled_test() -> None:
    assert {S.DELIVERED, S.CANCELLED, S.TEST} == TERMINAL


@given(os_st.order_states(), os_st.order_states())
def test_check_move_agrees_with_can_transition_and_skipped(a: OrderState, b: OrderState) -> None:
    move = lifecycle.check_move(a, b)
    assert move.legal is can_transition(a, b)
    assert move.skipped == (lifecycle.skipped(a, b) if move.legal else ())


@given(os_st.order_states(include_unknown=True), os_st.order_states(include_unknown=True))
def test_skipped_states_lie_strictly_between_on_the_main_line(a: OrderState, b: OrderState) -> None:
    gap = lifecycle.skipped(a, b)
    if a in MAIN_LINE and b in MAIN_LINE and MAIN_LINE.index(b) > MAIN_LINE.index(a):
        assert gap == MAIN_LINE[MAIN_LINE.index(a) + 1 : MAIN_LINE.index(b)]
    else:
        assert gap == ()
    assert a not in gap
    assert b not in gap


@given(os_st.order_states(), os_st.order_states(), os_st.order_states())
def test_skipping_composes_along_the_main_line(a: OrderState, b: OrderState, c: OrderState) -> None:
    if all(s in MAIN_LINE for s in (a, b, c)) and MAIN_LINE.index(a) < MAIN_LINE.index(b) < \
            MAIN_LINE.index(c):
        assert lifecycle.skipped(a, c) == (*lifecycle.skipped(a, b), b, *lifecycle.skipped(b, c))


def test_named_skips() -> None:
    assert lifecycle.skipped(S.CREATED, S.SHIPPED) == (S.IN_PRODUCTION,)
    assert lifecycle.skipped(S.CREATED, S.DELIVERED) == (S.IN_PRODUCTION, S.SHIPPED)
    assert lifecycle.skipped(S.ON_HOLD, S.SHIPPED) == ()


@given(os_st.status_histories(max_size=12))
def test_legal_walks_may_skip_but_every_skipped_state_is_on_the_way(
    history: StatusHistory,
) -> None:
    for a, b in itertools.pairwise(history.states):
        for gap in lifecycle.skipped(a, b):
            assert MAIN_LINE.index(a) < MAIN_LINE.index(gap) < MAIN_LINE.index(b)


@given(st.text())
def test_mapping_is_total(native: str) -> None:
    mapped = StatusMapper(GenericProvider).native(native)
    assert isinstance(mapped.state, OrderState)
    if native not in GenericProvider.native_statuses:
        assert mapped.state is S.UNKNOWN


@given(os_st.native_statuses(None))
def test_every_table_entry_maps_to_a_known_state(native: str) -> None:
    assert StatusMapper(GenericProvider).native(native).state is not S.UNKNOWN


def without(state: OrderState, target: OrderState) -> dict[OrderState, frozenset[OrderState]]:
    table = dict(TRANSITIONS)
    table[state] = table[state] - {target}
    return table


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (dict(TRANSITIONS), None),
        ({**TRANSITIONS, S.UNKNOWN: frozenset()}, "must list exactly"),
        ({k: v for k, v in TRANSITIONS.items() if k is not S.TEST}, "must list exactly"),
        ({**TRANSITIONS, S.SHIPPED: frozenset({S.DELIVERED, S.UNKNOWN})}, "unknown targets"),
        ({**TRANSITIONS, S.SHIPPED: frozenset({S.SHIPPED, S.DELIVERED})}, "lists itself"),
        ({**without(S.CREATED, S.TEST), S.ACTION_REQUIRED: TRANSITIONS[S.ACTION_REQUIRED]
          - {S.TEST}}, r"unreachable from created: \[<OrderState.TEST"),
        (without(S.SHIPPED, S.DELIVERED), "main line step shipped -> delivered"),
    ],
)
def test_the_table_is_validated(
    table: dict[OrderState, frozenset[OrderState]], message: str | None
) -> None:
    if message is None:
        lifecycle._validate(table)
    else:
        with pytest.raises(ValueError, match=message):
            lifecycle._validate(table)
