"""The webhook receiver: inline mode, its answers, single flight, and the ASGI app."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from orderstatus_fakeshop import FakeshopProvider, FakeshopSandbox

from orderstatus import (
    AsyncClient,
    Capabilities,
    OrderState,
    RetryPolicy,
    WebhookContentTypeError,
    hookimpl,
)
from orderstatus.plugins import Registry
from orderstatus.stores import SQLiteStore
from orderstatus.testing.asgi import serve
from orderstatus.tracking import Outcome, Tracker
from orderstatus.webhooks import WebhookReceiver, WebhookResponse, webhook_app

FAST = RetryPolicy(attempts=2, total=5, backoff=0.001, backoff_max=0.002)
JSON = {"content-type": "application/json"}


class Hookshop(FakeshopProvider):
    """Fakeshop, with a parser that tells a wrong content type from a malformed body."""

    name = "hookshop"
    title = "Hookshop"

    def parse_webhook(self, body: bytes, headers: httpx.Headers,
                      query: httpx.QueryParams) -> str:
        media = headers.get("content-type", "").split(";")[0].strip()
        if media != "application/json":
            raise WebhookContentTypeError(
                f"content type must be application/json, not {media or 'none'}",
                provider=self.name,
            )
        return super().parse_webhook(body, headers, query)


class Quietshop(FakeshopProvider):
    """Fakeshop without webhooks."""

    name = "quietshop"
    title = "Quietshop"
    capabilities = Capabilities(fetch=True)


class Sandbox(FakeshopSandbox):
    provider = "hookshop"


class Plugin:
    @hookimpl
    def orderstatus_register_providers(self, register: Any) -> None:
        register(Hookshop, sandbox=Sandbox)
        register(Quietshop)


def registry() -> Registry:
    found = Registry()
    found.add_plugin(Plugin(), "hookshop")
    return found


class Gate(httpx.AsyncBaseTransport):
    """Answers from the sandbox at once, but hands the answer over only when opened."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.inner = sandbox.transport()
        self.opened = asyncio.Event()
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        response = await self.inner.handle_async_request(request)
        await self.opened.wait()
        return response


class Harness:
    def __init__(self, *, gated: bool = False, **settings: Any) -> None:
        self.sandbox = Sandbox()
        self.gate = Gate(self.sandbox)
        self.registry = registry()
        options = {**self.sandbox.settings("http://127.0.0.1/"), **settings}
        self.client = AsyncClient(
            {"hookshop": options, "quietshop": options},
            transport=self.gate if gated else self.sandbox.transport(), retry=FAST,
            registry=self.registry,
        )
        self.tracker = Tracker(registry=self.registry)
        self.receiver = WebhookReceiver(self.client, self.tracker, max_body=1024)

    async def post(self, order_id: str, *, provider: str = "hookshop",
                   **options: Any) -> WebhookResponse:
        options.setdefault("headers", JSON)
        body = options.pop("body", json.dumps({"order": order_id}))
        return await self.receiver.receive(provider, body=body, **options)

    def gets(self, order_id: str) -> int:
        return self.sandbox.requests.count(("GET", f"/v1/orders/{order_id}"))


@pytest.fixture
def harness() -> Harness:
    return Harness()


def test_a_notification_is_answered_200_once_the_status_is_stored(harness: Harness) -> None:
    order = harness.sandbox.create_order()

    async def main() -> tuple[WebhookResponse, WebhookResponse]:
        first = await harness.post(order)
        assert harness.tracker.state("hookshop", order) is OrderState.CREATED
        harness.sandbox.set_status(order, "making")
        return first, await harness.post(order)

    first, second = asyncio.run(main())
    assert (first.status, first.body) == (
        200, {"result": "change", "order_id": order, "state": "created"})
    assert (second.status, second.body["result"], second.body["state"]) == (
        200, "change", "in_production")
    assert [e.outcome for e in harness.tracker.history("hookshop", order)] == [
        Outcome.CHANGE, Outcome.CHANGE]


def test_a_repeated_notification_is_a_duplicate(harness: Harness) -> None:
    order = harness.sandbox.create_order()

    async def main() -> list[WebhookResponse]:
        return [await harness.post(order) for _ in range(3)]

    answers = asyncio.run(main())
    assert [(a.status, a.body["result"]) for a in answers] == [
        (200, "change"), (200, "duplicate"), (200, "duplicate")]


