"""Fixtures: the Print API sandbox and clients of it, sync and async, in-process and on loopback;
and Print API's recorded answers replayed to a sync or an async client.

Every test that takes ``api`` or ``connect`` runs four times: a sync and an async client, each
talking to the sandbox in-process (its transport) and over real HTTP on 127.0.0.1. Every test
that takes ``replayed`` runs twice, sync and async, against the cassettes in ``fixtures/``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from orderstatus_printapi import PrintApiSandbox

from orderstatus import AsyncClient, Client, FeedPage, OrderStatus
from orderstatus.testing.asgi import serve
from orderstatus.testing.cassettes import Cassette, Replay, load_cassettes

MODES = ("sync-inprocess", "sync-loopback", "async-inprocess", "async-loopback")
FIXTURES = Path(__file__).parent / "fixtures"
RECORDED_SETTINGS = {"client_id": "recorded-client", "client_secret": "recorded-s3cret"}
"""Any credentials: the recorded token answer is replayed whatever the request says."""


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """One client of the sandbox (sync or async), driven from plain test code."""

    def __init__(self, mode: str, sandbox: PrintApiSandbox, settings: dict[str, Any],
                 transport: httpx.MockTransport | None, **options: Any) -> None:
        self.mode = mode
        self.sandbox = sandbox
        self.sleeps: list[float] = []
        self.is_async = mode.startswith("async")
        config = {"printapi": settings}
        if self.is_async:
            async def sleep(seconds: float) -> None:
                self.sleeps.append(seconds)

            self.loop = asyncio.new_event_loop()
            self.client: Any = AsyncClient(config, transport=transport, sleep=sleep, **options)
        else:
            self.client = Client(config, transport=transport, sleep=self.sleeps.append,
                                 **options)
        self.clock = FakeClock()
        self.client.provider("printapi").clock = self.clock

    def run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, method)(*args, **kwargs)
        return self.loop.run_until_complete(result) if self.is_async else result

    def fetch(self, order_id: str, **kwargs: Any) -> OrderStatus:
        return self.run("fetch", "printapi", order_id, **kwargs)  # type: ignore[no-any-return]

    def fetch_many(self, order_ids: list[str]) -> list[Any]:
        refs = [("printapi", o) for o in order_ids]
        if not self.is_async:
            return list(self.client.fetch_many(refs))

        async def collect() -> list[Any]:
            return [r async for r in self.client.fetch_many(refs)]

        return self.loop.run_until_complete(collect())

    def feed(self, since: str | None = None) -> FeedPage:
        return self.run("feed", "printapi", since=since)  # type: ignore[no-any-return]

    def update(self, order_id: str, target: str) -> OrderStatus:
        return self.run("update", "printapi", order_id, target)  # type: ignore[no-any-return]

    def handle_webhook(self, body: bytes, headers: dict[str, str]) -> OrderStatus:
        return self.run(  # type: ignore[no-any-return]
            "handle_webhook", "printapi", body=body, headers=headers
        )

    def advance(self, seconds: float) -> None:
        """Move the sandbox's clock and this client's token clock together."""
        self.sandbox.advance(seconds)
        self.clock.advance(seconds)

    def close(self) -> None:
        if self.is_async:
            self.loop.run_until_complete(self.client.aclose())
            self.loop.close()
        else:
            self.client.close()


@pytest.fixture
def sandbox() -> PrintApiSandbox:
    return PrintApiSandbox()


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def base_url(mode: str, sandbox: PrintApiSandbox) -> Iterator[str]:
    """Where the sandbox answers: loopback HTTP, or a loopback name for the in-process transport."""
    if mode.endswith("loopback"):
        with serve(sandbox.asgi()) as url:
            yield url
    else:
        yield "http://127.0.0.1/"


@pytest.fixture
def connect(mode: str, sandbox: PrintApiSandbox, base_url: str) -> Iterator[Callable[..., Api]]:
    """``connect(**setting_overrides, **client_options)``: a new client of the sandbox."""
    apis: list[Api] = []
    transport = sandbox.transport() if mode.endswith("inprocess") else None

    def make(options: dict[str, Any] | None = None, **overrides: Any) -> Api:
        settings = {**sandbox.settings(base_url), **overrides}
        api = Api(mode, sandbox, settings, transport, **(options or {}))
        apis.append(api)
        return api

    yield make
    for api in apis:
        with contextlib.suppress(Exception):
            api.close()


@pytest.fixture
def api(connect: Callable[..., Api]) -> Api:
    return connect()


class Replayed:
    """Print API's recorded answers served to a fresh sync or async client per call."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.replay: Replay | None = None

    def cassettes(self, *names: str) -> tuple[Cassette, ...]:
        return load_cassettes(FIXTURES, *names)

    def call(self, cassettes: Iterable[Cassette], method: str, *args: Any, **kwargs: Any) -> Any:
        """``client.<method>("printapi", …)`` with the token answer and ``cassettes`` replayed."""
        self.replay = replay = Replay([*self.cassettes("oauth-token"), *cassettes])
        config = {"printapi": RECORDED_SETTINGS}
        if self.mode == "sync":
            with Client(config, transport=replay.transport()) as client:
                result = getattr(client, method)("printapi", *args, **kwargs)
        else:
            async def run() -> Any:
                async with AsyncClient(config, transport=replay.transport()) as client:
                    return await getattr(client, method)("printapi", *args, **kwargs)

            result = asyncio.run(run())
        assert replay.unmatched == [], replay.unmatched
        return result

    def fetch(self, cassette: str | Cassette, order_id: str, **kwargs: Any) -> OrderStatus:
        (played,) = self.cassettes(cassette) if isinstance(cassette, str) else (cassette,)
        return self.call([played], "fetch", order_id, **kwargs)  # type: ignore[no-any-return]

    def feed(self, cassette: str | Cassette, since: str | None) -> FeedPage:
        (played,) = self.cassettes(cassette) if isinstance(cassette, str) else (cassette,)
        return self.call([played], "feed", since=since)  # type: ignore[no-any-return]


@pytest.fixture(params=("sync", "async"))
def replayed(request: pytest.FixtureRequest) -> Replayed:
    return Replayed(str(request.param))
