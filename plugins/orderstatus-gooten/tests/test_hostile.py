"""Hostile answers from Gooten: error bodies (and orders) of any JSON shape.

Every answer, error bodies included, is read inside the typed-error boundary: the client
returns a status or raises an :class:`~orderstatus.OrderStatusError`, never a foreign
exception, and an error's message keeps only a short excerpt of what Gooten said.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderstatus import (
    AuthenticationError,
    Client,
    OrderNotFoundError,
    OrderState,
    OrderStatus,
    OrderStatusError,
    ProviderError,
    RetryPolicy,
    UpdateRejectedError,
)
from orderstatus.provider import MAX_EXCERPT
from orderstatus.testing.cassettes import load_cassettes
from orderstatus.testing.strategies import json_mutations, json_values

FIXTURES = Path(__file__).parent / "fixtures"
SETTINGS = {"recipe_id": "hostile-recipe", "partner_billing_key": "hostile+key/="}
ORDER_ID = "9-3c1f2a7e-0b64-4d55-9f0e-5c8a2b1d7e40"
(ORDER,) = load_cassettes(FIXTURES, "order-get-by-id")
ONCE = RetryPolicy(attempts=1)
HOSTILE = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
KEYS = ["HadError", "Errors", "ErrorReferenceCode", "ErrorMessage", "PropertyName",
        "AttemptedValue", "Message", "Items", "Status", "Images", "OrderItemId", "Id",
        "Shipments"]
JSON = json_values(keys=KEYS, max_leaves=25, texts=[
    "true", "false", "PartnerBillingKey", "New", "Invalid recipeId", "Shipped"])
ERRORS = st.one_of(JSON, st.lists(JSON, max_size=3), st.lists(
    st.dictionaries(st.sampled_from(["PropertyName", "ErrorMessage", "AttemptedValue"]), JSON),
    max_size=3))
"""``Errors``: any JSON, lists of anything, lists of error-shaped objects of any values."""
HAD_ERROR = st.fixed_dictionaries({"HadError": st.sampled_from([True, "true", " TRUE "])},
                                  optional={"Errors": ERRORS, "ErrorReferenceCode": JSON,
                                            "Message": JSON})


def answering(status: int, doc: Any) -> httpx.MockTransport:
    content = doc if isinstance(doc, bytes) else json.dumps(doc).encode()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.params.get("id") == ORDER_ID and (
            request.url.path.endswith("orders/") and status == -1
        ):
            return ORDER.response()
        return httpx.Response(abs(status), content=content,
                              headers={"content-type": "application/json"})

    return httpx.MockTransport(handle)


def outcome(call: str, transport: httpx.MockTransport) -> Any:
    try:
        with Client({"gooten": SETTINGS}, transport=transport, retry=ONCE) as client:
            if call == "fetch":
                return client.fetch("gooten", ORDER_ID)
            return client.update("gooten", ORDER_ID, OrderState.CANCELLED,
                                 current=client.fetch("gooten", ORDER_ID), confirm=False)
    except OrderStatusError as err:
        return err


def update_answering(status: int, doc: Any) -> httpx.MockTransport:
    """The documented order for fetches; ``doc`` with ``status`` for the update."""
    content = json.dumps(doc).encode()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return ORDER.response()
        return httpx.Response(status, content=content, headers={"content-type": "application/json"})

    return httpx.MockTransport(handle)


@HOSTILE
@given(status=st.sampled_from([200, 400, 401, 403, 404, 409, 422, 500, 503]), doc=HAD_ERROR)
def test_any_had_error_body_to_a_fetch(status: int, doc: Any) -> None:
    result = outcome("fetch", answering(status, doc))
    assert isinstance(result, ProviderError), result
    assert len(str(result)) < 1200


@HOSTILE
@given(status=st.sampled_from([200, 400, 404, 409, 500]), doc=HAD_ERROR)
def test_any_had_error_body_to_an_update(status: int, doc: Any) -> None:
    result = outcome("update", update_answering(status, doc))
    assert isinstance(result, (UpdateRejectedError, AuthenticationError)), result
    if isinstance(result, UpdateRejectedError):
        assert all(isinstance(m, str) and len(m) <= 300 for m in result.messages)
        assert len(result.messages) <= 10
    assert "hostile+key" not in str(result)


@HOSTILE
@given(status=st.integers(200, 599), doc=JSON)
def test_any_json_answer_to_a_fetch(status: int, doc: Any) -> None:
    result = outcome("fetch", answering(status, doc))
    assert isinstance(result, (OrderStatus, OrderStatusError)), result
    if status >= 300:
        assert isinstance(result, OrderStatusError)


@HOSTILE
@given(doc=json_mutations(ORDER.json(), values=JSON))
def test_the_documented_order_with_a_part_replaced(doc: Any) -> None:
    result = outcome("fetch", answering(200, doc))
    assert isinstance(result, (OrderStatus, OrderStatusError)), result


@HOSTILE
@given(status=st.integers(200, 599), doc=JSON)
def test_any_json_answer_to_an_update(status: int, doc: Any) -> None:
    result = outcome("update", update_answering(status, doc))
    assert isinstance(result, (OrderStatus, OrderStatusError)), result


@pytest.mark.parametrize("doc", [
    {"HadError": True, "Errors": 5},
    {"HadError": True, "Errors": "Order not found."},
    {"HadError": True, "Errors": {"ErrorMessage": "x"}},
    {"HadError": True, "Errors": [5, "x", None, ["y"]]},
    {"HadError": True, "Errors": [{"ErrorMessage": 5}, {"ErrorMessage": {"a": 1}},
                                  {"PropertyName": ["Id"]}]},
    {"HadError": True, "Errors": [{"ErrorMessage": "x" * 10_000}] * 1_000},  # 10 MB: < the cap
    {"HadError": True, "ErrorReferenceCode": {"a": 1}, "Errors": None},
    {"HadError": True, "Message": ["Invalid recipeId"]},
])
@pytest.mark.parametrize("call", ["fetch", "update"])
def test_hostile_error_bodies_are_typed_errors(inprocess: Any, doc: Any, call: str) -> None:
    """Issue 13, point 5: ``{"HadError": true, "Errors": 5}`` raised TypeError."""
    options = {"settings": SETTINGS, "retry": ONCE}
    if call == "fetch":
        def run() -> Any:
            return inprocess.fetch(ORDER_ID, transport=answering(404, doc), **options)
    else:
        def run() -> Any:
            return inprocess.update(ORDER_ID, OrderState.CANCELLED, confirm=False,
                                    transport=update_answering(200, doc), **options)
    with pytest.raises(ProviderError) as raised:
        run()
    error = raised.value
    assert isinstance(error, OrderNotFoundError if call == "fetch" else UpdateRejectedError)
    assert len(str(error)) < 1200


def test_an_error_message_is_kept_short_and_on_one_line(inprocess: Any) -> None:
    doc = {"HadError": True, "ErrorReferenceCode": "ref-1",
           "Errors": [{"PropertyName": "Id", "ErrorMessage": "first\nline " + "y" * 1000}]
           + [{"ErrorMessage": f"message {n}"} for n in range(50)]}
    with pytest.raises(UpdateRejectedError) as raised:
        inprocess.update(ORDER_ID, OrderState.CANCELLED, settings=SETTINGS,
                         transport=update_answering(200, doc), retry=ONCE, confirm=False)
    error = raised.value
    assert len(error.messages) == 10
    assert error.messages[0].startswith("first line yyy") and len(error.messages[0]) == 300
    assert "\n" not in str(error)
    # the message quotes one short excerpt of them; .messages keeps them all
    assert error.detail.startswith("update refused: first line yyy")
    assert len(error.detail) <= len("update refused: ") + MAX_EXCERPT


def test_a_deeply_nested_error_body_is_a_typed_error(inprocess: Any) -> None:
    deep = b"{\"HadError\": true, \"Errors\": " + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ProviderError):
        inprocess.fetch(ORDER_ID, settings=SETTINGS, transport=answering(400, deep), retry=ONCE)