def test_ids_the_provider_does_not_know_are_acknowledged_without_side_effects(
    harness: Harness,
) -> None:
    answer = asyncio.run(harness.post("F-forged"))
    assert (answer.status, answer.body) == (200, {"result": "ignored", "order_id": "F-forged"})
    assert harness.tracker.tracked() == []
    assert harness.tracker.history("hookshop", "F-forged") == []


def test_a_fetch_that_may_succeed_later_answers_503_so_the_provider_retries(
    harness: Harness,
) -> None:
    order = harness.sandbox.create_order()
    harness.sandbox.faults.inject("status", status=502, times=2)

    async def main() -> tuple[WebhookResponse, WebhookResponse]:
        return await harness.post(order), await harness.post(order)

    failed, retried = asyncio.run(main())
    assert failed.status == 503
    assert "retry later" in failed.body["error"]
    assert retried.status == 200
    assert [e.outcome for e in harness.tracker.history("hookshop", order)] == [Outcome.CHANGE]


def test_a_fetch_that_cannot_succeed_answers_500_and_leaks_nothing() -> None:
    harness = Harness(api_key="wrong-key+/=")
    order = harness.sandbox.create_order()
    answer = asyncio.run(harness.post(order))
    assert answer.status == 500
    assert "wrong-key" not in json.dumps(answer.body)
    assert harness.tracker.tracked() == []


@pytest.mark.parametrize(
    ("provider", "options", "status"),
    [
        ("nope", {}, 404),
        ("quietshop", {}, 404),
        ("hookshop", {"method": "GET"}, 405),
        ("hookshop", {"method": "PUT"}, 405),
        ("hookshop", {"body": b"x" * 1025}, 413),
        ("hookshop", {"headers": {"content-type": "text/plain"}}, 415),
        ("hookshop", {"headers": {}}, 415),
        ("hookshop", {"body": b"{not json"}, 400),
        ("hookshop", {"body": b'{"order": 7}'}, 400),
        ("hookshop", {"body": b'{"order": "../admin"}'}, 400),
        ("hookshop", {"body": b'{"order": ""}'}, 400),
    ],
)
def test_bad_requests_are_refused_before_any_fetch(
    harness: Harness, provider: str, options: dict[str, Any], status: int
) -> None:
    answer = asyncio.run(harness.post("F-1", provider=provider, **options))
    assert answer.status == status
    assert answer.body["error"]
    assert harness.sandbox.requests == []
    if status == 405:
        assert answer.headers == {"allow": "POST"}


def test_concurrent_duplicates_share_one_fetch(harness: Harness) -> None:
    order = harness.sandbox.create_order()

    async def main() -> list[WebhookResponse]:
        return list(await asyncio.gather(*(harness.post(order) for _ in range(10))))

    answers = asyncio.run(main())
    assert {a.status for a in answers} == {200}
    assert harness.gets(order) == 1
    assert len(harness.tracker.history("hookshop", order)) == 1


def test_a_notification_arriving_mid_fetch_waits_for_a_fresh_one() -> None:
    """A fetch already on the wire may predate the change a new notification is about, so
    later arrivals share the *next* fetch rather than the one in flight."""
    harness = Harness(gated=True)
    sandbox, gate = harness.sandbox, harness.gate
    order = sandbox.create_order()

    async def main() -> list[WebhookResponse]:
        first = asyncio.ensure_future(harness.post(order))
        while gate.calls == 0:
            await asyncio.sleep(0)
        sandbox.set_status(order, "making")
        later = [asyncio.ensure_future(harness.post(order)) for _ in range(5)]
        await asyncio.sleep(0.01)
        assert gate.calls == 1
        gate.opened.set()
        return [await first, *[await task for task in later]]

    first, *later = asyncio.run(main())
    assert first.body["state"] == "created"
    assert {a.body["state"] for a in later} == {"in_production"}
    assert gate.calls == 2
    changes = [e.change for e in harness.tracker.history("hookshop", order) if e.change]
    assert [c.current for c in changes] == [OrderState.CREATED, OrderState.IN_PRODUCTION]


