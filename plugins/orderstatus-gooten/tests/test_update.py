"""Updates: Gooten's rules checked before any request, HadError, and idempotence."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from orderstatus_gooten import NATIVE_STATUSES, native_key
from orderstatus_gooten.sandbox import DOCUMENTED_SOURCES

from orderstatus import (
    AuthenticationError,
    OrderState,
    OrderStatus,
    OutcomeUnknownError,
    ProviderUnavailableError,
    ResponseFormatError,
    TransitionNotAllowedError,
    UpdateRejectedError,
)

UNKNOWN_STATUSES = ("VendorAPIIssue", "Billed Refunded", "Teleported", "new?")


def posts(sandbox: Any) -> list[tuple[str, str]]:
    return [r for r in sandbox.requests if r[0] == "POST"]


def order_with(sandbox: Any, statuses: list[str]) -> str:
    oid: str = sandbox.create_order(items=len(statuses))
    for position, native in enumerate(statuses):
        sandbox.set_status(oid, native, items=[position], unchecked=True)
    return oid


def expect(statuses: list[str], target: OrderState, targets: dict[OrderState, str]) -> Any:
    """The oracle, from Gooten's docs: ``None`` if allowed, else the blocking statuses."""
    if target not in targets:
        return "target"
    native = native_key(targets[target])
    if all(native_key(s) == native for s in statuses):
        return "reached"
    sources = {native_key(s) for s in DOCUMENTED_SOURCES}
    blocking = sorted({s for s in statuses if native_key(s) not in sources})
    return blocking or None


def check_update(
    runner: Any, statuses: list[str], target: OrderState, targets: dict[OrderState, str],
    *, pass_current: bool,
) -> None:
    sandbox = runner.sandbox
    oid = order_with(sandbox, statuses)
    current = runner.fetch(oid) if pass_current else None
    before = len(sandbox.requests)
    verdict = expect(statuses, target, targets)
    if verdict is None:
        status = runner.update(oid, target, current=current)
        assert status.state is target
        assert [i.native_status for i in status.items] == [targets[target]] * len(statuses)
        assert len(posts(sandbox)) == 1
        sandbox.requests.clear()
        return
    if verdict == "reached":
        status = runner.update(oid, target, current=current)
        assert status.state is target
    else:
        with pytest.raises(TransitionNotAllowedError) as raised:
            runner.update(oid, target, current=current)
        error = raised.value
        assert error.target == target.value
        if verdict == "target":
            assert set(error.allowed) == {s.value for s in targets}
        else:
            assert list(error.blocking) == verdict
            assert set(error.allowed) == set(DOCUMENTED_SOURCES)
            assert all(b in str(error) for b in verdict)
    if pass_current:
        assert len(sandbox.requests) == before, "a refused update sent a request"
    assert posts(sandbox) == []
    assert [i.status for i in sandbox.orders[oid].items] == statuses
    sandbox.requests.clear()


statuses_lists = st.lists(
    st.sampled_from([*NATIVE_STATUSES, "In Production", "ready for image dl", "ReadyForImageDI",
                     "canceled refunded", *UNKNOWN_STATUSES]),
    min_size=1, max_size=4,
)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(statuses=statuses_lists, target=st.sampled_from(list(OrderState)),
       pass_current=st.booleans())
def test_every_source_and_target_pair_follows_the_docs(
    inprocess: Any, issue_targets: dict[OrderState, str], statuses: list[str],
    target: OrderState, pass_current: bool,
) -> None:
    check_update(inprocess, statuses, target, issue_targets, pass_current=pass_current)


@pytest.mark.parametrize(
    ("statuses", "target"),
    [(["New", "AddressIssue"], OrderState.CANCELLED), (["Pending"], OrderState.ON_HOLD),
     (["ReadyForImageDl", "NeedsManualApproval"], OrderState.TEST),
     (["ImageIssue"], OrderState.CREATED), (["New", "Printing"], OrderState.CANCELLED),
     (["Hold"], OrderState.CREATED), (["Hold", "Hold"], OrderState.ON_HOLD),
     (["New"], OrderState.SHIPPED), (["Teleported"], OrderState.CANCELLED)],
)
def test_rules_hold_over_every_transport(
    gooten: Any, issue_targets: dict[OrderState, str], statuses: list[str], target: OrderState
) -> None:
    check_update(gooten, statuses, target, issue_targets, pass_current=True)


