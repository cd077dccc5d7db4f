"""Hostile answers from Print API: token, order, feed and error bodies of any JSON shape.

Every answer is read inside the typed-error boundary: the client returns a status or raises
an :class:`~orderstatus.OrderStatusError` (a format, authentication or provider error), never
a foreign exception.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderstatus import AsyncClient, Client, OrderStatus, OrderStatusError, RetryPolicy
from orderstatus.errors import AuthenticationError, ResponseFormatError
from orderstatus.testing.cassettes import load_cassettes
from orderstatus.testing.strategies import json_mutations, json_values

from .conftest import FIXTURES, RECORDED_SETTINGS

ONCE = RetryPolicy(attempts=1)
HOSTILE = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
TOKEN, ORDER, FEED = load_cassettes(FIXTURES, "oauth-token", "order-download-failed",
                                    "sync-statuses")
KEYS = ["access_token", "token_type", "expires_in", "scope", "error", "id", "status",
        "checkout", "items", "files", "content", "results", "dateTime", "since"]
JSON = json_values(keys=KEYS, max_leaves=25, texts=[
    "bearer", "Created", "Failed", "DownloadFailed", "3600", "1e999", "2025-03-29T21:40:20.3",
    "invalid_client"])


def answer(status: int, doc: Any) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(doc).encode(),
                          headers={"content-type": "application/json"})


def outcome(token: httpx.Response, fetched: httpx.Response | None = None) -> Any:
    """Fetch order 11410410 with ``token`` answered at the token endpoint and ``fetched`` (or
    the recorded order) at the order's; the status, or the error raised."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth"):
            return token
        return fetched if fetched is not None else ORDER.response()

    transport = httpx.MockTransport(handle)
    try:
        with Client({"printapi": RECORDED_SETTINGS}, transport=transport, retry=ONCE) as client:
            return client.fetch("printapi", "11410410")
    except OrderStatusError as err:
        return err


@HOSTILE
@given(doc=JSON | st.dictionaries(st.sampled_from(KEYS), JSON, max_size=5))
def test_any_token_answer(doc: Any) -> None:
    result = outcome(answer(200, doc))
    assert isinstance(result, (OrderStatus, ResponseFormatError)), result


@HOSTILE
@given(status=st.sampled_from([400, 401, 403]), doc=JSON)
def test_any_refusal_from_the_token_endpoint(status: int, doc: Any) -> None:
    result = outcome(answer(status, doc))
    assert isinstance(result, AuthenticationError), result
    code = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(code, str) and code.isalpha() and code.islower() and len(code) < 40:
        assert f": {code}" in str(result)


@HOSTILE
@given(doc=json_mutations(TOKEN.json(), values=JSON))
def test_the_recorded_token_answer_with_a_part_replaced(doc: Any) -> None:
    result = outcome(answer(200, doc))
    assert isinstance(result, (OrderStatus, ResponseFormatError)), result


@HOSTILE
@given(doc=json_mutations(ORDER.json(), values=JSON))
def test_the_recorded_order_with_a_part_replaced(doc: Any) -> None:
    result = outcome(TOKEN.response(), answer(200, doc))
    assert isinstance(result, (OrderStatus, OrderStatusError)), result


@HOSTILE
@given(status=st.integers(400, 599), doc=JSON)
def test_any_error_answer_to_a_fetch(status: int, doc: Any) -> None:
    assert isinstance(outcome(TOKEN.response(), answer(status, doc)), OrderStatusError)


@HOSTILE
@given(doc=json_mutations(FEED.json(), values=JSON))
def test_the_recorded_feed_with_a_part_replaced(doc: Any) -> None:

    def handle(request: httpx.Request) -> httpx.Response:
        return TOKEN.response() if request.url.path.endswith("/oauth") else answer(200, doc)

    with Client({"printapi": RECORDED_SETTINGS}, transport=httpx.MockTransport(handle),
                retry=ONCE) as client:
        try:
            page = client.feed("printapi", since="2025-03-24T13:00:00")
        except OrderStatusError:
            return
    assert page.cursor is None or isinstance(page.cursor, str)


@pytest.mark.parametrize("body", [
    {"access_token": "abc", "token_type": "bearer", "expires_in": 10**400},
    {"access_token": "abc", "token_type": "bearer", "expires_in": "1e999"},
    {"access_token": "abc", "token_type": "bearer", "expires_in": True},
    {"access_token": "abc", "token_type": "bearer", "expires_in": {"seconds": 60}},
    {"access_token": ["abc"], "token_type": "bearer", "expires_in": 60},
    {"access_token": "abc", "token_type": None, "expires_in": 60},
    ["access_token", "abc"],
    "abc",
])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_odd_token_answers_are_format_errors(body: Any, mode: str) -> None:
    token = answer(200, body)

    def handle(request: httpx.Request) -> httpx.Response:
        return token if request.url.path.endswith("/oauth") else ORDER.response()

    with pytest.raises(ResponseFormatError, match="usable bearer token"):
        fetch(mode, httpx.MockTransport(handle))


def fetch(mode: str, transport: httpx.MockTransport) -> OrderStatus:
    """Order 11410410 through a sync or an async client."""
    if mode == "sync":
        with Client({"printapi": RECORDED_SETTINGS}, transport=transport) as client:
            return client.fetch("printapi", "11410410")

    async def run() -> OrderStatus:
        async with AsyncClient({"printapi": RECORDED_SETTINGS}, transport=transport) as client:
            return await client.fetch("printapi", "11410410")

    return asyncio.run(run())


def test_a_deeply_nested_token_answer_is_a_format_error() -> None:
    deep = httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000,
                          headers={"content-type": "application/json"})
    assert isinstance(outcome(deep), ResponseFormatError)
    refused = httpx.Response(401, content=b"{\"error\":" + b"[" * 100_000 + b"]" * 100_000)
    assert isinstance(outcome(refused), AuthenticationError)
