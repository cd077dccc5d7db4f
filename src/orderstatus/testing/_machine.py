"""The state machine behind :mod:`orderstatus.testing.conformance`.

It drives a provider's sandbox through legal moves and the provider's client through
fetches, updates, webhooks, feeds and failures, and checks each answer against the
provider's own table and rules. Every failure is an ``AssertionError`` whose message starts
with the provider's name and says what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs
import httpx
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from orderstatus.client import Client
from orderstatus.errors import (
    AuthenticationError,
    InvalidOrderIdError,
    OrderNotFoundError,
    OrderStatusError,
    TransitionNotAllowedError,
    UpdateNotSupportedError,
)
from orderstatus.lifecycle import TERMINAL, OrderState, aggregate, can_transition
from orderstatus.mapping import StatusMapper
from orderstatus.models import OrderStatus, Secret
from orderstatus.plugins import Registry
from orderstatus.provider import Provider
from orderstatus.retry import RetryPolicy
from orderstatus.settings import settings_from_mapping
from orderstatus.tracking import Tracker

from .leaks import credential_leaks
from .sandbox import Sandbox

__all__ = ["Config", "ConformanceMachine"]

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
Move = tuple[tuple[int, ...] | None, str]
"""Item positions (``None``: the whole order) and the native status to set."""


@attrs.frozen
class Config:
    """What one run of the machine needs."""

    name: str
    provider: type[Provider]
    make_sandbox: Callable[[], Sandbox]
    registry: Registry
    per_item: bool
    base_url: str | None = None
    """Where the sandbox is served; ``None``: in-process."""
    serving: Callable[[Sandbox], None] | None = None
    """Tells the served app which sandbox to answer with."""


@attrs.define
class _Order:
    id: str
    natives: list[str]
    """Native status per item (all alike for order-level providers)."""
    states: set[OrderState] = attrs.field(factory=set)
    """Every state the order has been in."""
    terminal: OrderState | None = None


def client_for(config: Config, sandbox: Sandbox, settings: dict[str, Any]) -> Client:
    """A client for ``config.name`` against ``sandbox`` (in-process or served)."""
    transport = None if config.base_url else sandbox.transport()
    return Client(
        {config.name: settings}, transport=transport, registry=config.registry, retry=FAST,
        sleep=lambda _: None,
    )


class _Observer:
    """Feeds every observation to a :class:`~orderstatus.Tracker` and checks where it ends."""

    def __init__(self, fail: Callable[[str], None], registry: Registry) -> None:
        self.fail = fail
        self.last: dict[str, OrderStatus] = {}
        self.tracker = Tracker(registry=registry, keep_duplicates=False)

    def observe(self, status: OrderStatus, how: str, *, anomaly_ok: bool) -> None:
        before = self.last.get(status.order_id)
        where = f"order {status.order_id!r}"
        if before is not None and before.provider_time and status.provider_time and (
            status.provider_time < before.provider_time
        ):
            self.fail(
                f"{where}: provider_time went backwards ({before.provider_time.isoformat()} "
                f"then {status.provider_time.isoformat()}) from one observation to the next "
                f"({how}); a tracker drops the newer status as stale"
            )
        self.last[status.order_id] = status
        change = self.tracker.observe(status)
        held = self.tracker.state(status.provider, status.order_id)
        if held is not status.state:
            self.fail(f"{where}: a tracker holds {held} after a status {how} as {status.state} "
                      "(the newer status was taken for a stale one)")
        if change is not None and change.anomaly and not anomaly_ok:
            self.fail(f"{where}: {change.previous} -> {change.current} ({how}) is flagged as an "
                      "anomaly although the sandbox moved legally")

    def close(self) -> None:
        self.tracker.close()


class ConformanceMachine(RuleBasedStateMachine):
    """Moves the sandbox, asks the client, and checks every answer."""

    orders = Bundle("orders")

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.name = config.name
        self.cls = config.provider
        self.sandbox = config.make_sandbox()
        if config.serving is not None:
            config.serving(self.sandbox)
        self.settings = self.sandbox.settings(config.base_url or "http://127.0.0.1/")
        self.client = client_for(config, self.sandbox, self.settings)
        self.provider = self.client.provider(self.name)
        override = config.registry.map_override if config.registry.has_map_overrides else None
        self.mapper = StatusMapper(self.cls, override)
        self.key = self.cls.native_key
        self.secrets = set(self.provider.secrets())
        self.model: dict[str, _Order] = {}
        self.observer = _Observer(self.fail, config.registry)
        self.cursor: str | None = None
        self.webhooks = self.cls.capabilities.webhook
        targets = sorted(self.cls.update_rules.targets) if self.cls.update_rules else []
        self.goals: st.SearchStrategy[OrderState] = st.sampled_from(GOALS)
        if targets:
            self.goals = st.sampled_from(targets) | self.goals
        if self.webhooks:
            self.sandbox.subscribe(f"http://127.0.0.1:9/webhooks/{self.name}")

    def teardown(self) -> None:
        self.client.close()
        self.observer.close()

    # -- helpers ----------------------------------------------------------------------------

    def fail(self, message: str) -> None:
        raise AssertionError(f"{self.name}: {message}")

    def clean(self, error: BaseException, action: str) -> None:
        """Fail if ``error`` is not a core error or shows a credential."""
        leaks = credential_leaks(error, self.secrets)
        if leaks:
            self.fail(f"{action} raised {type(error).__name__} showing a credential: "
                      f"{'; '.join(leaks)}")
        if not isinstance(error, OrderStatusError):
            self.fail(f"{action} raised {type(error).__name__} ({error}), not an "
                      "orderstatus error")

    def expected(self, order: _Order) -> OrderState:
        return aggregate(self.mapper.native(n).state for n in order.natives)

    def describe(self, order: _Order) -> str:
        if len(set(order.natives)) == 1:
            return f"sandbox status {order.natives[0]!r}"
        return f"sandbox item statuses {order.natives!r}"

    def fetch(self, order: _Order, why: str) -> OrderStatus:
        try:
            return self.client.fetch(self.name, order.id)
        except Exception as err:
            self.clean(err, f"fetch of order {order.id!r} ({why})")
            self.fail(f"fetch of order {order.id!r} ({why}) failed: {err}")
            raise

    def check(self, order: _Order, status: OrderStatus, how: str, *,
              anomaly_ok: bool = False) -> None:
        """``status`` must show the order's sandbox state; then feed it to the tracker."""
        want = self.expected(order)
        if status.state is not want:
            self.fail(f"{self.describe(order)} {how} as {status.state}, table says {want}")
        natives = sorted(self.key(n) for n in status.native_statuses)
        if natives and set(natives) != {self.key(n) for n in order.natives}:
            shown = list(status.native_statuses)
            self.fail(f"{self.describe(order)} {how} with native statuses {shown!r}")
        if order.terminal is not None and status.state is not order.terminal:
            self.fail(f"order {order.id!r} left terminal state {order.terminal} for "
                      f"{status.state} ({how})")
        if status.state in TERMINAL:
            order.terminal = status.state
        order.states.add(status.state)
        self.observer.observe(status, how, anomaly_ok=anomaly_ok)

    def moves(self, order: _Order) -> list[Move]:
        """Sandbox moves that keep the order (and each item) on legal transitions."""
        now = self.expected(order)
        found: list[Move] = []
        table = sorted(self.cls.native_statuses)
        whole = [(None, n) for n in table]
        single = [((p,), n) for p in range(len(order.natives)) for n in table]
        for positions, native in whole + (single if self.config.per_item else []):
            chosen = range(len(order.natives)) if positions is None else positions
            after = list(order.natives)
            for p in chosen:
                after[p] = native
            if after == order.natives or not self._legal(order.natives, after, chosen):
                continue
            state = aggregate(self.mapper.native(n).state for n in after)
            if state is now or can_transition(now, state):
                found.append((positions, native))
        return found

    def _legal(self, before: list[str], after: list[str], chosen: Iterable[int]) -> bool:
        for p in chosen:
            old, new = self.mapper.native(before[p]).state, self.mapper.native(after[p]).state
            if old is not new and not can_transition(old, new):
                return False
        return True

    # -- rules ------------------------------------------------------------------------------

    @precondition(lambda self: len(self.model) < 3)
    @rule(target=orders, items=st.integers(1, 3))
    def create(self, items: int) -> str:
        return self.new_order(items)

    def new_order(self, items: int) -> str:
        """Create an order in the sandbox, fetch it and start modelling it."""
        order_id = self.sandbox.create_order(items=items)
        status = self.client.fetch(self.name, order_id)
        order = _Order(order_id, list(status.native_statuses))
        unmapped = [n for n in order.natives if self.mapper.native(n).state is OrderState.UNKNOWN]
        if unmapped:
            self.fail(f"a new sandbox order fetched as {status.state} with native statuses "
                      f"{unmapped!r}, which the table does not map")
        if len(order.natives) != items and self.config.per_item:
            self.fail(f"a sandbox order with {items} items fetched with {len(order.natives)}")
        self.model[order_id] = order
        self.check(order, status, "fetched after creation")
        return order_id

    @rule(order_id=orders, data=st.data(), wait=st.integers(1, 60))
    def move(self, order_id: str, data: st.DataObject, wait: int) -> None:
        order = self.model[order_id]
        candidates = self.moves(order)
        if not candidates:
            return
        positions, native = data.draw(st.sampled_from(candidates), label="move")
        self.move_to(order_id, native, positions, wait=wait)

    def move_to(self, order_id: str, native: str, positions: tuple[int, ...] | None = None,
                *, wait: int = 1) -> None:
        """Set ``native`` in the sandbox (on some items, or all), then fetch and check."""
        order = self.model[order_id]
        self.sandbox.advance(wait, deliver=False)
        self.sandbox.set_status(order_id, native, items=positions)
        for p in range(len(order.natives)) if positions is None else positions:
            order.natives[p] = native
        self.check(order, self.fetch(order, "after a sandbox move"), "fetched")

    def allowed(self, order: _Order, target: OrderState) -> str | None:
        """The native status the rules would set for ``target``, or ``None`` if refused."""
        rules = self.cls.update_rules
        if rules is None or not self.cls.capabilities.update:
            return None
        native = rules.targets.get(target)
        if native is None:
            return None
        # as the core decides: every item already at the target, or every item in a source
        sources = {self.key(s) for s in rules.sources}
        keys = [self.key(n) for n in order.natives]
        if all(k == self.key(native) for k in keys) or all(k in sources for k in keys):
            return native
        return None

    def updated(self, order: _Order, native: str, result: OrderStatus, how: str) -> None:
        """Apply a successful update to the model and check what the client returned."""
        before = self.expected(order)
        order.natives = [native] * len(order.natives)
        after = self.expected(order)
        legal = before is after or can_transition(before, after)
        self.check(order, result, f"returned by {how}", anomaly_ok=not legal)
        self.check(order, self.fetch(order, f"after {how}"), f"fetched after {how}",
                   anomaly_ok=not legal)

    @rule(order_id=orders, data=st.data())
    def update(self, order_id: str, data: st.DataObject) -> None:
        self.try_update(order_id, data.draw(self.goals, label="goal"))

    def try_update(self, order_id: str, goal: OrderState) -> None:
        """Update through the client; check it against the rules, the sandbox and the tracker."""
        order = self.model[order_id]
        current = self.fetch(order, "before an update")
        self.check(order, current, "fetched")
        sent = len(self.sandbox.requests)
        action = f"update of {self.describe(order)} to {goal}"
        refusal: OrderStatusError | None = None
        try:
            result = self.client.update(self.name, order_id, goal, current=current)
        except (TransitionNotAllowedError, UpdateNotSupportedError) as err:
            refusal = err
        except Exception as err:
            self.clean(err, action)
            self.fail(f"{action} failed although the rules allow it: {err}")
            raise
        if refusal is not None:  # checked here, so a failure does not chain the refusal
            self.clean(refusal, action)
            self.refused(order, goal, refusal, sent, action)
            return
        native = self.allowed(order, goal)
        if native is None:
            self.fail(f"{action} succeeded although the rules refuse it")
            return
        self.updated(order, native, result, "the update")

    def refused(self, order: _Order, target: OrderState, error: OrderStatusError,
                sent: int, action: str) -> None:
        rules = self.cls.update_rules
        if len(self.sandbox.requests) != sent:
            self.fail(f"{action} was refused ({type(error).__name__}) but sent a request: "
                      f"{self.sandbox.requests[sent:]}")
        if rules is None or not self.cls.capabilities.update:
            if not isinstance(error, UpdateNotSupportedError):
                self.fail(f"{action} raised {type(error).__name__}, expected "
                          "UpdateNotSupportedError (the provider declares no updates)")
            return
        if isinstance(error, UpdateNotSupportedError):
            self.fail(f"{action} raised UpdateNotSupportedError but the provider has rules")
        if self.allowed(order, target) is not None:
            self.fail(f"{action} was refused although the rules allow it: {error}")
        native = rules.targets.get(target)
        if native is not None:
            self.sandbox_refuses(order, target, native)

    def sandbox_refuses(self, order: _Order, target: OrderState, native: str) -> None:
        """The sandbox itself must refuse what the rules refuse, as the real provider does."""
        request = self.provider.build_update(order.id, native)
        transport = None if self.config.base_url else self.sandbox.transport()
        with httpx.Client(transport=transport, auth=self.provider.auth()) as http:
            response = http.send(request)
        accepted = response.is_success
        if accepted:
            try:
                self.provider.parse_update(order.id, response)
            except OrderStatusError:
                accepted = False
        status = self.fetch(order, "after a refused update sent directly")
        now = {self.key(n) for n in status.native_statuses}
        moved = now != {self.key(n) for n in order.natives}
        if accepted or moved:
            sources = ", ".join(sorted(self.cls.update_rules.sources if self.cls.update_rules
                                       else ()))
            self.fail(f"the sandbox accepted an update its rules refuse: {self.describe(order)} "
                      f"to {target} ({native!r}); update sources: {sources}")

    @precondition(lambda self: self.webhooks)
    @rule()
    def deliver_webhooks(self) -> None:
        def post(delivery: Any) -> int:
            url = httpx.URL(delivery.url)
            action = f"handling the sandbox's webhook {delivery.body[:60]!r}"
            try:
                status = self.client.handle_webhook(
                    self.name, body=delivery.body, headers={"content-type": delivery.content_type},
                    query=url.query.decode(),
                )
            except Exception as err:
                self.clean(err, action)
                self.fail(f"{action} failed: {err}")
                raise
            order = self.model.get(status.order_id)
            if order is None:
                self.fail(f"a webhook named order {status.order_id!r}, never created")
                raise AssertionError
            self.check(order, status, "fetched for a webhook")
            return 200

        self.sandbox.webhooks.deliver_due(post)

    @precondition(lambda self: self.cls.capabilities.feed)
    @rule()
    def read_feed(self) -> None:
        try:
            page = self.client.feed(self.name, since=self.cursor)
        except Exception as err:
            self.clean(err, "reading the feed")
            self.fail(f"reading the feed failed: {err}")
            raise
        self.cursor = page.cursor
        for status in page.statuses:
            order = self.model.get(status.order_id)
            if order is not None and status.state not in order.states:
                self.fail(f"the feed shows order {status.order_id!r} as {status.state} "
                          f"({status.native_status!r}), a state it never was in")

    @rule()
    def fetch_missing(self) -> None:
        action = "fetch of an order the sandbox does not know"
        try:
            self.client.fetch(self.name, "conformance-missing-1")
        except Exception as err:
            self.clean(err, action)
            if not isinstance(err, OrderNotFoundError):
                self.fail(f"{action} raised {type(err).__name__} ({err}), expected "
                          "OrderNotFoundError")
            return
        self.fail(f"{action} succeeded")

    @rule(order_id=orders, fault=st.sampled_from(FAULTS))
    def fetch_failing(self, order_id: str, fault: dict[str, Any]) -> None:
        action = f"fetch while the sandbox injects {fault['kind']} faults"
        self.sandbox.faults.inject(**fault)
        try:
            self.client.fetch(self.name, order_id)
        except Exception as err:
            self.clean(err, action)
        finally:
            self.sandbox.faults.clear()

    @precondition(lambda self: bool(self.secrets))
    @rule(order_id=orders, data=st.data())
    def wrong_credentials(self, order_id: str, data: st.DataObject) -> None:
        self.with_wrong_credentials(order_id, data.draw(self.goals, label="goal"))

    def with_wrong_credentials(self, order_id: str, goal: OrderState) -> None:
        """Wrong secrets: refused as AuthenticationError where used, shown nowhere."""
        values = settings_from_mapping(self.name, self.cls.settings_class, self.settings)
        wrong = dict(self.settings)
        for field in attrs.fields(type(values)):
            value = getattr(values, field.name)
            if isinstance(value, Secret):
                wrong[field.name] = value.reveal()[::-1] + "-wrong&x"
        order = self.model[order_id]
        with client_for(self.config, self.sandbox, wrong) as client:
            self.secrets.update(client.provider(self.name).secrets())
            action = "fetch with wrong credentials"
            try:
                client.fetch(self.name, order_id)
            except Exception as err:
                self.clean(err, action)
                if not isinstance(err, AuthenticationError):
                    self.fail(f"{action} raised {type(err).__name__} ({err}), expected "
                              "AuthenticationError")
            native = self.allowed(order, goal)
            if native is None:
                return
            action = f"update of {self.describe(order)} to {goal} with wrong credentials"
            try:
                result = client.update(self.name, order_id, goal)
            except Exception as err:
                self.clean(err, action)
                return
        self.updated(order, native, result, "an update with wrong credentials")

    @rule(order_id=st.sampled_from(BAD_IDS))
    def bad_order_id(self, order_id: str) -> None:
        sent = len(self.sandbox.requests)
        try:
            self.client.fetch(self.name, order_id)
        except Exception as err:
            self.clean(err, f"fetch of order id {order_id!r}")
            if not isinstance(err, InvalidOrderIdError):
                self.fail(f"fetch of order id {order_id!r} raised {type(err).__name__}, "
                          "expected InvalidOrderIdError")
        else:
            self.fail(f"fetch of order id {order_id!r} was not refused")
        if len(self.sandbox.requests) != sent:
            self.fail(f"order id {order_id!r} was refused only after a request was sent")

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def terminal_stays_terminal(self) -> None:
        for order in self.model.values():
            now = self.expected(order)
            if order.terminal is not None and now is not order.terminal:
                self.fail(f"order {order.id!r} left terminal state {order.terminal} for {now} "
                          f"({self.describe(order)})")
