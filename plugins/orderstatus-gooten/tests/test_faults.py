"""Faults from the sandbox: retried, waited for, or reported as the right error."""

from __future__ import annotations

from typing import Any

import pytest

from orderstatus import (
    OrderState,
    ProviderUnavailableError,
    RateLimitedError,
    ResponseFormatError,
)


def gets(sandbox: Any) -> int:
    return sum(1 for method, _ in sandbox.requests if method == "GET")


@pytest.mark.parametrize("fault", [{"kind": "status", "status": 503},
                                   {"kind": "status", "status": 500}, {"kind": "html"},
                                   {"kind": "reset"}, {"kind": "timeout", "delay": 0.05}])
def test_transient_failures_are_retried(gooten: Any, fault: dict[str, Any]) -> None:
    oid = gooten.sandbox.create_order()
    gooten.sandbox.faults.inject(**fault, times=2)
    assert gooten.fetch(oid).state is OrderState.CREATED
    assert gets(gooten.sandbox) == 3
    assert len(gooten.sleeps) == 2


def test_server_errors_that_last_end_as_unavailable(gooten: Any) -> None:
    oid = gooten.sandbox.create_order()
    gooten.sandbox.faults.inject("status", status=502, times=10)
    with pytest.raises(ProviderUnavailableError) as raised:
        gooten.fetch(oid)
    assert raised.value.status_code == 502
    assert raised.value.retryable
    assert gets(gooten.sandbox) == 4


def test_retry_after_is_honoured(gooten: Any) -> None:
    oid = gooten.sandbox.create_order()
    gooten.sandbox.faults.inject("rate_limit", retry_after=7, times=2)
    assert gooten.fetch(oid).state is OrderState.CREATED
    assert gooten.sleeps == [7.0, 7.0]


def test_endless_rate_limits_end_as_rate_limited(gooten: Any) -> None:
    oid = gooten.sandbox.create_order()
    gooten.sandbox.faults.inject("rate_limit", retry_after=2, times=10)
    with pytest.raises(RateLimitedError) as raised:
        gooten.fetch(oid)
    assert raised.value.retry_after == 2.0
    assert gooten.sleeps == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("kind", ["malformed", "not_json"])
def test_a_broken_body_is_retried_then_a_format_error(gooten: Any, kind: str) -> None:
    oid = gooten.sandbox.create_order()
    gooten.sandbox.faults.inject(kind)
    assert gooten.fetch(oid).state is OrderState.CREATED
    assert gets(gooten.sandbox) == 2
    gooten.sandbox.faults.inject(kind, times=10)
    with pytest.raises(ResponseFormatError):
        gooten.fetch(oid)
    assert gets(gooten.sandbox) == 2 + 4


def test_chaos_is_survived_with_retries(inprocess: Any) -> None:
    from orderstatus.testing.sandbox import Fault

    sandbox = inprocess.sandbox
    sandbox.faults.chaos(0.3, [Fault("status", status=503), Fault("reset")], seed=4)
    oids = [sandbox.create_order() for _ in range(10)]
    results = list(inprocess.call("fetch_many", [("gooten", o) for o in oids]))
    assert len(results) == 10
    assert sandbox.faults.injected > 0
