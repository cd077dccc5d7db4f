"""Servers that drip, stream forever, send huge bodies or compression bombs.

Every installed provider with a sandbox, sync and async, against real loopback servers (and a
user's own transport): a call ends with a typed error within its total budget and a small
margin, whatever the server does between bytes; an answer is never held past the size cap,
decoded or not; a refused answer is not asked for again.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
import textwrap
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from orderstatus import (
    Client,
    ConfigurationError,
    OrderStatus,
    ProviderUnavailableError,
    ResponseFormatError,
    RetryPolicy,
)
from tests.conftest import Api
from tests.providers import LOCAL, SANDBOXED, new_sandbox

from . import servers
from .servers import Behaviour, Misbehaving, timed

TOTAL = 1.0
MARGIN = 1.5
"""Seconds a call may run past its total: a loaded machine's scheduling, never a drip's."""
POLICY = RetryPolicy(attempts=4, total=TOTAL, backoff=0.01, backoff_max=0.02)
ROOMY = RetryPolicy(attempts=4, total=30.0, backoff=0.01, backoff_max=0.02)
"""For the size tests: a loaded machine reading 16 MiB must not run into the deadline."""
MiB = 2**20


@pytest.fixture(params=SANDBOXED)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def against(kind: str, provider: str, behaviour: Behaviour, **options: Any
            ) -> tuple[Api, Misbehaving]:
    server = Misbehaving(behaviour)
    options.setdefault("retry", POLICY)
    options.setdefault("timeout", 10.0)  # longer than the total: per-read timeouts never save it
    return Api(kind, {provider: new_sandbox(provider).settings(server.url)}, **options), server


def failing(kind: str, provider: str, behaviour: Behaviour, **options: Any
            ) -> tuple[Exception, float, Misbehaving]:
    api, server = against(kind, provider, behaviour, **options)
    try:
        result, took = timed(lambda: api.fetch(provider, "SAFEID0123"))
    finally:
        api.close()
        server.close()
    assert isinstance(result, Exception), result
    return result, took, server


# -- the total deadline -------------------------------------------------------------------------


@pytest.mark.parametrize("behaviour", [servers.drip_headers, servers.drip_body,
                                       servers.slow_chunks], ids=["headers", "body", "stream"])
def test_a_dripping_server_cannot_hold_a_fetch_past_its_total(
    kind: str, provider: str, behaviour: Behaviour
) -> None:
    error, took, _ = failing(kind, provider, behaviour)
    assert isinstance(error, ProviderUnavailableError), repr(error)
    assert "total of 1 s" in str(error)
    assert took < TOTAL + MARGIN, f"took {took:.2f} s"


def test_a_dripping_server_cannot_hold_a_webhook_or_an_update(kind: str, provider: str) -> None:
    from orderstatus import default_registry

    capabilities = default_registry().provider(provider).capabilities
    api, server = against(kind, provider, servers.drip_body)
    calls = []
    if capabilities.update:
        calls.append(lambda: api.update(provider, "SAFEID0123", "cancelled"))
    if capabilities.webhook:
        sandbox = new_sandbox(provider)
        order_id = sandbox.create_order()
        sandbox.subscribe("http://hooks.test/")
        found = sandbox.webhook_notification(order_id)
        assert found is not None
        body, content_type, suffix = found
        query = suffix.lstrip("?")
        calls.append(lambda: api.handle_webhook(
            provider, body=body, headers={"content-type": content_type}, query=query))
    try:
        for call in calls:
            result, took = timed(call)
            assert isinstance(result, ProviderUnavailableError), repr(result)
            # an update's fetches share one budget with it: the call is bounded, not each part
            assert took < TOTAL + MARGIN, f"took {took:.2f} s"
    finally:
        api.close()
        server.close()


def _slow_body(kind: str) -> Any:
    """A body a user's transport streams: a chunk every 50 ms, forever."""
    if kind == "sync":
        def chunks() -> Iterator[bytes]:
            while True:
                time.sleep(servers.DRIP)
                yield b" "
        return chunks()

    async def achunks() -> AsyncIterator[bytes]:
        while True:
            await asyncio.sleep(servers.DRIP)
            yield b" "
    return achunks()


def _endless_body(kind: str) -> Any:
    if kind == "sync":
        def chunks() -> Iterator[bytes]:
            while True:
                yield b" " * 65536
        return chunks()

    async def achunks() -> AsyncIterator[bytes]:
        while True:
            yield b" " * 65536
    return achunks()


def test_a_users_transport_cannot_hold_a_body_past_the_total(kind: str, provider: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=_slow_body(kind))

    api = Api(kind, {provider: new_sandbox(provider).settings(LOCAL)},
              transport=httpx.MockTransport(handler), retry=POLICY)
    try:
        result, took = timed(lambda: api.fetch(provider, "SAFEID0123"))
    finally:
        api.close()
    assert isinstance(result, ProviderUnavailableError), repr(result)
    assert took < TOTAL + MARGIN, f"took {took:.2f} s"


# -- the size cap -------------------------------------------------------------------------------


@pytest.mark.parametrize("behaviour", [
    servers.large(200 * MiB), servers.undeclared(64 * MiB), servers.endless_chunks,
    servers.large(40 * MiB, status="500 Internal Server Error"),
], ids=["declared", "undeclared", "endless", "error-body"])
def test_an_answer_past_the_cap_is_refused_unread_and_not_retried(
    kind: str, provider: str, behaviour: Behaviour
) -> None:
    error, _, server = failing(kind, provider, behaviour, retry=ROOMY)
    assert isinstance(error, ResponseFormatError), repr(error)
    assert "larger than the 16 MiB limit" in str(error)
    assert not error.retryable
    assert server.requests == 1, "a refused answer is never asked for again"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
