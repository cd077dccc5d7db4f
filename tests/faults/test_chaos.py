"""2,000 fetches per provider with 20% of the answers failing: right status or typed error.

Every installed provider with a sandbox runs, sync and async, in-process (the bulk) and over
loopback HTTP (a smaller run). Waits are recorded, never slept, so the retry budget is checked
exactly: the client counts the waits it asked for even when sleeping is faked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from orderstatus import (
    OrderStatus,
    OrderStatusError,
    ProviderUnavailableError,
    RateLimitedError,
    ResponseFormatError,
)
from orderstatus.testing.asgi import serve
from orderstatus.testing.sandbox import Sandbox
from tests.conftest import Api

from .conftest import CHAOS, POLICY, RETRY_AFTER, client, fingerprint, new_sandbox

# undecodable bodies (cut short, html, not json) are retried like server errors
RETRIED = (ProviderUnavailableError, RateLimitedError, ResponseFormatError)
"""Errors that only come out once the retry budget is spent."""


def fetch_under_chaos(api: Api, sandbox: Sandbox, truth: dict[str, tuple[Any, ...]],
                      fetches: int) -> dict[str, int]:
    """Fetch the orders round-robin ``fetches`` times; check each outcome; count them."""
    sandbox.faults.chaos(0.2, CHAOS, seed=11)
    ids = list(truth)
    tally = {"ok": 0, "exhausted": 0}
    for n in range(fetches):
        order_id = ids[n % len(ids)]
        first = len(api.sleeps)
        outcome: OrderStatus | OrderStatusError
        try:
            outcome = api.fetch(sandbox.provider, order_id)
        except OrderStatusError as err:
            outcome = err
        waits = api.sleeps[first:]
        if isinstance(outcome, RETRIED):
            assert len(waits) == POLICY.attempts - 1, f"gave up early: {outcome!r} after {waits}"
            tally["exhausted"] += 1
        elif isinstance(outcome, OrderStatusError):
            pytest.fail(f"unexpected error under faults: {outcome!r}")
        else:
            assert fingerprint(outcome) == truth[order_id], f"wrong status for {order_id}"
            tally["ok"] += 1
        assert len(waits) <= POLICY.attempts - 1
        assert sum(waits) <= POLICY.total
        assert all(w == RETRY_AFTER or w <= POLICY.backoff_max for w in waits), waits
    return tally


def check_tally(tally: dict[str, int], sandbox: Sandbox, fetches: int, api: Api) -> None:
    assert sum(tally.values()) == fetches
    assert tally["ok"] >= 0.9 * fetches, tally
    assert sandbox.faults.injected >= 0.15 * len(sandbox.requests)
    assert RETRY_AFTER in api.sleeps, "429s were injected, so some waits honour Retry-After"


def test_fetches_under_chaos_in_process(
    kind: str, stocked: tuple[Sandbox, dict[str, tuple[Any, ...]]]
) -> None:
    sandbox, truth = stocked
    api = client(kind, sandbox)
    try:
        tally = fetch_under_chaos(api, sandbox, truth, 2_000)
    finally:
        api.close()
    check_tally(tally, sandbox, 2_000, api)
    # a fifth of the answers fail and 4 attempts are allowed: few orders exhaust the budget
    assert tally["ok"] >= 0.98 * 2_000, tally


def test_fetches_under_chaos_over_loopback(
    kind: str, stocked: tuple[Sandbox, dict[str, tuple[Any, ...]]]
) -> None:
    sandbox, truth = stocked
    with serve(sandbox.asgi()) as url:
        api = client(kind, sandbox, url, timeout=0.3)
        try:
            tally = fetch_under_chaos(api, sandbox, truth, 120)
        finally:
            api.close()
    check_tally(tally, sandbox, 120, api)


@pytest.fixture
def warm(kind: str, provider: str) -> Iterator[tuple[Api, Sandbox, str]]:
    """A client and an order it fetched once (a provider with a token endpoint has its token)."""
    sandbox = new_sandbox(provider)
    order_id = sandbox.create_order()
    api = client(kind, sandbox)
    api.fetch(provider, order_id)
    yield api, sandbox, order_id
    api.close()


def test_retry_after_is_honoured_exactly(warm: tuple[Api, Sandbox, str]) -> None:
    api, sandbox, order_id = warm
    sandbox.faults.inject("rate_limit", retry_after=1.5, times=2)
    assert api.fetch(sandbox.provider, order_id).order_id == order_id
    assert api.sleeps == [1.5, 1.5]


def test_the_budget_counts_faked_waits(warm: tuple[Api, Sandbox, str]) -> None:
    api, sandbox, order_id = warm
    sandbox.faults.inject("rate_limit", retry_after=1.25, times=10)
    with pytest.raises(RateLimitedError) as raised:
        api.fetch(sandbox.provider, order_id)
    # 1.25 + 1.25 fits the 3 s budget, a third wait would not: no real time passed at all
    assert api.sleeps == [1.25, 1.25]
    assert raised.value.retry_after == 1.25


def test_a_retry_after_beyond_the_cap_ends_the_call_at_once(
    warm: tuple[Api, Sandbox, str]
) -> None:
    api, sandbox, order_id = warm
    sandbox.faults.inject("rate_limit", retry_after=3600, times=1)
    with pytest.raises(RateLimitedError) as raised:
        api.fetch(sandbox.provider, order_id)
    assert api.sleeps == []
    assert raised.value.retry_after == 3600
