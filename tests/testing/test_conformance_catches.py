"""The conformance suite passes a correct provider and names what is wrong with broken ones."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import unittest
from collections.abc import Generator, Iterable, Iterator
from typing import Any, ClassVar

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, settings

from orderstatus import (
    Capabilities,
    NativeStatus,
    OrderState,
    ParsedItem,
    ParsedOrder,
    Provider,
    Registry,
    Secret,
    UpdateRejectedError,
    UpdateRules,
    hookimpl,
)
from orderstatus.testing import conformance
from orderstatus.testing.sandbox import EPOCH, Sandbox

KEY = "w1dget+key/=&"
QUICK = settings(max_examples=40, stateful_step_count=15, deadline=None, database=None,
                 suppress_health_check=list(HealthCheck))


@attrs.frozen
class WidgetSettings:
    api_key: Secret
    base_url: str | None = None


class KeyAuth(httpx.Auth):
    """Sends the key in a header."""

    def __init__(self, key: str) -> None:
        self.key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["x-key"] = self.key
        yield request


class Widget(Provider):
    """A correct per-item provider: GET orders/{id}, POST orders/{id}/status?to=…, webhooks."""

    name = "widget"
    title = "Widget"
    settings_class = WidgetSettings
    default_base_url = "https://widget.invalid/api/"
    native_statuses: ClassVar[dict[str, NativeStatus]] = {
        "new": NativeStatus(OrderState.CREATED),
        "paused": NativeStatus(OrderState.ON_HOLD),
        "making": NativeStatus(OrderState.IN_PRODUCTION),
        "sent": NativeStatus(OrderState.SHIPPED),
        "void": NativeStatus(OrderState.CANCELLED),
    }
    update_rules = UpdateRules(frozenset({"new"}),
                               {OrderState.CANCELLED: "void", OrderState.ON_HOLD: "paused"})
    capabilities = Capabilities(update=True, webhook=True)

    def auth(self) -> httpx.Auth:
        return KeyAuth(self.settings.api_key.reveal())

    def build_fetch(self, order_id: str) -> httpx.Request:
        return httpx.Request("GET", self.base_url.join(f"orders/{order_id}"))

    def parse_fetch(self, order_id: str, response: httpx.Response) -> ParsedOrder:
        data = self.json(order_id, response)
        items = tuple(ParsedItem(str(n), s) for n, s in enumerate(data["items"]))
        return ParsedOrder(order_id, items=items, raw=data)

    def build_update(self, order_id: str, native_target: str) -> httpx.Request:
        return httpx.Request("POST", self.base_url.join(f"orders/{order_id}/status"),
                             params={"to": native_target})

    def parse_update(self, order_id: str, response: httpx.Response) -> None:
        if self.json(order_id, response).get("refused"):
            raise UpdateRejectedError("widget refused the update")

    def parse_webhook(self, body: bytes, headers: httpx.Headers,
                      query: httpx.QueryParams) -> str:
        return str(json.loads(body)["order"])


class WidgetSandbox(Sandbox):
    """Enforces the key and the update rules, like the real Widget would."""

    provider = "widget"
    sources: ClassVar[frozenset[str]] = frozenset({"new"})

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, list[str]] = {}

    def settings(self, base_url: str) -> dict[str, Any]:
        return {"api_key": KEY, "base_url": base_url}

    def create_order(self, *, items: int = 1, **options: Any) -> str:
        order_id = self.new_id("W")
        self.orders[order_id] = ["new"] * items
        return order_id

    def set_status(self, order_id: str, status: str, *, items: Iterable[int] | None = None,
                   **details: Any) -> None:
        if status not in Widget.native_statuses:
            raise ValueError(f"unknown status {status!r}")
        order = self.orders[order_id]
        for n in range(len(order)) if items is None else items:
            order[n] = status
        self.notify(order_id)

    def webhook_notification(self, order_id: str) -> tuple[bytes, str, str]:
        return json.dumps({"order": order_id}).encode(), "application/json", ""

    def route(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-key") != KEY:
            return self.json_response(401, {"error": "bad key"})
        path = request.url.path
        order_id = path.split("/orders/", 1)[-1].removesuffix("/status")
        order = self.orders.get(order_id)
        if order is None:
            return self.json_response(404, {"error": "no such order"})
        if request.method == "POST":
            if any(s not in self.sources for s in order):
                return self.json_response(200, {"refused": True})
            self.set_status(order_id, request.url.params["to"])
            return self.json_response(200, {"refused": False})
        return self.json_response(200, {"items": order})


# -- deliberately broken ------------------------------------------------------------------------


class ShoutingSandbox(WidgetSandbox):
    """Answers statuses in capitals, which the provider's table does not know."""

    def route(self, request: httpx.Request) -> httpx.Response:
        response = super().route(request)
        data = json.loads(response.content)
        if "items" in data:
            data["items"] = [s.upper() for s in data["items"]]
        return self.json_response(response.status_code, data)


class LaxSandbox(WidgetSandbox):
    """Accepts every update, whatever the rules say."""

    sources = frozenset(Widget.native_statuses)


class OverpromisingWidget(Widget):
    """Its rules claim 'making' orders can be cancelled; the provider refuses that."""

    update_rules = UpdateRules(frozenset({"new", "making"}),
                               {OrderState.CANCELLED: "void", OrderState.ON_HOLD: "paused"})


