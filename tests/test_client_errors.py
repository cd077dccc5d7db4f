"""HTTP failures: retries, backoff, Retry-After, the error tree, unparseable answers."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from orderstatus_fakeshop import FakeshopProvider, FakeshopSandbox

from orderstatus import (
    AuthenticationError,
    OrderNotFoundError,
    OrderState,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    ResponseFormatError,
    RetryPolicy,
    hookimpl,
)
from orderstatus.plugins import Registry

from .conftest import Api


def test_server_errors_are_retried_with_backoff(api: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    sandbox.faults.inject("status", status=502, times=3)
    assert api.fetch("fakeshop", order).state is OrderState.CREATED
    assert len(sandbox.requests) == 4
    assert len(api.sleeps) == 3
    assert all(0 < s <= 0.05 for s in api.sleeps)


def test_retry_after_is_honoured(api: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    sandbox.faults.inject("rate_limit", retry_after=7)
    api.fetch("fakeshop", order)
    assert api.sleeps == [7.0]


def test_endless_rate_limit_ends_in_rate_limited_error(api: Api, sandbox: FakeshopSandbox) -> None:
    sandbox.faults.inject("rate_limit", retry_after=1.5, times=100)
    with pytest.raises(RateLimitedError) as caught:
        api.fetch("fakeshop", "F-1")
    assert caught.value.retry_after == 1.5
    assert caught.value.retryable
    assert len(sandbox.requests) == 4


def test_retry_after_beyond_the_cap_gives_up_at_once(api: Api, sandbox: FakeshopSandbox) -> None:
    sandbox.faults.inject("rate_limit", retry_after=3600)
    with pytest.raises(RateLimitedError) as caught:
        api.fetch("fakeshop", "F-1")
    assert caught.value.retry_after == 3600
    assert api.sleeps == []


def test_retry_after_on_a_server_error_is_honoured(local: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    original = sandbox.route
    answers = [httpx.Response(503, headers={"retry-after": "4"})]
    sandbox.route = lambda r: answers.pop() if answers else original(r)  # type: ignore[method-assign]
    assert local.fetch("fakeshop", order).state is OrderState.CREATED
    assert local.sleeps == [4.0]


def test_retry_after_on_a_server_error_beyond_the_cap_gives_up_at_once(
    local: Api, sandbox: FakeshopSandbox
) -> None:
    sandbox.route = lambda r: httpx.Response(  # type: ignore[method-assign]
        503, headers={"retry-after": "3600"})
    with pytest.raises(ProviderUnavailableError):
        local.fetch("fakeshop", "F-1")
    assert local.sleeps == []
    assert len(sandbox.requests) == 1


def test_endless_server_errors_end_in_unavailable(api: Api, sandbox: FakeshopSandbox) -> None:
    sandbox.faults.inject("status", status=503, times=100)
    with pytest.raises(ProviderUnavailableError) as caught:
        api.fetch("fakeshop", "F-1")
    assert caught.value.status_code == 503
    assert caught.value.retryable
    assert len(sandbox.requests) == 4


def test_total_time_caps_the_retries(local: Api, sandbox: FakeshopSandbox) -> None:
    local.client._ops.exchange.retry = RetryPolicy(attempts=10, total=5, backoff=0.01)
    sandbox.faults.inject("rate_limit", retry_after=2, times=100)
    with pytest.raises(RateLimitedError):
        local.fetch("fakeshop", "F-1")
    assert local.sleeps == [2.0, 2.0]


def test_client_errors_are_not_retried(api: Api, sandbox: FakeshopSandbox) -> None:
    sandbox.faults.inject("status", status=400)
    with pytest.raises(ProviderError) as caught:
        api.fetch("fakeshop", "F-1")
    assert type(caught.value) is ProviderError
    assert caught.value.status_code == 400
    assert not caught.value.retryable
    assert len(sandbox.requests) == 1


def test_refused_credentials(kind: str, sandbox: FakeshopSandbox) -> None:
    api = Api(kind, {"fakeshop": {"api_key": "wrong-key", "base_url": "http://127.0.0.1/v1/"}},
              transport=sandbox.transport())
    with pytest.raises(AuthenticationError, match="credentials refused"):
        api.fetch("fakeshop", "F-1")
    api.close()


@pytest.mark.parametrize("fault", ["malformed", "html", "not_json"])
def test_unparseable_answers_become_response_format_errors(
    api: Api, sandbox: FakeshopSandbox, fault: str
) -> None:
    order = sandbox.create_order()
    sandbox.faults.inject(fault, times=10)  # type: ignore[arg-type]
    with pytest.raises((ResponseFormatError, ProviderUnavailableError)) as caught:
        api.fetch("fakeshop", order)
    if fault != "html":  # an HTML 502 page is a server error, retried then unavailable
        assert isinstance(caught.value, ResponseFormatError)


def test_answers_of_the_wrong_shape_name_the_field(local: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    sandbox.orders[order]["items"] = [{"id": "x"}]
    with pytest.raises(ResponseFormatError, match=r"status"):
        local.fetch("fakeshop", order)


def test_dropped_connections_are_retried(api: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    sandbox.faults.inject("reset", times=2)
    assert api.fetch("fakeshop", order).state is OrderState.CREATED
    assert len(sandbox.requests) == 3


def test_unreachable_provider_ends_in_unavailable(kind: str, sandbox: FakeshopSandbox) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = Api(kind, {"fakeshop": sandbox.settings(f"http://127.0.0.1:{port}/v1/")})
    with pytest.raises(ProviderUnavailableError, match="could not reach") as caught:
        api.fetch("fakeshop", "F-1")
    assert caught.value.status_code is None
    assert len(api.sleeps) == 3
    api.close()


def test_timeouts_are_retried_for_fetches(local: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    sandbox.faults.inject("timeout", delay=1)
    assert local.fetch("fakeshop", order).state is OrderState.CREATED


def test_request_id_header_is_kept(local: Api, sandbox: FakeshopSandbox) -> None:
    original = sandbox.route
    sandbox.route = lambda request: httpx.Response(  # type: ignore[method-assign]
        404, json={}, headers={"x-request-id": "req-42"}
    )
    with pytest.raises(ProviderError) as caught:
        local.fetch("fakeshop", "F-1")
    sandbox.route = original  # type: ignore[method-assign]
    assert caught.value.request_id == "req-42"


def test_retry_policy_decisions() -> None:
    policy = RetryPolicy(attempts=3, total=10, backoff=1, backoff_max=4, retry_after_max=5)
    first = policy.delay(1, None, 0)
    assert first is not None and 0.5 <= first <= 1
    second = policy.delay(2, None, 0)
    assert second is not None and 1 <= second <= 2
    assert policy.delay(3, None, 0) is None  # out of attempts
    assert policy.delay(1, 4, 0) == 4
    assert policy.delay(1, 6, 0) is None  # longer than retry_after_max
    assert policy.delay(1, 4, 7) is None  # would pass the total


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), ("0.5", 0.5), ("-2", 0.0), ("soon", None), ("", None), ("nan", None)],
)
def test_parse_retry_after(header: str, seconds: float | None) -> None:
    from orderstatus.retry import parse_retry_after

    assert parse_retry_after(header) == seconds


def test_parse_retry_after_http_date() -> None:
    import datetime as dt

    from orderstatus.retry import parse_retry_after

    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0


def test_undecodable_bodies_are_retried_for_fetches(api: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    sandbox.faults.inject("malformed", times=2)
    assert api.fetch("fakeshop", order).state is OrderState.CREATED
    assert len(sandbox.requests) == 3
    assert len(api.sleeps) == 2


def test_attempts_never_outlast_the_total_budget(local: Api, sandbox: FakeshopSandbox) -> None:
    seen: list[dict[str, float]] = []
    original = sandbox.route

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return original(request)

    sandbox.route = record  # type: ignore[method-assign]
    local.client._ops.exchange.retry = RetryPolicy(attempts=3, total=4, backoff=0.01)
    order = sandbox.create_order()
    local.fetch("fakeshop", order)
    assert seen[-1] == pytest.approx({"connect": 4, "read": 4, "write": 4, "pool": 4}, abs=0.1)
    sandbox.faults.inject("rate_limit", retry_after=3)  # the answer comes after a 3 s wait
    local.fetch("fakeshop", order)
    assert seen[-1] == pytest.approx({"connect": 1, "read": 1, "write": 1, "pool": 1}, abs=0.1)


class _CrashingClassifier(FakeshopProvider):
    """A third party's provider whose error-body parsing breaks on a hostile body."""

    def classify_error(self, order_id: str | None, response: httpx.Response) -> Exception | None:
        return {"a": 1}["missing"]  # type: ignore[no-any-return]