def test_every_single_status_against_every_target(
    inprocess: Any, issue_table: dict[str, Any], issue_targets: dict[OrderState, str]
) -> None:
    for native in [*issue_table, *UNKNOWN_STATUSES]:
        for target in OrderState:
            for pass_current in (True, False):
                check_update(inprocess, [native], target, issue_targets,
                             pass_current=pass_current)


def test_an_allowed_update_sends_the_documented_request(gooten: Any) -> None:
    oid = gooten.sandbox.create_order(items=2)
    status = gooten.update(oid, OrderState.ON_HOLD)
    assert status.state is OrderState.ON_HOLD
    assert gooten.sandbox.requests == [
        ("GET", "/v/5/source/api/orders/"), ("POST", "/orderstatus"),
        ("GET", "/v/5/source/api/orders/"),
    ]


def test_confirm_false_returns_what_gooten_was_told(gooten: Any) -> None:
    oid = gooten.sandbox.create_order(items=2)
    status = gooten.update(oid, "cancelled", confirm=False)
    assert status.state is OrderState.CANCELLED
    assert [i.native_status for i in status.items] == ["Cancelled", "Cancelled"]
    assert len(gooten.sandbox.requests) == 2


def test_a_stale_current_refused_by_gooten_but_already_in_target_succeeds(gooten: Any) -> None:
    sandbox = gooten.sandbox
    oid = sandbox.create_order(items=2)
    stale = gooten.fetch(oid)
    sandbox.set_status(oid, "Cancelled")
    status = gooten.update(oid, OrderState.CANCELLED, current=stale)
    assert status.state is OrderState.CANCELLED
    assert [r[0] for r in sandbox.requests] == ["GET", "POST", "GET"]


def test_a_stale_current_refused_by_gooten_raises_its_messages(gooten: Any) -> None:
    sandbox = gooten.sandbox
    oid = sandbox.create_order()
    stale = gooten.fetch(oid)
    sandbox.set_status(oid, "Printing")
    with pytest.raises(UpdateRejectedError) as raised:
        gooten.update(oid, OrderState.CANCELLED, current=stale)
    error = raised.value
    assert error.messages == ("Order status cannot be updated while items are in Printing.",)
    assert error.reference
    assert error.reference in str(error)
    assert "Printing" in str(error)
    assert sandbox.orders[oid].items[0].status == "Printing"


@pytest.mark.parametrize("answer", [{"HadError": True}, {"HadError": "true"}, {"HadError": "TRUE"}])
def test_had_error_true_in_any_spelling_is_a_rejection(
    inprocess: Any, answer: dict[str, Any]
) -> None:
    oid = inprocess.sandbox.create_order()
    current = inprocess.fetch(oid)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json=answer)
        return inprocess.sandbox.handle(request)

    with pytest.raises(UpdateRejectedError) as raised:
        inprocess.update(oid, "on_hold", current=current, transport=httpx.MockTransport(handler))
    assert raised.value.messages == ()
    assert "no message given" in str(raised.value)


@pytest.mark.parametrize(("code", "answer", "raised"), [
    (500, {"HadError": True, "ErrorReferenceCode": "ref-9",
           "Errors": [{"PropertyName": "Id", "ErrorMessage": "Order is locked."}]},
     UpdateRejectedError),
    (503, {"HadError": True, "Errors": [{"PropertyName": "PartnerBillingKey",
                                         "ErrorMessage": "Invalid partnerBillingKey."}]},
     AuthenticationError),
    (500, {"Message": "An error has occurred."}, ProviderUnavailableError),
])
def test_a_had_error_update_answer_with_a_server_error_code_keeps_gootens_words(
    inprocess: Any, code: int, answer: dict[str, Any], raised: type[Exception]
) -> None:
    oid = inprocess.sandbox.create_order()
    current = inprocess.fetch(oid)
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.method)
        if request.method == "POST":
            return httpx.Response(code, json=answer)
        return inprocess.sandbox.handle(request)

    with pytest.raises(raised) as caught:
        inprocess.update(oid, "cancelled", current=current, transport=httpx.MockTransport(handler))
    assert type(caught.value) is raised
    assert caught.value.status_code == code
    if "Errors" in answer:
        assert answer["Errors"][0]["ErrorMessage"] in str(caught.value)
    assert sent.count("POST") == 1
    assert inprocess.sleeps == []


@pytest.mark.parametrize("answer", [{"HadError": False}, {"HadError": "false"},
                                    {"HadError": " False"}])
