"""Updating: rules checked before any request, idempotence, confirmation, lost answers."""

from __future__ import annotations

import httpx
import pytest
from orderstatus_fakeshop import FakeshopSandbox

from orderstatus import (
    AuthenticationError,
    OrderState,
    OutcomeUnknownError,
    ProviderError,
    TransitionNotAllowedError,
    UpdateRejectedError,
)

from .conftest import Api


def test_allowed_update_is_sent_and_confirmed(api: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order(items=2)
    status = api.update("fakeshop", order, OrderState.CANCELLED)
    assert status.state is OrderState.CANCELLED
    assert [i.native_status for i in status.items] == ["void", "void"]
    assert [m for m, _ in sandbox.requests] == ["GET", "POST", "GET"]


def test_target_may_be_given_as_a_string(local: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    assert local.update("fakeshop", order, "on_hold").state is OrderState.ON_HOLD


def test_refused_source_sends_no_update(local: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order(items=3)
    sandbox.set_status(order, "making", items=[1])
    sandbox.set_status(order, "sent", items=[2])
    with pytest.raises(TransitionNotAllowedError) as caught:
        local.update("fakeshop", order, OrderState.CANCELLED)
    error = caught.value
    assert error.blocking == ("making", "sent")
    assert error.allowed == ("bad_address", "new")
    assert error.target == "cancelled"
    assert "making, sent" in str(error) and "bad_address, new" in str(error)
    assert [m for m, _ in sandbox.requests] == ["GET"]


@pytest.mark.parametrize("target", [OrderState.SHIPPED, OrderState.TEST, "teleported"])
def test_refused_target_sends_nothing(local: Api, sandbox: FakeshopSandbox, target: str) -> None:
    order = sandbox.create_order()
    with pytest.raises(TransitionNotAllowedError) as caught:
        local.update("fakeshop", order, target)
    assert caught.value.allowed == ("cancelled", "created", "on_hold")
    assert sandbox.requests == []


def test_dry_run_checks_the_rules_and_sends_nothing(local: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order(items=2)
    status = local.update("fakeshop", order, OrderState.CANCELLED, dry_run=True)
    assert status.state is OrderState.CREATED
    sandbox.set_status(order, "making", items=[0])
    with pytest.raises(TransitionNotAllowedError):
        local.update("fakeshop", order, OrderState.CANCELLED, dry_run=True)
    assert [m for m, _ in sandbox.requests] == ["GET", "GET"]


def test_update_to_where_the_order_already_is_sends_no_update(
    local: Api, sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order()
    sandbox.set_status(order, "held")
    assert local.update("fakeshop", order, OrderState.ON_HOLD).state is OrderState.ON_HOLD
    assert [m for m, _ in sandbox.requests] == ["GET"]


def test_current_status_passed_in_saves_the_fetch(local: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    current = local.fetch("fakeshop", order)
    sandbox.requests.clear()
    local.update("fakeshop", order, OrderState.CANCELLED, current=current, confirm=False)
    assert [m for m, _ in sandbox.requests] == ["POST"]


def test_current_status_of_another_order_is_refused(local: Api, sandbox: FakeshopSandbox) -> None:
    first, second = sandbox.create_order(), sandbox.create_order()
    current = local.fetch("fakeshop", first)
    with pytest.raises(TransitionNotAllowedError, match="status passed as current"):
        local.update("fakeshop", second, OrderState.CANCELLED, current=current)


def test_unconfirmed_update_returns_what_the_provider_was_told(
    local: Api, sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order(items=2)
    status = local.update("fakeshop", order, OrderState.ON_HOLD, confirm=False)
    assert status.state is OrderState.ON_HOLD
    assert [i.native_status for i in status.items] == ["held", "held"]
    assert [m for m, _ in sandbox.requests] == ["GET", "POST"]


def test_rejected_update_raises_with_the_providers_message(
    local: Api, sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order()
    sandbox.reject_updates = True
    with pytest.raises(UpdateRejectedError) as caught:
        local.update("fakeshop", order, OrderState.CANCELLED)
    assert caught.value.messages == ("rejected by fakeshop",)


def test_rejected_update_already_in_effect_succeeds(local: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    current = local.fetch("fakeshop", order)
    sandbox.set_status(order, "void")  # someone else cancelled it meanwhile
    sandbox.reject_updates = True
    status = local.update("fakeshop", order, OrderState.CANCELLED, current=current)
    assert status.state is OrderState.CANCELLED


@pytest.mark.parametrize("code", [400, 409, 422])
def test_a_refusal_of_an_update_already_in_effect_succeeds(
    local: Api, sandbox: FakeshopSandbox, code: int
) -> None:
    order = sandbox.create_order()
    current = local.fetch("fakeshop", order)
    sandbox.set_status(order, "void")  # someone else cancelled it meanwhile
    original = sandbox.route
    sandbox.route = lambda r: (  # type: ignore[method-assign]
        httpx.Response(code, json={}) if r.method == "POST" else original(r))
    status = local.update("fakeshop", order, OrderState.CANCELLED, current=current)
    assert status.state is OrderState.CANCELLED
    assert [m for m, _ in sandbox.requests] == ["GET", "POST", "GET"]


@pytest.mark.parametrize(("code", "error"), [(409, ProviderError), (401, AuthenticationError)])
def test_a_refused_update_not_in_effect_raises(
    local: Api, sandbox: FakeshopSandbox, code: int, error: type[ProviderError]
) -> None:
    order = sandbox.create_order()
    current = local.fetch("fakeshop", order)
    original = sandbox.route
    sandbox.route = lambda r: (  # type: ignore[method-assign]
        httpx.Response(code, json={}) if r.method == "POST" else original(r))
    with pytest.raises(error) as caught:
        local.update("fakeshop", order, OrderState.CANCELLED, current=current)
    assert caught.value.status_code == code
    settled = code != 401  # refused credentials say nothing about the order
    assert [m for m, _ in sandbox.requests] == ["GET", "POST"] + ["GET"] * settled


def test_update_is_not_retried_on_server_errors(local: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    sandbox.faults.inject("status", status=503, method="POST", times=5)
    with pytest.raises(Exception, match="503"):
        local.update("fakeshop", order, OrderState.CANCELLED)
    assert [m for m, _ in sandbox.requests].count("POST") == 1


def test_update_is_retried_on_429(local: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    sandbox.faults.inject("rate_limit", retry_after=2, method="POST")
    assert local.update("fakeshop", order, OrderState.CANCELLED).state is OrderState.CANCELLED
    assert [m for m, _ in sandbox.requests].count("POST") == 2
    assert local.sleeps == [2.0]


def test_lost_answer_settled_by_a_fresh_fetch(local: Api, sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    original = sandbox.route

    def apply_then_drop(request: httpx.Request) -> httpx.Response:
        response = original(request)
        if request.method == "POST":
            from orderstatus.testing.asgi import Abort

            raise Abort(delay=1)
        return response

    sandbox.route = apply_then_drop  # type: ignore[method-assign]
    status = local.update("fakeshop", order, OrderState.CANCELLED)
    assert status.state is OrderState.CANCELLED


def test_lost_answer_not_settled_raises_outcome_unknown(
    local: Api, sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order()
    sandbox.faults.inject("timeout", delay=1, method="POST")
    with pytest.raises(OutcomeUnknownError, match="answer was lost") as caught:
        local.update("fakeshop", order, OrderState.CANCELLED)
    assert caught.value.retryable
    assert [m for m, _ in sandbox.requests] == ["GET", "POST", "GET"]


def test_update_of_a_provider_without_updates_is_refused(sandbox: FakeshopSandbox) -> None:
    from orderstatus_fakeshop import FakeshopProvider

    from orderstatus import Client, UpdateNotSupportedError

    original = FakeshopProvider.update_rules
    FakeshopProvider.update_rules = None
    try:
        with Client({"fakeshop": sandbox.settings("http://127.0.0.1/v1/")},
                    transport=sandbox.transport()) as client, \
                pytest.raises(UpdateNotSupportedError, match="has no status update"):
            client.update("fakeshop", "F-1", OrderState.CANCELLED)
    finally:
        FakeshopProvider.update_rules = original
    assert sandbox.requests == []


def test_server_error_on_an_applied_update_is_settled_by_a_fetch(
    local: Api, sandbox: FakeshopSandbox
) -> None:
    order = sandbox.create_order()
    original = sandbox.route

    def apply_then_fail(request: httpx.Request) -> httpx.Response:
        response = original(request)
        return httpx.Response(502) if request.method == "POST" else response

    sandbox.route = apply_then_fail  # type: ignore[method-assign]
    assert local.update("fakeshop", order, OrderState.CANCELLED).state is OrderState.CANCELLED
    assert [m for m, _ in sandbox.requests] == ["GET", "POST", "GET"]


def test_update_failure_is_raised_even_when_the_settling_fetch_fails(
    local: Api, sandbox: FakeshopSandbox
) -> None:
    from orderstatus import ProviderUnavailableError

    order = sandbox.create_order()
    current = local.fetch("fakeshop", order)
    sandbox.faults.inject("status", status=503, times=100)
    with pytest.raises(ProviderUnavailableError) as caught:
        local.update("fakeshop", order, OrderState.CANCELLED, current=current)
    assert caught.value.url is not None and "/status" in caught.value.url
    assert caught.value.retryable