def test_a_compression_bomb_is_refused_without_being_inflated(
    kind: str, provider: str, coding: str
) -> None:
    body = servers.bomb(coding, 64 * MiB)
    assert len(body) < MiB // 8
    header = "deflate" if coding == "raw-deflate" else coding
    error, _, server = failing(kind, provider, servers.encoded(body, header), retry=ROOMY)
    assert isinstance(error, ResponseFormatError), repr(error)
    assert "larger than the 16 MiB limit" in str(error)
    assert server.requests == 1


@pytest.mark.parametrize("coding", ["br", "zstd", "compress", "gzip, br"])
def test_a_coding_never_asked_for_is_refused(kind: str, provider: str, coding: str) -> None:
    error, _, server = failing(kind, provider, servers.encoded(b"\x00" * 100, coding))
    assert isinstance(error, ResponseFormatError), repr(error)
    assert "which was not asked for" in str(error)
    assert server.requests == 1


def test_a_users_transport_cannot_stream_past_the_cap(kind: str, provider: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=_endless_body(kind))

    api = Api(kind, {provider: new_sandbox(provider).settings(LOCAL)},
              transport=httpx.MockTransport(handler), retry=POLICY)
    try:
        result, _ = timed(lambda: api.fetch(provider, "SAFEID0123"))
    finally:
        api.close()
    assert isinstance(result, ResponseFormatError), repr(result)


def compressing(sandbox: Any, coding: str) -> httpx.MockTransport:
    """The sandbox's answers, compressed as ``coding`` (a server honouring Accept-Encoding)."""
    def handler(request: httpx.Request) -> httpx.Response:
        if "oauth" not in request.url.path:  # a token request carries its own headers
            assert request.headers["accept-encoding"] == "gzip, deflate"
        answer = sandbox.handle(request)
        body = answer.read()
        packed = gzip.compress(body) if coding == "gzip" else zlib.compress(body)
        headers = {k: v for k, v in answer.headers.items() if k != "content-length"}
        return httpx.Response(answer.status_code, headers={**headers, "content-encoding": coding},
                              content=packed)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_answers_within_the_cap_read_as_usual(
    kind: str, provider: str, coding: str
) -> None:
    sandbox = new_sandbox(provider)
    order_id = sandbox.create_order(items=2)
    plain = Api(kind, {provider: sandbox.settings(LOCAL)}, transport=sandbox.transport())
    packed = Api(kind, {provider: sandbox.settings(LOCAL)}, transport=compressing(sandbox, coding))
    try:
        expected, got = plain.fetch(provider, order_id), packed.fetch(provider, order_id)
    finally:
        plain.close()
        packed.close()
    assert isinstance(got, OrderStatus)
    assert (got.state, got.items, got.raw) == (expected.state, expected.items, expected.raw)


def test_the_cap_is_configurable(kind: str, provider: str) -> None:
    sandbox = new_sandbox(provider)
    order_id = sandbox.create_order(items=3)
    size = len(json.dumps(
        Api("sync", {provider: sandbox.settings(LOCAL)}, transport=sandbox.transport())
        .fetch(provider, order_id).raw))
    small = Api(kind, {provider: sandbox.settings(LOCAL)}, transport=sandbox.transport(),
                max_response_bytes=size // 2)
    try:
        result, _ = timed(lambda: small.fetch(provider, order_id))
    finally:
        small.close()
    assert isinstance(result, ResponseFormatError), repr(result)
    assert "limit (max_response_bytes)" in str(result)
    for bad in (0, -1, 1.5, "16", True):
        with pytest.raises(ConfigurationError, match="max_response_bytes"):
            Client({}, max_response_bytes=bad)  # type: ignore[arg-type]


_MEASURE = textwrap.dedent("""
    import json, resource, sys
    from orderstatus import Client, RetryPolicy, OrderStatusError
    provider, warm, hostile = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    def peak() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    policy = RetryPolicy(attempts=1, total=30)
    with Client({provider: warm}, retry=policy) as client:  # every code path, small answers
        try:
            client.fetch(provider, "warm-up")
        except OrderStatusError:
            pass
    before = peak()
    with Client({provider: hostile}, retry=policy) as client:
        for _ in range(3):
            try:
                client.fetch(provider, "SAFEID0123")
            except OrderStatusError as err:
                kind = type(err).__name__
    print(json.dumps({"growth": peak() - before, "error": kind}))
""")


@pytest.mark.parametrize("behaviour", [
    servers.large(400 * MiB), servers.endless_chunks,
    servers.encoded(servers.bomb("gzip", 256 * MiB), "gzip"),
], ids=["huge", "endless", "gzip-bomb"])
def test_memory_stays_bounded_while_refusing(behaviour: Behaviour) -> None:
    """Peak memory of a client process refusing three such answers grows by about two caps
    (the chunks and their join), never by the answer's size."""
    sandbox = new_sandbox("fakeshop")
    with Misbehaving(servers.large(10)) as warm, Misbehaving(behaviour) as server:
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, "fakeshop", json.dumps(sandbox.settings(warm.url)),
             json.dumps(sandbox.settings(server.url))],
            capture_output=True, text=True, timeout=120, check=False,
        )
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout)
    assert measured["error"] == "ResponseFormatError"
    assert measured["growth"] < 80 * MiB, f"peak memory grew by {measured['growth'] / MiB:.0f} MiB"
