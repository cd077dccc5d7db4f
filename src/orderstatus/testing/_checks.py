"""The conformance suite's assertions: every answer compared with the model.

Each failure is an ``AssertionError`` whose message starts with the provider's name and says
what is wrong, e.g. ``printapi: sandbox status 'Processing' fetched as created, table says
in_production``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from orderstatus.errors import (
    AuthenticationError,
    InvalidOrderIdError,
    OrderNotFoundError,
    OrderStatusError,
    UpdateNotSupportedError,
)
from orderstatus.lifecycle import OrderState
from orderstatus.models import OrderStatus
from orderstatus.plugins import Registry
from orderstatus.provider import UpdateVerdict
from orderstatus.tracking import Tracker

from ._model import Model, ModelOrder
from .leaks import credential_leaks

__all__ = ["Checks"]


class Checks:
    """Assertions about one provider's answers, against :class:`~._model.Model`."""

    def __init__(self, name: str, model: Model, registry: Registry, secrets: set[str]) -> None:
        self.name = name
        self.model = model
        self.secrets = secrets
        """Every credential the clients were given: none may show in an error."""
        self.last: dict[str, OrderStatus] = {}
        self.tracker = Tracker(registry=registry, keep_duplicates=False)
        """Fed every observation: it must end where the sandbox is."""

    def close(self) -> None:
        self.tracker.close()

    def fail(self, message: str) -> NoReturn:
        raise AssertionError(f"{self.name}: {message}")

    # -- errors -----------------------------------------------------------------------------

    def clean(self, error: BaseException, action: str) -> None:
        """``error`` must be a core error showing no credential."""
        leaks = credential_leaks(error, self.secrets)
        if leaks:
            self.fail(f"{action} raised {type(error).__name__} showing a credential: "
                      f"{'; '.join(leaks)}")
        if not isinstance(error, OrderStatusError):
            self.fail(f"{action} raised {type(error).__name__} ({error}), not an "
                      "orderstatus error")

    def raised(self, error: BaseException, expected: type[OrderStatusError], action: str) -> None:
        """``error`` must be clean and an ``expected``."""
        self.clean(error, action)
        if not isinstance(error, expected):
            self.fail(f"{action} raised {type(error).__name__} ({error}), expected "
                      f"{expected.__name__}")

    def failed(self, error: BaseException, action: str) -> NoReturn:
        """``action`` should have succeeded."""
        self.clean(error, action)
        self.fail(f"{action} failed: {error}")

    # -- statuses ---------------------------------------------------------------------------

    def new_order(self, order: ModelOrder, items: int, status: OrderStatus) -> None:
        """A freshly created sandbox order: mapped, with as many items as asked for."""
        unmapped = self.model.unmapped(order.natives)
        if unmapped:
            self.fail(f"a new sandbox order fetched as {status.state} with native statuses "
                      f"{unmapped!r}, which the table does not map")
        if len(order.natives) != items and self.model.per_item:
            self.fail(f"a sandbox order with {items} items fetched with {len(order.natives)}")

    def status(self, order: ModelOrder, status: OrderStatus, how: str, *,
               anomaly_ok: bool = False) -> None:
        """``status`` must show the order's sandbox state; then a tracker is fed it."""
        want = self.model.expected(order)
        if status.state is not want:
            self.fail(f"{self.model.describe(order)} {how} as {status.state}, table says {want}")
        if not self.model.shows(order, status.native_statuses):
            shown = list(status.native_statuses)
            self.fail(f"{self.model.describe(order)} {how} with native statuses {shown!r}")
        if order.terminal is not None and status.state is not order.terminal:
            self.fail(f"order {order.id!r} left terminal state {order.terminal} for "
                      f"{status.state} ({how})")
        self.model.seen(order, status.state)
        self.observed(status, how, anomaly_ok=anomaly_ok)

    def observed(self, status: OrderStatus, how: str, *, anomaly_ok: bool) -> None:
        """A tracker fed ``status`` ends in its state, without a false anomaly."""
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

    def feed_entry(self, status: OrderStatus) -> None:
        """A feed may lag, but never shows a state the order was not in."""
        order = self.model.orders.get(status.order_id)
        if order is not None and status.state not in order.states:
            self.fail(f"the feed shows order {status.order_id!r} as {status.state} "
                      f"({status.native_status!r}), a state it never was in")

    def terminal_stays_terminal(self) -> None:
        for order in self.model.orders.values():
            now = self.model.expected(order)
            if order.terminal is not None and now is not order.terminal:
                self.fail(f"order {order.id!r} left terminal state {order.terminal} for {now} "
                          f"({self.model.describe(order)})")

    # -- updates ----------------------------------------------------------------------------

    def allowed(self, verdict: UpdateVerdict | None, action: str) -> str:
        """The client accepted an update: the rules must allow it; the native status sent."""
        if verdict is None or not verdict.allowed or verdict.native_target is None:
            self.fail(f"{action} succeeded although the rules refuse it")
        return verdict.native_target

    def refused(self, verdict: UpdateVerdict | None, error: OrderStatusError,
                stray: Sequence[object], action: str) -> None:
        """The client refused an update: as the rules say, and before any request."""
        if stray:
            self.fail(f"{action} was refused ({type(error).__name__}) but sent a request: "
                      f"{list(stray)}")
        if verdict is None:
            if not isinstance(error, UpdateNotSupportedError):
                self.fail(f"{action} raised {type(error).__name__}, expected "
                          "UpdateNotSupportedError (the provider declares no updates)")
            return
        if isinstance(error, UpdateNotSupportedError):
            self.fail(f"{action} raised UpdateNotSupportedError but the provider has rules")
        if verdict.allowed:
            self.fail(f"{action} was refused although the rules allow it: {error}")

    def sandbox_refused(self, order: ModelOrder, target: OrderState, native: str,
                        accepted: bool, after: OrderStatus) -> None:
        """Sent directly, an update the rules refuse must be refused by the sandbox too."""
        if accepted or not self.model.shows(order, after.native_statuses):
            rules = self.model.provider.update_rules
            sources = ", ".join(sorted(rules.sources if rules else ()))
            self.fail(f"the sandbox accepted an update its rules refuse: "
                      f"{self.model.describe(order)} to {target} ({native!r}); "
                      f"update sources: {sources}")

    # -- refusals of bad requests -----------------------------------------------------------

    def not_found(self, error: BaseException, action: str) -> None:
        self.raised(error, OrderNotFoundError, action)

    def credentials_refused(self, error: BaseException, action: str) -> None:
        self.raised(error, AuthenticationError, action)

    def bad_id_refused(self, error: BaseException | None, order_id: str, sent: bool) -> None:
        """A bad order id is refused as InvalidOrderIdError, before any request."""
        action = f"fetch of order id {order_id!r}"
        if error is None:
            self.fail(f"{action} was not refused")
        self.clean(error, action)
        if not isinstance(error, InvalidOrderIdError):
            self.fail(f"{action} raised {type(error).__name__}, expected InvalidOrderIdError")
        if sent:
            self.fail(f"order id {order_id!r} was refused only after a request was sent")