class TattlingAuth(KeyAuth):
    """Raises a plain exception naming the key when it is refused."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["x-key"] = self.key
        response = yield request
        if response.status_code == 401:
            raise PermissionError(f"key {self.key} was refused")


class BackwardsWidget(Widget):
    """Reads a timestamp that runs backwards from one answer to the next."""

    ticks: ClassVar[Iterator[int]] = itertools.count()

    def parse_fetch(self, order_id: str, response: httpx.Response) -> ParsedOrder:
        moment = EPOCH - dt.timedelta(minutes=next(self.ticks))
        return attrs.evolve(super().parse_fetch(order_id, response), provider_time=moment)


class LeakyWidget(Widget):
    def auth(self) -> httpx.Auth:
        return TattlingAuth(self.settings.api_key.reveal())


TESTS = ("test_tables", "test_statuses", "test_update_rules", "test_errors", "test_lifecycle")


def registry_of(provider: type[Provider], sandbox: type[Sandbox]) -> Registry:
    class Plugin:
        @staticmethod
        @hookimpl
        def orderstatus_register_providers(register: Any) -> None:
            register(provider, sandbox=sandbox)

    registry = Registry()
    registry.add_plugin(Plugin, "widget")
    assert registry.names == ("widget",), registry.failures
    return registry


def run(case: type[unittest.TestCase], test: str) -> str:
    """Run one test of a conformance class; return its failure text ('' when it passed)."""
    result = unittest.TestResult()
    case(test).run(result)
    assert not result.errors, result.errors[0][1]
    return result.failures[0][1] if result.failures else ""


@pytest.mark.parametrize("over_http", [False, True])
def test_a_correct_provider_passes(over_http: bool) -> None:
    case = conformance.suite("widget", registry=registry_of(Widget, WidgetSandbox),
                             over_http=over_http, settings=QUICK)
    for test in TESTS:
        assert run(case, test) == ""


@pytest.mark.parametrize(
    ("provider", "sandbox", "test", "message"),
    [
        (Widget, ShoutingSandbox, "test_statuses",
         r"widget: a new sandbox order fetched as unknown with native statuses \['NEW'(, 'NEW')*\]"
         r", which the table does not map"),
        (Widget, LaxSandbox, "test_update_rules",
         "widget: the sandbox accepted an update its rules refuse: sandbox status 'making' to "
         r"cancelled \('void'\); update sources: new"),
        (OverpromisingWidget, WidgetSandbox, "test_update_rules",
         r"widget: update of sandbox status 'making' to cancelled failed although "
         r"the rules allow it: widget order 'W\d+': widget refused the update"),
        (LeakyWidget, WidgetSandbox, "test_errors",
         r"widget: fetch with wrong credentials raised PermissionError showing a credential: "
         r"raw credential in the PermissionError str"),
        (BackwardsWidget, WidgetSandbox, "test_lifecycle",
         r"widget: order 'W\d+': provider_time went backwards "
         r"\(2025-12-31T\d\d:\d\d:00\+00:00 then "),
    ],
    ids=["wrong-mapping", "sandbox-ignores-rules", "rules-not-enforced", "leaking-error",
         "time-runs-backwards"],
)
def test_a_broken_provider_fails_saying_what_is_wrong(
    provider: type[Provider], sandbox: type[Sandbox], test: str, message: str
) -> None:
    case = conformance.suite("widget", registry=registry_of(provider, sandbox), settings=QUICK)
    assert run(case, "test_tables") == ""
    failure = run(case, test)
    assert failure, "the suite passed a broken provider"
    assert re.search(message, failure), failure


class Untidy(Widget):
    """Tables that contradict themselves."""

    native_statuses: ClassVar[dict[str, NativeStatus]] = {
        **Widget.native_statuses, "gone": NativeStatus(OrderState.CANCELLED),
    }
    update_rules = UpdateRules(frozenset({"new", "gone"}),
                               {OrderState.CREATED: "void", OrderState.ON_HOLD: "paused"})
    capabilities = Capabilities(update=False, webhook=True)


def test_incoherent_tables_are_named() -> None:
    case = conformance.suite("widget", registry=registry_of(Untidy, WidgetSandbox))
    failure = run(case, "test_tables")
    assert "widget: update_rules are set but capabilities say update=False" in failure
    assert "widget: update target created sends 'void', which the table maps to cancelled" \
        in failure
    assert "widget: update rules let an order leave terminal state cancelled: source 'gone' " \
        "may be updated to created, on_hold" in failure


def test_a_provider_without_a_sandbox_is_told_how_to_register_one() -> None:
    class Plugin:
        @staticmethod
        @hookimpl
        def orderstatus_register_providers(register: Any) -> None:
            register(Widget)

    registry = Registry()
    registry.add_plugin(Plugin, "widget")
    failure = run(conformance.suite("widget", registry=registry), "test_lifecycle")
    assert "widget: no sandbox is registered; call register(Provider, sandbox=" in failure


def test_suite_classes_are_collected_and_the_base_is_not() -> None:
    case = conformance.suite("widget")
    assert issubclass(case, unittest.TestCase)
    assert case.__test__ is True  # type: ignore[attr-defined]
    assert conformance.ConformanceTestCase.__test__ is False
    assert case.__name__ == "Conformance_widget"
