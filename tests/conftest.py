"""Fixtures shared by the core's tests: the fakeshop test plugin's sandbox and a client facade
that runs every test against the sync and the async client, in-process and over loopback HTTP."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from orderstatus_fakeshop import FakeshopSandbox

from orderstatus import AsyncClient, Client, RetryPolicy
from orderstatus.testing.asgi import serve

FAST_RETRY = RetryPolicy(attempts=4, total=30, backoff=0.01, backoff_max=0.05)


class Api:
    """One synchronous face over Client or AsyncClient, recording every requested sleep."""

    def __init__(self, kind: str, settings: dict[str, Any], **options: Any) -> None:
        self.kind = kind
        self.sleeps: list[float] = []
        options.setdefault("retry", FAST_RETRY)
        if kind == "sync":
            self.client: Any = Client(settings, sleep=self.sleeps.append, **options)
        else:
            self.loop = asyncio.new_event_loop()

            async def sleep(seconds: float) -> None:
                self.sleeps.append(seconds)

            self.client = AsyncClient(settings, sleep=sleep, **options)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)
        if self.kind == "async" and inspect.iscoroutinefunction(method):
            return lambda *a, **k: self.loop.run_until_complete(method(*a, **k))
        return method

    def fetch_many(self, refs: Any, **options: Any) -> list[Any]:
        if self.kind == "sync":
            return list(self.client.fetch_many(refs, **options))

        async def collect() -> list[Any]:
            return [r async for r in self.client.fetch_many(refs, **options)]

        return self.loop.run_until_complete(collect())

    def close(self) -> None:
        if self.kind == "sync":
            self.client.close()
        else:
            self.loop.run_until_complete(self.client.aclose())
            self.loop.close()


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """The DSN (a URL) of a new database with orderstatus's schema on the tests' PostgreSQL
    server (:mod:`tests.postgres`), dropped afterwards; skips when there is no server."""
    from tests import postgres

    dsn = postgres.database()  # unittest.SkipTest, which pytest skips on, if there is none
    yield dsn
    postgres.server().drop(dsn)


@pytest.fixture
def sandbox() -> FakeshopSandbox:
    return FakeshopSandbox()


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["in-process", "http"])
def api(
    request: pytest.FixtureRequest, kind: str, sandbox: FakeshopSandbox
) -> Iterator[Api]:
    """A fakeshop client, sync and async, in-process and over real loopback HTTP."""
    if request.param == "in-process":
        client = Api(kind, {"fakeshop": sandbox.settings("http://127.0.0.1/v1/")},
                     transport=sandbox.transport())
        yield client
        client.close()
    else:
        with serve(sandbox.asgi()) as url:
            client = Api(kind, {"fakeshop": sandbox.settings(url + "v1/")})
            yield client
            client.close()


@pytest.fixture
def local(kind: str, sandbox: FakeshopSandbox) -> Iterator[Api]:
    """An in-process fakeshop client, sync and async (for tests that need no real socket)."""
    client = Api(kind, {"fakeshop": sandbox.settings("http://127.0.0.1/v1/")},
                 transport=sandbox.transport())
    yield client
    client.close()
