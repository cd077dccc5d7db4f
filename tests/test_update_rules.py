"""``UpdateRules.decide``: the one home of the update rule, and the client following it.

The design's rule: the target must be one of the provider's targets; if every item already
shows the target's native status the update is done at once; otherwise every item's native
status must be a source. Statuses compare through the provider's ``native_key``.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from orderstatus_fakeshop import FakeshopProvider, FakeshopSandbox

from orderstatus import (
    Client,
    OrderState,
    TransitionNotAllowedError,
    UpdateRules,
)
from orderstatus.testing.generic import GenericProvider

NAMES = ("New", "Hold", "Cancelled", "Printing", "Shipped", "Test")


def key(native: str) -> str:
    return native.casefold().replace(" ", "")


spellings = st.sampled_from(NAMES).flatmap(
    lambda name: st.sampled_from((name, name.upper(), name.lower(), name.swapcase()))
)
rules = st.builds(
    UpdateRules,
    sources=st.frozensets(st.sampled_from(NAMES)),
    targets=st.dictionaries(st.sampled_from(list(OrderState)), st.sampled_from(NAMES)),
)
targets = st.sampled_from(list(OrderState))
currents = st.lists(spellings, min_size=1, max_size=5)


@given(rules=rules, target=targets)
def test_without_current_statuses_only_the_target_is_judged(
    rules: UpdateRules, target: OrderState
) -> None:
    verdict = rules.decide(target, key=key)
    assert verdict.native_target == rules.targets.get(target)
    assert not verdict.reached and verdict.blocking == ()
    assert verdict.allowed is (target in rules.targets)


@given(rules=rules, target=targets, current=currents)
def test_a_target_outside_the_rules_is_never_allowed(
    rules: UpdateRules, target: OrderState, current: list[str]
) -> None:
    if target not in rules.targets:
        verdict = rules.decide(target, current, key=key)
        assert verdict.native_target is None and not verdict.allowed


@given(rules=rules, target=targets, current=currents, data=st.data())
def test_order_repetition_and_spelling_of_statuses_never_matter(
    rules: UpdateRules, target: OrderState, current: list[str], data: st.DataObject
) -> None:
    verdict = rules.decide(target, current, key=key)
    shuffled = data.draw(st.permutations(current), label="shuffled")
    again = rules.decide(target, [*shuffled, *current], key=key)
    respelled = rules.decide(target, [n.upper() for n in current], key=key)
    assert again == verdict
    for other in (again, respelled):
        assert (other.allowed, other.reached, other.native_target) == (
            verdict.allowed, verdict.reached, verdict.native_target)
    assert {key(n) for n in respelled.blocking} == {key(n) for n in verdict.blocking}


@given(rules=rules, target=targets, copies=st.integers(1, 4), other=spellings)
def test_an_order_already_at_the_target_is_done_whatever_the_sources(
    rules: UpdateRules, target: OrderState, copies: int, other: str
) -> None:
    native = rules.targets.get(target)
    if native is None:
        return
    there = rules.decide(target, [native.upper()] * copies, key=key)
    assert there.reached and there.allowed
    mixed = rules.decide(target, [native] * copies + [other], key=key)
    assert mixed.reached is (key(other) == key(native))


@given(rules=rules, target=targets, movable=st.lists(spellings, min_size=1, max_size=4),
       stuck=st.lists(spellings, max_size=3))
def test_items_outside_the_sources_block_and_are_named(
    rules: UpdateRules, target: OrderState, movable: list[str], stuck: list[str]
) -> None:
    sources = {key(s) for s in rules.sources}
    movable = [n for n in movable if key(n) in sources]
    stuck = [n for n in stuck if key(n) not in sources]
    if target not in rules.targets or not movable:
        return
    assert rules.decide(target, movable, key=key).allowed
    verdict = rules.decide(target, movable + stuck, key=key)
    assert verdict.blocking == tuple(sorted(set(stuck)))
    assert verdict.allowed is (not stuck or verdict.reached)


@given(rules=rules, target=targets, current=currents, data=st.data())
def test_an_allowed_move_stays_allowed_for_fewer_items(
    rules: UpdateRules, target: OrderState, current: list[str], data: st.DataObject
) -> None:
    verdict = rules.decide(target, current, key=key)
    fewer = data.draw(st.lists(st.sampled_from(current), min_size=1), label="fewer")
    if verdict.allowed:
        assert rules.decide(target, fewer, key=key).allowed


def test_a_provider_without_update_capability_has_no_rules_in_force() -> None:
    class Frozen(FakeshopProvider):
        capabilities = type(FakeshopProvider.capabilities)(update=False)

    assert FakeshopProvider.update_rules_in_force() is FakeshopProvider.update_rules
    assert Frozen.update_rules_in_force() is None
    assert GenericProvider.update_rules_in_force() is None


FAKESHOP_RULES = FakeshopProvider.update_rules
assert FAKESHOP_RULES is not None


@given(items=st.lists(st.sampled_from(sorted(FakeshopProvider.native_statuses)), min_size=1,
                      max_size=3),
       target=targets)
def test_the_client_updates_exactly_as_the_rules_decide(items: list[str],
                                                        target: OrderState) -> None:
    sandbox = FakeshopSandbox()
    order = sandbox.create_order(items=len(items))
    for position, native in enumerate(items):
        sandbox.set_status(order, native, items=[position])
    with Client({"fakeshop": sandbox.settings("http://127.0.0.1/v1/")},
                transport=sandbox.transport()) as client:
        current = client.fetch("fakeshop", order)
        sent = len(sandbox.requests)
        verdict = FAKESHOP_RULES.decide(target, current.native_statuses,
                                        key=FakeshopProvider.native_key)
        if not verdict.allowed:
            with pytest.raises(TransitionNotAllowedError) as refused:
                client.update("fakeshop", order, target, current=current, confirm=False)
            assert refused.value.blocking == verdict.blocking
            assert len(sandbox.requests) == sent  # refused before any request
            return
        client.update("fakeshop", order, target, current=current, confirm=False)
    assert len(sandbox.requests) == sent + (0 if verdict.reached else 1)
