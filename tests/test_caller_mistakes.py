"""Caller mistakes get a typed error before any request: references of the wrong shape,
webhook arguments of the wrong type, an AsyncClient used from a second event loop."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from orderstatus_fakeshop import FakeshopSandbox

from orderstatus import (
    AsyncClient,
    InvalidArgumentError,
    OrderStatus,
    OrderStatusError,
    UsageError,
)
from orderstatus.testing.asgi import serve

from .conftest import Api

BAD_REFS: list[Any] = [
    [("fakeshop",)],
    [("fakeshop", "F-1", "extra")],
    ["fakeshop:F-1"],
    [None],
    [("fakeshop", "F-1"), {"fakeshop": "F-2"}],
    "fakeshop:F-1",
    5,
]


@pytest.mark.parametrize("refs", BAD_REFS, ids=repr)
def test_references_of_the_wrong_shape_are_refused_before_any_request(
    local: Api, sandbox: FakeshopSandbox, refs: Any
) -> None:
    sandbox.create_order()
    with pytest.raises(InvalidArgumentError, match="pair") as raised:
        local.fetch_many(refs)
    assert isinstance(raised.value, TypeError)  # what Python code expects of a wrong type
    assert sandbox.requests == []
    assert "\n" not in str(raised.value)


def test_a_lazy_reference_of_the_wrong_shape_is_refused_when_taken(
    local: Api, sandbox: FakeshopSandbox
) -> None:
    good = sandbox.create_order()

    def refs() -> Iterator[Any]:
        yield ("fakeshop", good)
        yield ("fakeshop",)

    with pytest.raises(InvalidArgumentError):
        local.fetch_many(refs())


def test_ids_of_the_wrong_type_are_that_order_s_failure(
    local: Api, sandbox: FakeshopSandbox
) -> None:
    good = sandbox.create_order()
    results = local.fetch_many([("fakeshop", good), ("fakeshop", 12), (["x"], "y")])
    assert len(results) == 3
    assert sum(isinstance(r, OrderStatus) for r in results) == 1


@pytest.mark.parametrize("arguments", [
    {"body": None}, {"body": 5}, {"body": {"orderId": "F-1"}},
    {"body": b"{}", "headers": "content-type: application/json"},
    {"body": b"{}", "query": 5},
], ids=repr)
def test_webhook_arguments_of_the_wrong_type_are_refused_before_any_request(
    local: Api, sandbox: FakeshopSandbox, arguments: dict[str, Any]
) -> None:
    sandbox.create_order()
    for call in (local.handle_webhook, local.webhook_order_id):
        with pytest.raises(InvalidArgumentError, match="must be"):
            call("fakeshop", **arguments)
    assert sandbox.requests == []


def test_an_update_s_current_must_be_an_order_status(
    local: Api, sandbox: FakeshopSandbox
) -> None:
    order_id = sandbox.create_order()
    with pytest.raises(InvalidArgumentError, match="current must be an OrderStatus"):
        local.update("fakeshop", order_id, "cancelled", current="created")
    assert sandbox.requests == []


def test_an_async_client_refuses_a_second_running_event_loop(
    sandbox: FakeshopSandbox,
) -> None:
    order_id = sandbox.create_order()
    with serve(sandbox.asgi()) as url:
        first = asyncio.new_event_loop()
        client = AsyncClient({"fakeshop": sandbox.settings(url + "v1/")})
        first.run_until_complete(client.fetch("fakeshop", order_id))
        outcome: list[BaseException | OrderStatus] = []

        def elsewhere() -> None:
            try:
                outcome.append(asyncio.run(client.fetch("fakeshop", order_id)))
            except BaseException as err:  # the test looks at what it is
                outcome.append(err)

        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join(30)
        [error] = outcome
        assert isinstance(error, UsageError), error
        assert isinstance(error, OrderStatusError)
        assert "event loop" in str(error)
        # the first loop still works; closed, its connections go and a new loop may use it
        assert isinstance(first.run_until_complete(client.fetch("fakeshop", order_id)),
                          OrderStatus)
        first.close()
        assert isinstance(asyncio.run(client.fetch("fakeshop", order_id)), OrderStatus)
        assert isinstance(asyncio.run(client.fetch("fakeshop", order_id)), OrderStatus)

        async def closed_then_reused() -> None:
            await client.aclose()

        asyncio.run(closed_then_reused())
        assert isinstance(asyncio.run(client.fetch("fakeshop", order_id)), OrderStatus)
        asyncio.run(closed_then_reused())


def _first_loop_closed_by_asyncio_run(client: AsyncClient, order_id: str) -> None:
    asyncio.run(client.fetch("fakeshop", order_id))


def _first_loop_closed_by_hand(client: AsyncClient, order_id: str) -> None:
    loop = asyncio.new_event_loop()
    loop.run_until_complete(client.fetch("fakeshop", order_id))
    loop.close()


@pytest.mark.parametrize("first_loop", [_first_loop_closed_by_asyncio_run,
                                        _first_loop_closed_by_hand])
def test_connections_of_a_closed_event_loop_are_closed_not_dropped(
    sandbox: FakeshopSandbox, first_loop: Callable[[AsyncClient, str], None]
) -> None:
    order_id = sandbox.create_order()

    async def close(client: AsyncClient) -> None:
        await client.aclose()

    with serve(sandbox.asgi()) as url:
        client = AsyncClient({"fakeshop": sandbox.settings(url + "v1/")})
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            collected: list[BaseException | None] = []
            hook, sys.unraisablehook = sys.unraisablehook, (
                lambda raised: collected.append(raised.exc_value))  # a warning in __del__
            try:
                first_loop(client, order_id)
                assert isinstance(asyncio.run(client.fetch("fakeshop", order_id)),
                                  OrderStatus)  # a second loop: the first's connection goes
                asyncio.run(close(client))  # a third, to close the second's connection
                gc.collect()
            finally:
                sys.unraisablehook = hook
        assert collected == []