class _CrashingPlugin:
    @hookimpl
    def orderstatus_register_providers(self, register: Any) -> None:
        register(_CrashingClassifier, sandbox=FakeshopSandbox)


def test_a_classifier_that_raises_leaves_the_status_code_to_decide(
    kind: str, sandbox: FakeshopSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    registry = Registry()
    registry.add_plugin(_CrashingPlugin(), "crashing")
    local = Api(kind, {"fakeshop": sandbox.settings("http://127.0.0.1/v1/")},
                transport=sandbox.transport(), registry=registry)
    sandbox.faults.inject("status", status=404)
    with pytest.raises(OrderNotFoundError):
        local.fetch("fakeshop", sandbox.create_order())
    sandbox.faults.inject("status", status=500, times=10)
    with pytest.raises(ProviderUnavailableError):
        local.fetch("fakeshop", sandbox.create_order())
    local.close()
    assert "classify_error raised KeyError" in caplog.text


def test_a_fault_during_a_block_applies_there_only(api: Api, sandbox: FakeshopSandbox) -> None:
    order_id = sandbox.create_order()
    with sandbox.faults.during("status", status=404, times=5) as fault:
        with pytest.raises(OrderNotFoundError):
            api.fetch("fakeshop", order_id)
        assert fault.times == 4
    assert api.fetch("fakeshop", order_id).order_id == order_id  # the 4 left were dropped
