"""Injected faults: what is retried, how long the client waits, what is reported."""

from __future__ import annotations

import pytest

from orderstatus import OrderState
from orderstatus.errors import (
    ProviderUnavailableError,
    RateLimitedError,
    ResponseFormatError,
)

ORDERS = "/orders/"


def gets(sandbox):
    return [p for m, p in sandbox.requests if m == "GET"]


def test_server_errors_are_retried(api, sandbox):
    order_id = sandbox.create_order()
    sandbox.faults.inject("status", status=503, times=2, path=ORDERS)
    assert api.fetch(order_id).state is OrderState.CREATED
    assert len(gets(sandbox)) == 3
    assert len(api.sleeps) == 2
    assert all(0 < s <= 8 for s in api.sleeps)


def test_endless_server_errors_end_in_provider_unavailable(api, sandbox):
    order_id = sandbox.create_order()
    sandbox.faults.inject("status", status=502, times=10, path=ORDERS)
    with pytest.raises(ProviderUnavailableError) as caught:
        api.fetch(order_id)
    assert caught.value.status_code == 502
    assert caught.value.retryable
    assert len(gets(sandbox)) == 4


def test_retry_after_is_honoured(api, sandbox):
    order_id = sandbox.create_order()
    sandbox.faults.inject("rate_limit", retry_after=7, times=2, path=ORDERS)
    assert api.fetch(order_id).state is OrderState.CREATED
    assert api.sleeps == [7.0, 7.0]


def test_a_retry_after_beyond_the_limit_ends_the_call(api, sandbox):
    order_id = sandbox.create_order()
    sandbox.faults.inject("rate_limit", retry_after=600, path=ORDERS)
    with pytest.raises(RateLimitedError) as caught:
        api.fetch(order_id)
    assert caught.value.retry_after == 600
    assert api.sleeps == []


@pytest.mark.parametrize("kind", ["malformed", "not_json"])
def test_a_broken_body_is_retried_then_a_format_error(api, sandbox, kind):
    order_id = sandbox.create_order()
    sandbox.faults.inject(kind, path=ORDERS)
    assert api.fetch(order_id).state is OrderState.CREATED
    assert len(gets(sandbox)) == 2
    sandbox.faults.inject(kind, path=ORDERS, times=10)
    with pytest.raises(ResponseFormatError):
        api.fetch(order_id)
    assert len(gets(sandbox)) == 2 + 4


@pytest.mark.parametrize("kind", ["html", "reset", "timeout", "slow"])
def test_passing_trouble_is_retried(api, sandbox, kind):
    order_id = sandbox.create_order()
    sandbox.faults.inject(kind, delay=0.05, path=ORDERS)
    assert api.fetch(order_id).state is OrderState.CREATED
