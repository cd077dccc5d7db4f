"""The Hypothesis strategies draw what they promise, and only that."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from orderstatus import (
    NativeStatus,
    OrderState,
    OrderStatus,
    ParsedItem,
    ParsedOrder,
    Provider,
    Registry,
    hookimpl,
    lifecycle,
)
from orderstatus.mapping import StatusMapper
from orderstatus.testing import strategies as os_st
from orderstatus.testing.generic import GenericProvider
from orderstatus.testing.history import StatusHistory


class Shop(Provider):
    """A provider whose table cannot say on_hold, test or delivered."""

    name = "shop"
    title = "Shop"
    settings_class = GenericProvider.settings_class
    default_base_url = "https://shop.invalid/"
    native_statuses: ClassVar[dict[str, NativeStatus]] = {
        "New": NativeStatus(OrderState.CREATED),
        "Making": NativeStatus(OrderState.IN_PRODUCTION),
        "Sent": NativeStatus(OrderState.SHIPPED),
        "Void": NativeStatus(OrderState.CANCELLED),
    }

    @classmethod
    def native_key(cls, native_status: str) -> str:
        return native_status.casefold()

    build_fetch = GenericProvider.build_fetch
    parse_fetch = GenericProvider.parse_fetch


class ShopPlugin:
    @staticmethod
    @hookimpl
    def orderstatus_register_providers(register: object) -> None:
        register(Shop)  # type: ignore[operator]


def shop_registry() -> Registry:
    registry = Registry()
    registry.add_plugin(ShopPlugin, "shop")
    return registry


def collect(strategy: st.SearchStrategy[object], examples: int = 200) -> list[object]:
    """Everything a strategy draws during one Hypothesis run."""
    drawn: list[object] = []

    @settings(max_examples=examples, database=None)
    @given(strategy)
    def draw(value: object) -> None:
        drawn.append(value)

    draw()
    return drawn


# -- enums ------------------------------------------------------------------------------------


@given(os_st.order_states())
def test_order_states_leave_out_unknown_by_default(state: OrderState) -> None:
    assert state is not OrderState.UNKNOWN


def test_order_states_can_include_unknown() -> None:
    assert set(collect(os_st.order_states(include_unknown=True))) == set(OrderState)


def test_enum_strategies_draw_every_member() -> None:
    for strategy, members in ((os_st.action_reasons(), lifecycle.ActionReason),
                              (os_st.payment_states(), lifecycle.PaymentState)):
        assert set(collect(strategy)) == set(members)


# -- native statuses --------------------------------------------------------------------------


@given(os_st.native_statuses(Shop))
def test_native_statuses_come_from_the_table(native: str) -> None:
    assert native in Shop.native_statuses


@settings(max_examples=200)
@given(os_st.native_statuses("shop", unmapped=True, registry=shop_registry()))
def test_unmapped_native_statuses_map_to_unknown_and_mapped_ones_do_not(native: str) -> None:
    state = StatusMapper(Shop).native(native).state
    assert (state is OrderState.UNKNOWN) == (Shop.native_key(native) not in {"new", "making",
                                                                           "sent", "void"})


def test_unmapped_statuses_are_drawn_and_respect_native_key() -> None:
    drawn = collect(os_st.native_statuses(Shop, unmapped=True), 300)
    unknown = [n for n in drawn if isinstance(n, str) and n not in Shop.native_statuses]
    assert unknown, "unmapped=True never drew an unmapped string"
    assert all(StatusMapper(Shop).native(n).state is OrderState.UNKNOWN for n in unknown)
    assert "NEW" not in unknown  # casefold maps it: not an unmapped string for this provider


# -- order statuses ---------------------------------------------------------------------------


def expected_state(status: OrderStatus) -> OrderState:
    """What the core's mapping says, recomputed from the status's own fields."""
    mapper = StatusMapper(GenericProvider)
    if all(i.native_status == status.native_status for i in status.items) and not any(
        "items" in status.raw and i["status"] for i in status.raw["items"]
    ):
        return mapper.native(status.native_status).state
    return lifecycle.aggregate(i.state for i in status.items)


@given(os_st.order_statuses(unmapped=True))
def test_order_statuses_agree_with_the_mapping(status: OrderStatus) -> None:
    assert status.provider == "generic"
    assert status.state is expected_state(status)
    for item in status.items:
        assert item.state is StatusMapper(GenericProvider).native(item.native_status).state
    if status.state is OrderState.ACTION_REQUIRED:
        assert status.reason is not None
    if status.provider_time is not None:
        assert status.observed_at >= status.provider_time


@given(os_st.order_statuses(provider=Shop, per_item=True, min_items=2, max_items=2))
def test_per_item_statuses_aggregate(status: OrderStatus) -> None:
    assert len(status.items) == 2
    assert status.state is lifecycle.aggregate(i.state for i in status.items)
    assert status.state is not OrderState.UNKNOWN


@given(os_st.order_statuses(provider=Shop, per_item=False))
def test_order_level_statuses_are_what_the_client_builds(status: OrderStatus) -> None:
    parsed = ParsedOrder(
        status.order_id, native_status=status.native_status,
        items=tuple(ParsedItem(i.item_id) for i in status.items),
        native_payment=status.native_payment, tracking=status.tracking,
        provider_time=status.provider_time,
    )
    rebuilt = StatusMapper(Shop).to_status(parsed, observed_at=status.observed_at)
    assert rebuilt == status


@given(st.from_type(OrderStatus))
def test_from_type_order_status_works_through_the_entry_point(status: OrderStatus) -> None:
    assert status.state is expected_state(status)


# -- histories --------------------------------------------------------------------------------


def item_states(status: OrderStatus) -> list[tuple[str, OrderState]]:
    return sorted((i.item_id, i.state) for i in status.items)


def check_history(history: StatusHistory) -> None:
    assert history.truth, "a history has at least one walk step"
    for earlier, later in itertools.pairwise(history.truth):
        if earlier.state is not later.state:
            assert lifecycle.can_transition(earlier.state, later.state), history.states
        else:  # a detail step: something else a platform acts on changed
            assert (earlier.reason, earlier.payment, set(earlier.tracking),
                    item_states(earlier)) != (later.reason, later.payment,
                                              set(later.tracking), item_states(later))
        assert earlier.observed_at < later.observed_at
        if earlier.provider_time is not None:
            assert later.provider_time is not None
            assert earlier.provider_time < later.provider_time
    assert OrderState.UNKNOWN not in history.states
    assert all(s.order_id == history.order_id for s in history.observations)
    assert set(history.truth) <= set(history.observations)
    assert history.final == history.truth[-1]


@settings(max_examples=200)
@given(os_st.status_histories(provider=Shop, max_size=6))
def test_plain_histories_arrive_in_order_without_extras(history: StatusHistory) -> None:
    check_history(history)
    assert history.observations == history.truth
    assert len(history.observations) <= 6
    assert set(history.states) <= {OrderState.CREATED, OrderState.IN_PRODUCTION,
                                   OrderState.SHIPPED, OrderState.CANCELLED}


@settings(max_examples=200)
@given(os_st.status_histories(duplicates=True, reorder=True, unknowns=True, max_size=8))
def test_messy_histories_still_hold_the_truth(history: StatusHistory) -> None:
    check_history(history)
    assert len(history.observations) <= 8
    extras = [s for s in history.observations if s not in history.truth]
    assert all(s.state is OrderState.UNKNOWN for s in extras)
    recovered = sorted(
        {s for s in history.observations if s.state is not OrderState.UNKNOWN},
        key=lambda s: s.observed_at,
    )
    assert tuple(recovered) == history.truth


def test_each_mess_is_actually_produced() -> None:
    found = {"duplicate": False, "reordered": False, "unknown": False, "skip": False}

    @settings(max_examples=300)
    @given(os_st.status_histories(duplicates=True, reorder=True, unknowns=True))
    def look(history: StatusHistory) -> None:
        obs = history.observations
        found["duplicate"] |= len(set(obs)) < len(obs)
        found["unknown"] |= any(s.state is OrderState.UNKNOWN for s in obs)
        known = [s for s in obs if s.state is not OrderState.UNKNOWN]
        found["reordered"] |= known != sorted(known, key=lambda s: s.observed_at)
        found["skip"] |= any(lifecycle.skipped(a, b) for a, b in itertools.pairwise(
            history.states))

    look()
    assert all(found.values()), found


@settings(max_examples=200)
@given(os_st.status_histories(provider="gooten", details=True, duplicates=True, reorder=True,
                              unknowns=True, max_size=10))
def test_detailed_histories_hold_the_truth_too(history: StatusHistory) -> None:
    check_history(history)
    assert len(history.observations) <= 10


def test_each_detail_is_actually_produced() -> None:
    found = {"payment": False, "tracking": False, "item": False}

    @settings(max_examples=300)
    @given(os_st.status_histories(provider="gooten", details=True))
    def look(history: StatusHistory) -> None:
        for a, b in itertools.pairwise(history.truth):
            if a.state is not b.state:
                continue
            found["payment"] |= a.payment is not b.payment
            found["tracking"] |= set(a.tracking) != set(b.tracking)
            found["item"] |= item_states(a) != item_states(b)
            assert lifecycle.aggregate(i.state for i in b.items) is b.state

    look()
    assert all(found.values()), found


@given(st.from_type(StatusHistory))
def test_from_type_status_history(history: StatusHistory) -> None:
    check_history(history)


# -- errors at draw time ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        (os_st.order_states(include_unknown=1), "include_unknown=1 must be a bool"),  # type: ignore[arg-type]
        (os_st.native_statuses("nope", registry=Registry()), "no provider named 'nope'"),
        (os_st.native_statuses(42), "must be a provider name"),  # type: ignore[arg-type]
        (os_st.order_statuses(min_items=3, max_items=2), "min_items=3 must not exceed"),
        (os_st.order_statuses(min_items=0), "min_items=0 must be an integer of at least 1"),
        (os_st.status_histories(max_size=0), "max_size=0 must be an integer of at least 1"),
        (os_st.status_histories(reorder="yes"), "reorder='yes' must be a bool"),  # type: ignore[arg-type]
        (os_st.json_values(keys="Items"), "keys='Items' must be a sequence of strings"),
        (os_st.json_values(texts=[1]), r"texts=\[1\] must be a sequence of strings"),  # type: ignore[list-item]
        (os_st.json_values(max_leaves=0), "max_leaves=0 must be an integer of at least 1"),
        (os_st.json_mutations({}, values=[1]), r"values=\[1\] must be a Hypothesis strategy"),  # type: ignore[arg-type]
        (os_st.status_histories(details=1), "details=1 must be a bool"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_fail_at_draw_time_not_before(
    strategy: st.SearchStrategy[object], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        strategy.validate()


# -- answers of any shape ---------------------------------------------------------------------

ANSWER = {"id": "1", "items": [{"id": "a", "files": {"content": {"status": "Accepted"}}}]}


def is_json(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(is_json(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


@given(os_st.json_values(keys=["Items", "Status"], texts=["Shipped"]))
def test_json_values_are_json(value: object) -> None:
    assert is_json(value)
    json.dumps(value)


@given(os_st.json_mutations(ANSWER, values=st.just("REPLACED")))
def test_a_mutation_replaces_exactly_one_part(mutated: object) -> None:
    def parts(doc: object, path: tuple[object, ...] = ()) -> dict[tuple[object, ...], object]:
        found = {path: doc}
        children = doc.items() if isinstance(doc, dict) else (
            enumerate(doc) if isinstance(doc, list) else ())
        for key, child in children:
            found.update(parts(child, (*path, key)))
        return found

    replaced = [p for p, v in parts(mutated).items() if v == "REPLACED"]
    assert len(replaced) == 1
    original = parts(ANSWER)
    assert replaced[0] in original  # the part sat where a part of the answer sat
    assert ANSWER["items"][0]["files"]["content"]["status"] == "Accepted"  # never changed


def test_every_depth_is_reached() -> None:
    seen = set()

    @given(os_st.json_mutations(ANSWER, values=st.just(None)))
    @settings(max_examples=300)
    def collect(mutated: object) -> None:
        seen.add(json.dumps(mutated, sort_keys=True))

    collect()
    assert "null" in seen
    assert json.dumps({**ANSWER, "items": [{"id": "a", "files": {"content": {"status": None}}}]},
                      sort_keys=True) in seen


# -- imports ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        # The core never needs Hypothesis.
        "import sys, orderstatus\nassert 'hypothesis' not in sys.modules",
        # Importing the strategies first imports Hypothesis, whose entry point registers the
        # types while the strategies module is still loading: no circular import.
        "import orderstatus.testing.strategies\nfrom hypothesis import strategies as st\n"
        "from orderstatus import OrderStatus\nassert st.from_type(OrderStatus).example().provider"
        " == 'generic'",
    ],
    ids=["core-without-hypothesis", "strategies-first"],
)
def test_imports(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True)