def test_a_caller_that_goes_away_does_not_cancel_the_recording() -> None:
    harness = Harness(gated=True)
    order = harness.sandbox.create_order()

    async def main() -> None:
        task = asyncio.ensure_future(harness.post(order))
        while harness.gate.calls == 0:
            await asyncio.sleep(0)
        task.cancel()
        harness.gate.opened.set()
        for _ in range(100):
            if harness.tracker.current("hookshop", order) is not None:
                return
            await asyncio.sleep(0.005)

    asyncio.run(main())
    assert harness.tracker.state("hookshop", order) is OrderState.CREATED


# -- the ASGI app ----------------------------------------------------------------------------


@pytest.fixture
def served(harness: Harness) -> Iterator[str]:
    with serve(webhook_app(harness.receiver)) as url:
        yield url


def test_the_app_serves_post_webhooks_provider_over_http(harness: Harness, served: str) -> None:
    order = harness.sandbox.create_order()
    with httpx.Client(base_url=served) as http:
        answer = http.post("webhooks/hookshop", json={"order": order})
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == {"result": "change", "order_id": order, "state": "created"}
        assert http.post("webhooks/hookshop/", json={"order": order}).json()["result"] == (
            "duplicate")
        wrong = http.get("webhooks/hookshop")
        assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")
        assert http.post("webhooks/hookshop", content=b"{}",
                         headers={"content-type": "text/plain"}).status_code == 415
        assert http.post("webhooks/hookshop", content=b"x" * 5000, headers=JSON
                         ).status_code == 413
        assert http.post("webhooks/nope", json={}).status_code == 404
        assert http.post("elsewhere/hookshop", json={}).status_code == 404
        assert http.post("webhooks/hook/shop", json={}).status_code == 404
    assert harness.tracker.state("hookshop", order) is OrderState.CREATED


def test_the_app_honours_its_mount_point(harness: Harness) -> None:
    """Mounted under ``/hooks`` (``root_path``), as Starlette and FastAPI mount apps."""
    order = harness.sandbox.create_order()
    app = webhook_app(harness.receiver, prefix="/")

    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, root_path="/hooks")
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            return [
                await http.post("/hooks/hookshop", json={"order": order}),
                await http.post("/hooks/", json={"order": order}),
            ]

    mounted, bare = asyncio.run(main())
    assert (mounted.status_code, mounted.json()["state"]) == (200, "created")
    assert bare.status_code == 404


def test_the_app_answers_the_lifespan_protocol(harness: Harness) -> None:
    app = webhook_app(harness.receiver)
    events = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(events)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_the_health_check_answers_while_the_app_serves(harness: Harness, served: str) -> None:
    with httpx.Client(base_url=served) as http:
        up = http.get("healthz")
        assert (up.status_code, up.json()) == (200, {"status": "ok"})
        assert up.headers["cache-control"] == "no-store"
        head = http.head("healthz")
        assert (head.status_code, head.content) == (200, b"")
        posted = http.post("healthz")
        assert (posted.status_code, posted.headers["allow"]) == (405, "GET, HEAD")
    assert harness.sandbox.requests == []  # no provider is asked


def test_the_health_check_does_not_check_the_store(harness: Harness, tmp_path: Path) -> None:
    """It says the process serves; a broken store shows as 500s to the providers instead."""
    broken = SQLiteStore(tmp_path / "gone.sqlite3")
    broken.close()
    receiver = WebhookReceiver(harness.client, Tracker(broken, registry=harness.registry))
    order = harness.sandbox.create_order()

    async def main() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=webhook_app(receiver))
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            return (await http.get("/healthz"),
                    await http.post("/webhooks/hookshop", json={"order": order}))

    health, hook = asyncio.run(main())
    assert (health.status_code, hook.status_code) == (200, 500)


@pytest.mark.parametrize(("options", "root_path", "path", "status"), [
    ({"prefix": "/"}, "/hooks", "/hooks/healthz", 200),
    ({"health": "/status/"}, "", "/status", 200),
    ({"health": "/status"}, "", "/healthz", 404),
    ({"health": None}, "", "/healthz", 404),
])
def test_the_health_check_path_can_move_or_go(
    harness: Harness, options: dict[str, Any], root_path: str, path: str, status: int
) -> None:
    app = webhook_app(harness.receiver, **options)

    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, root_path=root_path)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            return await http.get(path)

    assert asyncio.run(main()).status_code == status
