"""When each tracked order is checked next: the CheckPolicy and its defaults."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderstatus import CheckPolicy, ConfigurationError, OrderState
from orderstatus.testing.strategies import order_states
from orderstatus.tracking import DEFAULT_LONGEST

S = OrderState
MINUTE, HOUR, DAY = dt.timedelta(minutes=1), dt.timedelta(hours=1), dt.timedelta(days=1)
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(("state", "unchanged_for", "wait"), [
    (S.CREATED, dt.timedelta(0), 5 * MINUTE),       # just changed
    (S.CREATED, 10 * MINUTE, 5 * MINUTE),
    (S.CREATED, HOUR, 15 * MINUTE),                 # a quarter of the time unchanged
    (S.IN_PRODUCTION, 8 * HOUR, 2 * HOUR),
    (S.IN_PRODUCTION, DAY, 6 * HOUR),               # capped by state
    (S.ON_HOLD, 30 * DAY, 6 * HOUR),
    (S.ACTION_REQUIRED, DAY, 2 * HOUR),
    (S.SHIPPED, DAY, 6 * HOUR),
    (S.SHIPPED, 30 * DAY, 12 * HOUR),
    (S.SHIPPED, -HOUR, 5 * MINUTE),                 # a clock that went back
])
def test_the_documented_defaults(state: OrderState, unchanged_for: dt.timedelta,
                                 wait: dt.timedelta) -> None:
    assert CheckPolicy().interval(state, unchanged_for) == wait


@pytest.mark.parametrize("state", [S.DELIVERED, S.CANCELLED, S.TEST, S.UNKNOWN])
def test_orders_that_cannot_change_are_never_checked(state: OrderState) -> None:
    policy = CheckPolicy()
    assert policy.interval(state, HOUR) is None
    assert policy.next_check(state, T0, T0 + HOUR) is None


def test_the_next_check_counts_from_the_last_observation() -> None:
    policy = CheckPolicy()
    assert policy.next_check(S.CREATED, T0, T0 + 2 * HOUR) == T0 + 2 * HOUR + 30 * MINUTE
    # One naive time and one aware cannot be compared: treated as just changed.
    naive = (T0 + HOUR).replace(tzinfo=None)
    assert policy.next_check(S.CREATED, T0, naive) == naive + 5 * MINUTE


def test_a_policy_overrides_only_what_it_names() -> None:
    policy = CheckPolicy(shortest=MINUTE, growth=0.5, longest={"shipped": DAY})
    assert policy.longest[S.SHIPPED] == DAY
    assert policy.longest[S.CREATED] == DEFAULT_LONGEST[S.CREATED]
    assert policy.interval(S.SHIPPED, 10 * DAY) == DAY
    assert policy.interval(S.CREATED, 20 * MINUTE) == 10 * MINUTE


@pytest.mark.parametrize(("options", "message"), [
    ({"shortest": dt.timedelta(0)}, "shortest must be a positive timedelta"),
    ({"shortest": 300}, "shortest must be a positive timedelta"),
    ({"growth": -0.1}, "growth must be a number, 0 or more"),
    ({"growth": float("inf")}, "growth must be a number, 0 or more"),
    ({"growth": True}, "growth must be a number, 0 or more"),
    ({"longest": {"delivered": HOUR}}, "delivered orders are never checked"),
    ({"longest": {"shiped": HOUR}}, "'shiped' is not an order state"),
    ({"longest": {"shipped": MINUTE}}, "no shorter than shortest"),
    ({"longest": {"shipped": 3600}}, "must be a timedelta"),
    ({"longest": [("shipped", HOUR)]}, "longest must map order states to timedeltas"),
])
def test_a_misconfigured_policy_is_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        CheckPolicy(**options)  # type: ignore[arg-type]


@given(state=order_states(), first=st.timedeltas(min_value=-DAY, max_value=400 * DAY),
       more=st.timedeltas(min_value=dt.timedelta(0), max_value=400 * DAY),
       growth=st.floats(0, 10))
def test_the_wait_grows_with_time_unchanged_and_stays_in_bounds(
    state: OrderState, first: dt.timedelta, more: dt.timedelta, growth: float
) -> None:
    policy = CheckPolicy(growth=growth)
    sooner, later = policy.interval(state, first), policy.interval(state, first + more)
    if sooner is None or later is None:
        assert sooner is later is None
        return
    assert policy.shortest <= sooner <= later <= policy.longest[state]