def test_had_error_false_in_any_spelling_is_success(
    inprocess: Any, answer: dict[str, Any]
) -> None:
    oid = inprocess.sandbox.create_order()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            inprocess.sandbox.set_status(oid, "Hold")
            return httpx.Response(200, json=answer)
        return inprocess.sandbox.handle(request)

    status = inprocess.update(oid, "on_hold", transport=httpx.MockTransport(handler))
    assert status.state is OrderState.ON_HOLD


@pytest.mark.parametrize("answer", [{}, {"HadError": "maybe"}, [], b"", b"{\"HadError\":"])
def test_an_unreadable_update_answer_is_a_format_error(inprocess: Any, answer: Any) -> None:
    oid = inprocess.sandbox.create_order()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            if isinstance(answer, bytes):
                return httpx.Response(200, content=answer)
            return httpx.Response(200, json=answer)
        return inprocess.sandbox.handle(request)

    with pytest.raises(ResponseFormatError):
        inprocess.update(oid, "on_hold", transport=httpx.MockTransport(handler))


def test_a_wrong_billing_key_is_an_authentication_error(gooten: Any) -> None:
    oid = gooten.sandbox.create_order()
    with pytest.raises(AuthenticationError) as raised:
        gooten.update(oid, "cancelled", settings=gooten.settings(partner_billing_key="wrong+k"))
    assert "partnerBillingKey" in str(raised.value)
    assert gooten.sandbox.orders[oid].items[0].status == "New"


def test_a_wrong_recipe_id_on_update_is_an_authentication_error(gooten: Any) -> None:
    oid = gooten.sandbox.create_order()
    current = gooten.fetch(oid)
    with pytest.raises(AuthenticationError):
        gooten.update(oid, "cancelled", current=current,
                      settings=gooten.settings(recipe_id="wrong"))
    assert gooten.sandbox.orders[oid].items[0].status == "New"


@pytest.mark.parametrize(
    "key", ["a+b", "a/b", "a=b", "a&b", "a%b", "%2B%2F", "k+/=&%?# é==", "partnerBillingKey=x&id=y"]
)
def test_keys_with_reserved_characters_arrive_intact(gooten: Any, key: str) -> None:
    sandbox = gooten.sandbox
    sandbox.partner_billing_key = key
    sandbox.recipe_id = "r" + key
    oid = sandbox.create_order(order_id="7-a+b=c&d", items=2)
    settings_ = gooten.settings()
    assert gooten.fetch(oid, settings=settings_).order_id == oid
    status = gooten.update(oid, "cancelled", settings=settings_)
    assert status.state is OrderState.CANCELLED


def test_a_lost_answer_that_did_not_apply_is_outcome_unknown(gooten: Any) -> None:
    oid = gooten.sandbox.create_order()
    gooten.sandbox.faults.inject("reset", path="orderstatus")
    with pytest.raises(OutcomeUnknownError):
        gooten.update(oid, "cancelled")
    assert gooten.sandbox.orders[oid].items[0].status == "New"


def test_server_errors_on_update_are_not_retried(gooten: Any) -> None:
    oid = gooten.sandbox.create_order()
    gooten.sandbox.faults.inject("status", status=500, path="orderstatus", times=5)
    with pytest.raises(ProviderUnavailableError):
        gooten.update(oid, "cancelled")
    assert len(posts(gooten.sandbox)) == 1


def test_a_server_error_after_the_update_applied_is_settled_by_a_fetch(gooten: Any) -> None:
    oid = gooten.sandbox.create_order()
    gooten.sandbox.faults.inject("html", path="orderstatus")
    assert gooten.update(oid, "on_hold").state is OrderState.ON_HOLD
    assert len(posts(gooten.sandbox)) == 1


def test_rate_limited_updates_wait_as_told(gooten: Any) -> None:
    oid = gooten.sandbox.create_order()
    gooten.sandbox.faults.inject("rate_limit", retry_after=3, path="orderstatus")
    assert gooten.update(oid, "test").state is OrderState.TEST
    assert gooten.sleeps == [3.0]
    assert len(posts(gooten.sandbox)) == 2


def test_a_current_of_another_order_is_refused(gooten: Any) -> None:
    first, second = gooten.sandbox.create_order(), gooten.sandbox.create_order()
    current: OrderStatus = gooten.fetch(first)
    with pytest.raises(TransitionNotAllowedError):
        gooten.update(second, "cancelled", current=current)
