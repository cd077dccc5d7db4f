"""One conformance run against a provider's sandbox: the steps, each acting then checking.

A :class:`Session` moves the sandbox and asks the client (fetches, updates, webhooks, feeds,
failures), keeps the :class:`~._model.Model` in step with what it did, and hands every answer
to :class:`~._checks.Checks`. The Hypothesis state machine (:mod:`._machine`) draws the steps;
the exhaustive tests of :mod:`orderstatus.testing.conformance` call them in loops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import httpx

from orderstatus.client import Client
from orderstatus.errors import OrderStatusError, TransitionNotAllowedError, UpdateNotSupportedError
from orderstatus.lifecycle import OrderState
from orderstatus.mapping import StatusMapper
from orderstatus.models import OrderStatus, Secret
from orderstatus.plugins import Registry
from orderstatus.provider import Provider
from orderstatus.retry import RetryPolicy
from orderstatus.settings import settings_from_mapping

from ._checks import Checks
from ._model import Model, ModelOrder
from .sandbox import Delivery, Sandbox

__all__ = ["BAD_IDS", "FAULTS", "GOALS", "Config", "Session", "sandbox_moves_items"]

FAST = RetryPolicy(attempts=2, total=5.0, backoff=0.0, backoff_max=0.0, retry_after_max=0.0)
BAD_IDS = ("a/b", "..", "a?b", "a#b", " x", "a\nb", "x" * 200)
FAULTS: tuple[dict[str, Any], ...] = (
    {"kind": "status", "status": 500, "times": 9},
    {"kind": "status", "status": 503, "times": 9},
    {"kind": "rate_limit", "retry_after": 1, "times": 9},
    {"kind": "reset", "times": 9},
    {"kind": "timeout", "times": 9},
    {"kind": "malformed", "times": 9},
    {"kind": "html", "times": 9},
    {"kind": "not_json", "times": 9},
)
GOALS = tuple(s for s in OrderState if s is not OrderState.UNKNOWN)
MISSING_ID = "conformance-missing-1"


@attrs.frozen
class Config:
    """What one run needs."""

    name: str
    provider: type[Provider]
    make_sandbox: Callable[[], Sandbox]
    registry: Registry
    per_item: bool
    base_url: str | None = None
    """Where the sandbox is served; ``None``: in-process."""
    serving: Callable[[Sandbox], None] | None = None
    """Tells the served app which sandbox to answer with."""

    def start(self) -> Sandbox:
        """A fresh sandbox, answering behind ``base_url`` when served."""
        sandbox = self.make_sandbox()
        if self.serving is not None:
            self.serving(sandbox)
        return sandbox

    def client(self, sandbox: Sandbox, settings: dict[str, Any]) -> Client:
        """A client for the provider against ``sandbox`` (in-process or served)."""
        return Client(
            {self.name: settings}, transport=None if self.base_url else sandbox.transport(),
            registry=self.registry, retry=FAST, sleep=lambda _: None,
        )

    def settings(self, sandbox: Sandbox) -> dict[str, Any]:
        return sandbox.settings(self.base_url or "http://127.0.0.1/")


def sandbox_moves_items(config: Config) -> bool:
    """Whether the sandbox moves single items (``set_status(..., items=[1])``)."""
    sandbox = config.start()
    key = config.provider.native_key
    with config.client(sandbox, config.settings(sandbox)) as client:
        order_id = sandbox.create_order(items=2)
        first = client.fetch(config.name, order_id).items
        if len(first) != 2:
            return False
        other = next(
            (n for n in sorted(config.provider.native_statuses)
             if key(n) != key(first[0].native_status)
             and config.provider.native_statuses[n].state is not OrderState.UNKNOWN),
            None,
        )
        if other is None:
            return False
        try:
            sandbox.set_status(order_id, other, items=[1])
        except (TypeError, ValueError, KeyError, NotImplementedError):
            return False
        items = client.fetch(config.name, order_id).items
    return [key(i.native_status) for i in items] == [key(first[0].native_status), key(other)]


class Session:
    """A sandbox, a client for it, the model and the checks: every step of the suite."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.name = config.name
        self.sandbox = config.start()
        self.settings = config.settings(self.sandbox)
        self.client = config.client(self.sandbox, self.settings)
        self.provider = self.client.provider(self.name)
        registry = config.registry
        override = registry.map_override if registry.has_map_overrides else None
        self.model = Model(config.provider, StatusMapper(config.provider, override),
                           per_item=config.per_item)
        self.checks = Checks(self.name, self.model, registry, set(self.provider.secrets()))
        self.cursor: str | None = None
        if config.provider.capabilities.webhook:
            self.sandbox.subscribe(f"http://127.0.0.1:9/webhooks/{self.name}")

    def close(self) -> None:
        self.client.close()
        self.checks.close()

    def fetch(self, order: ModelOrder, why: str) -> OrderStatus:
        """Fetch ``order``; any error fails the run."""
        try:
            return self.client.fetch(self.name, order.id)
        except Exception as err:
            self.checks.failed(err, f"fetch of order {order.id!r} ({why})")

    # -- orders and moves -------------------------------------------------------------------

    def new_order(self, items: int) -> str:
        """Create an order in the sandbox, fetch it and start modelling it."""
        order_id = self.sandbox.create_order(items=items)
        status = self.client.fetch(self.name, order_id)
        order = self.model.add(order_id, status.native_statuses)
        self.checks.new_order(order, items, status)
        self.checks.status(order, status, "fetched after creation")
        return order_id

    def move_to(self, order_id: str, native: str, positions: tuple[int, ...] | None = None,
                *, wait: int = 1) -> None:
        """Set ``native`` in the sandbox (on some items, or all), then fetch and check."""
        order = self.model.orders[order_id]
        self.sandbox.advance(wait, deliver=False)
        self.sandbox.set_status(order_id, native, items=positions)
        self.model.set(order, native, positions)
        self.checks.status(order, self.fetch(order, "after a sandbox move"), "fetched")

    # -- updates ----------------------------------------------------------------------------

    def try_update(self, order_id: str, goal: OrderState) -> None:
        """Update through the client: as the rules decide, and as the sandbox enforces."""
        order = self.model.orders[order_id]
        current = self.fetch(order, "before an update")
        self.checks.status(order, current, "fetched")
        verdict = self.model.verdict(order, goal)
        sent = len(self.sandbox.requests)
        action = f"update of {self.model.describe(order)} to {goal}"
        refusal: OrderStatusError | None = None
        try:
            result = self.client.update(self.name, order_id, goal, current=current)
        except (TransitionNotAllowedError, UpdateNotSupportedError) as err:
            refusal = err
        except Exception as err:
            self.checks.clean(err, action)
            self.checks.fail(f"{action} failed although the rules allow it: {err}")
        if refusal is not None:  # checked here, so a failure does not chain the refusal
            self.checks.clean(refusal, action)
            self.checks.refused(verdict, refusal, self.sandbox.requests[sent:], action)
            if verdict is not None and verdict.native_target is not None:
                self.probe_update(order, goal, verdict.native_target)
            return
        native = self.checks.allowed(verdict, action)
        self.updated(order, native, result, "the update")

    def updated(self, order: ModelOrder, native: str, result: OrderStatus, how: str) -> None:
        """Apply a successful update to the model; check what the client returned and shows."""
        legal = self.model.updated(order, native)
        self.checks.status(order, result, f"returned by {how}", anomaly_ok=not legal)
        self.checks.status(order, self.fetch(order, f"after {how}"), f"fetched after {how}",
                           anomaly_ok=not legal)

    def probe_update(self, order: ModelOrder, target: OrderState, native: str) -> None:
        """Send a refused update straight to the sandbox: it must refuse it too, as the real
        provider does (the client's own check is the rules; this is the provider's)."""
        try:
            response = self.client.send(
                self.name, self.provider.build_update(order.id, native), order_id=order.id
            )
            self.provider.parse_update(order.id, response)
            accepted = True
        except OrderStatusError:
            accepted = False
        after = self.fetch(order, "after a refused update sent directly")
        self.checks.sandbox_refused(order, target, native, accepted, after)

    # -- notifications and feeds ------------------------------------------------------------

    def deliver_webhooks(self) -> None:
        """Hand every due sandbox webhook to the client; each names a modelled order."""

        def post(delivery: Delivery) -> int:
            url = httpx.URL(delivery.url)
            action = f"handling the sandbox's webhook {delivery.body[:60]!r}"
            try:
                status = self.client.handle_webhook(
                    self.name, body=delivery.body, headers={"content-type": delivery.content_type},
                    query=url.query.decode(),
                )
            except Exception as err:
                self.checks.failed(err, action)
            order = self.model.orders.get(status.order_id)
            if order is None:
                self.checks.fail(f"a webhook named order {status.order_id!r}, never created")
            self.checks.status(order, status, "fetched for a webhook")
            return 200

        self.sandbox.webhooks.deliver_due(post)

    def read_feed(self) -> None:
        try:
            page = self.client.feed(self.name, since=self.cursor)
        except Exception as err:
            self.checks.failed(err, "reading the feed")
        self.cursor = page.cursor
        for status in page.statuses:
            self.checks.feed_entry(status)

    # -- failures ---------------------------------------------------------------------------

    def fetch_missing(self) -> None:
        action = "fetch of an order the sandbox does not know"
        try:
            self.client.fetch(self.name, MISSING_ID)
        except Exception as err:
            self.checks.not_found(err, action)
            return
        self.checks.fail(f"{action} succeeded")

    def fetch_failing(self, order_id: str, fault: dict[str, Any]) -> None:
        action = f"fetch while the sandbox injects {fault['kind']} faults"
        self.sandbox.faults.inject(**fault)
        try:
            self.client.fetch(self.name, order_id)
        except Exception as err:
            self.checks.clean(err, action)
        finally:
            self.sandbox.faults.clear()

    def with_wrong_credentials(self, order_id: str, goal: OrderState) -> None:
        """Wrong secrets: refused as AuthenticationError where used, shown nowhere."""
        cls = self.config.provider
        values = settings_from_mapping(self.name, cls.settings_class, self.settings)
        wrong = dict(self.settings)
        for field in attrs.fields(type(values)):
            value = getattr(values, field.name)
            if isinstance(value, Secret):
                wrong[field.name] = value.reveal()[::-1] + "-wrong&x"
        order = self.model.orders[order_id]
        with self.config.client(self.sandbox, wrong) as client:
            self.checks.secrets.update(client.provider(self.name).secrets())
            action = "fetch with wrong credentials"
            try:
                client.fetch(self.name, order_id)
            except Exception as err:
                self.checks.credentials_refused(err, action)
            verdict = self.model.verdict(order, goal)
            if verdict is None or not verdict.allowed or verdict.native_target is None:
                return
            action = f"update of {self.model.describe(order)} to {goal} with wrong credentials"
            try:
                result = client.update(self.name, order_id, goal)
            except Exception as err:
                self.checks.clean(err, action)
                return
        self.updated(order, verdict.native_target, result, "an update with wrong credentials")

    def bad_order_id(self, order_id: str) -> None:
        sent = len(self.sandbox.requests)
        error: BaseException | None = None
        try:
            self.client.fetch(self.name, order_id)
        except Exception as err:
            error = err
        self.checks.bad_id_refused(error, order_id, len(self.sandbox.requests) != sent)
