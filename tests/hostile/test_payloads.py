"""Provider answers of any shape: an :class:`OrderStatus` or the library's own error.

Random JSON (and random bytes, status codes and headers) goes into every provider's parsers
through the client, as do real sandbox answers with parts replaced by random JSON.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from orderstatus import OrderState, OrderStatus, OrderStatusError, default_registry
from orderstatus.testing.strategies import json_mutations
from tests.conftest import Api

from .conftest import HOSTILE, SAFE_ID, Guard, outcome
from .strategies import header_text, json_values


def answering(status: int, body: bytes, headers: dict[str, Any] | None = None) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=headers)

    return answer


def json_answer(doc: Any) -> Any:
    return answering(200, json.dumps(doc).encode(), {"content-type": "application/json"})


@HOSTILE
@given(doc=json_values)
def test_any_json_answer_to_a_fetch(
    guarded: tuple[Api, Guard], provider: str, doc: Any
) -> None:
    api, guard = guarded
    guard.expect()
    guard.answer = json_answer(doc)
    result = outcome(lambda: api.fetch(provider, SAFE_ID))
    if isinstance(result, OrderStatus):
        assert result.provider == provider
        assert isinstance(result.state, OrderState)


@HOSTILE
@given(status=st.integers(200, 599), body=st.binary(max_size=200) | json_values.map(
    lambda v: json.dumps(v).encode()), retry_after=header_text)
def test_any_status_body_and_retry_after(
    guarded: tuple[Api, Guard], provider: str, status: int, body: bytes, retry_after: str
) -> None:
    api, guard = guarded
    guard.expect()
    guard.answer = answering(status, body, {"retry-after": retry_after.encode("latin-1")})
    result = outcome(lambda: api.fetch(provider, SAFE_ID))
    if status >= 300:
        assert isinstance(result, OrderStatusError)


@HOSTILE
@given(data=st.data())
def test_real_answers_with_a_part_replaced(
    guarded: tuple[Api, Guard], provider: str, data: st.DataObject
) -> None:
    api, guard = guarded
    order_id = guard.sandbox.create_order(items=2)
    guard.expect(order_id)
    real = api.fetch(provider, order_id).raw
    broken = data.draw(json_mutations(dict(real), values=json_values))
    guard.answer = json_answer(broken)
    result = outcome(lambda: api.fetch(provider, order_id))
    if isinstance(result, OrderStatus):
        assert result.order_id == order_id or result.provider == provider


@HOSTILE
@given(doc=json_values)
def test_any_json_answer_to_a_feed_or_an_update(
    guarded: tuple[Api, Guard], provider: str, doc: Any
) -> None:
    api, guard = guarded
    capabilities = default_registry().provider(provider).capabilities
    order_id = guard.sandbox.create_order()
    guard.expect(order_id)
    current = api.fetch(provider, order_id)
    guard.checking = False  # feed and update urls are not fetch urls
    guard.answer = json_answer(doc)
    if capabilities.feed:
        outcome(lambda: api.feed(provider))
    if capabilities.update:
        outcome(lambda: api.update(provider, order_id, OrderState.CANCELLED, current=current,
                                   confirm=False))
