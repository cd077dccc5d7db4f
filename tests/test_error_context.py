"""Errors are built once: complete (provider, order, URL, status, request id) and clean.

A provider's error is created inside the error context the client opens around each answer
(and around sending, where an auth flow runs), and reaches the caller as it was created: the
same object, never rewritten on the way out.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx
import pytest
from orderstatus_fakeshop import API_KEY, FakeshopProvider, FakeshopSandbox

from orderstatus import (
    AuthenticationError,
    OrderState,
    OrderStatusError,
    ProviderError,
    Registry,
    UpdateRejectedError,
    hookimpl,
)
from orderstatus._context import ErrorContext, error_context

from .conftest import Api

Snapshot = tuple[OrderStatusError, str, dict[str, Any]]


def _snapshot(error: OrderStatusError, made: list[Snapshot]) -> OrderStatusError:
    made.append((error, repr(error), dict(vars(error))))
    return error


def test_an_error_takes_what_it_was_not_given_from_its_context() -> None:
    context = ErrorContext(provider="acme", order_id="7", url="https://acme.test/orders/7",
                           status_code=409, request_id="req-1",
                           clean=lambda text: text.replace("hunter2", "***"))
    with error_context(context):
        error = UpdateRejectedError("refused: hunter2", messages=["echo hunter2"])
        named = ProviderError("x", provider="other", order_id="8", status_code=500)
    assert str(error) == "acme order '7': refused: ***"
    assert error.args == ("acme order '7': refused: ***",)
    assert (error.url, error.status_code, error.request_id) == (
        "https://acme.test/orders/7", 409, "req-1")
    assert error.messages == ("echo ***",)
    assert (named.provider, named.order_id, named.status_code) == ("other", "8", 500)
    outside = ProviderError("refused: hunter2")
    assert (outside.provider, outside.order_id, outside.url) == (None, None, None)
    assert str(outside) == "refused: hunter2"


def test_contexts_nest_and_end_with_their_block() -> None:
    with error_context(ErrorContext(provider="outer")):
        with error_context(ErrorContext(provider="inner")):
            assert OrderStatusError("x").provider == "inner"
        assert OrderStatusError("x").provider == "outer"
    assert OrderStatusError("x").provider is None


def _registry(provider: type[FakeshopProvider]) -> Registry:
    class Plugin:
        @staticmethod
        @hookimpl
        def orderstatus_register_providers(register: Any) -> None:
            register(provider)

    registry = Registry()
    registry.add_plugin(Plugin, "fakeshop")
    return registry


def _api(kind: str, sandbox: FakeshopSandbox, provider: type[FakeshopProvider]) -> Api:
    return Api(kind, {"fakeshop": sandbox.settings("http://127.0.0.1/v1/")},
               transport=sandbox.transport(), registry=_registry(provider))


def test_a_parse_error_reaches_the_caller_as_it_was_created(
    kind: str, sandbox: FakeshopSandbox
) -> None:
    made: list[Snapshot] = []

    class Refusing(FakeshopProvider):
        def parse_update(self, order_id: str, response: httpx.Response) -> None:
            raise _snapshot(UpdateRejectedError(f"refused key {API_KEY}",
                                                messages=[f"echo {API_KEY}"]), made)

    sandbox.reject_updates = True  # the order stays put, so the refusal is raised
    order = sandbox.create_order()
    api = _api(kind, sandbox, Refusing)
    with pytest.raises(UpdateRejectedError) as caught:
        api.update("fakeshop", order, OrderState.CANCELLED)
    api.close()
    error, shown, fields = made[0]
    assert caught.value is error
    assert (repr(error), vars(error)) == (shown, fields)  # nothing rewrote it on the way out
    assert str(error) == f"fakeshop order {order!r}: refused key ***"
    assert (error.status_code, error.messages) == (200, ("echo ***",))
    # the key is added as the request is sent (QueryAuth): the URL an error carries lacks it
    assert error.url is not None and "/orders/" in error.url and "key=" not in error.url
    assert error.__cause__ is None and error.__context__ is None


def test_a_classified_error_knows_the_answer_it_stands_for(
    kind: str, sandbox: FakeshopSandbox
) -> None:
    made: list[Snapshot] = []

    class Classifying(FakeshopProvider):
        def classify_error(self, order_id: str | None, response: httpx.Response
                           ) -> Exception | None:
            return _snapshot(ProviderError("order is locked"), made)

    original = sandbox.route
    sandbox.route = lambda request: (  # type: ignore[method-assign]
        httpx.Response(423, json={}, headers={"x-request-id": "req-9"})
        if request.method == "GET" else original(request))
    api = _api(kind, sandbox, Classifying)
    with pytest.raises(ProviderError) as caught:
        api.fetch("fakeshop", "F-1")
    api.close()
    error, shown, fields = made[0]
    assert caught.value is error and (repr(error), vars(error)) == (shown, fields)
    assert str(error) == "fakeshop order 'F-1': order is locked"
    assert (error.status_code, error.request_id) == (423, "req-9")


class _RefusingAuth(httpx.Auth):
    def __init__(self, made: list[Snapshot]) -> None:
        self.made = made

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise _snapshot(AuthenticationError(f"token {API_KEY} expired"), self.made)
        yield request  # pragma: no cover - an auth flow is a generator


def test_an_auth_flow_error_is_built_in_the_sending_context(
    kind: str, sandbox: FakeshopSandbox
) -> None:
    made: list[Snapshot] = []

    class Refused(FakeshopProvider):
        def auth(self) -> httpx.Auth:
            return _RefusingAuth(made)

    api = _api(kind, sandbox, Refused)
    with pytest.raises(AuthenticationError) as caught:
        api.fetch("fakeshop", "F-1")
    api.close()
    error, shown, fields = made[0]
    assert caught.value is error and (repr(error), vars(error)) == (shown, fields)
    assert str(error) == "fakeshop order 'F-1': token *** expired"
    assert error.url is not None and error.url.endswith("/orders/F-1")  # the key: QueryAuth
    assert error.status_code is None


def test_concurrent_calls_never_share_a_context(sandbox: FakeshopSandbox) -> None:
    import asyncio

    from orderstatus import AsyncClient, FetchFailure

    async def handle(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # let the other fetches run between sending and answering
        return sandbox.handle(request)

    async def run() -> list[Any]:
        async with AsyncClient({"fakeshop": sandbox.settings("http://127.0.0.1/v1/")},
                               transport=httpx.MockTransport(handle)) as client:
            refs = [("fakeshop", f"F-missing-{n}") for n in range(20)]
            return [r async for r in client.fetch_many(refs, concurrency=20)]

    results = asyncio.run(run())
    assert len(results) == 20 and all(isinstance(r, FetchFailure) for r in results)
    for result in results:
        assert result.error.order_id == result.order_id
        assert str(result.error).startswith(f"fakeshop order {result.order_id!r}: ")
        assert getattr(result.error, "url", "").split("?")[0].endswith(f"/{result.order_id}")
