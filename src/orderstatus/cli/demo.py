"""``orderstatus demo``: every registered sandbox, the webhook receiver and a tracker, end to end.

Each sandbox and the receiver are served for real on loopback. One order per provider walks
created -> in_production -> shipped -> delivered (as far as the provider's own status table
goes), each step delivered as a webhook into the receiver, which fetches the order and hands it
to the tracker. Then one refused and one allowed update, the unified view, and the changes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from orderstatus.asgi import serve
from orderstatus.client import AsyncClient, Client
from orderstatus.errors import ConfigurationError, OrderStatusError, TransitionNotAllowedError
from orderstatus.lifecycle import MAIN_LINE, OrderState
from orderstatus.plugins import Registration, default_registry
from orderstatus.provider import Provider
from orderstatus.stores import MemoryStore
from orderstatus.tables import to_text
from orderstatus.tracking import Outcome, Tracker
from orderstatus.webhooks import WebhookReceiver, webhook_app

from .output import change_line, status_table

__all__ = ["lifecycle_walk", "run_demo"]

Say = Callable[[str], None]
STEP_SECONDS = 60.0
"""Sandbox clock seconds between two steps of a walk (due webhooks are delivered each step)."""


def lifecycle_walk(provider: type[Provider]) -> list[tuple[OrderState, str]]:
    """Native statuses to walk an order along the main line after ``created``.

    For each of in_production, shipped and delivered, the first native status of the
    provider's table that maps to it (without an action reason); states the table does not
    have are left out (Print API has no delivered).
    """
    walk = []
    for state in MAIN_LINE[1:]:
        native = next(
            (n for n, m in provider.native_statuses.items()
             if m.state is state and m.reason is None),
            None,
        )
        if native is not None:
            walk.append((state, native))
    return walk


@attrs.define
class _Stage:
    """One provider on the demo's stage."""

    registration: Registration
    sandbox: Any
    url: str
    settings: dict[str, Any]
    orders: list[str] = attrs.field(factory=list)

    @property
    def name(self) -> str:
        return self.registration.provider.name

    @property
    def provider(self) -> type[Provider]:
        return self.registration.provider


class _Demo:
    """The demo's acts, played for one provider at a time."""

    def __init__(
        self, say: Say, stages: Sequence[_Stage], client: Client, tracker: Tracker
    ) -> None:
        self.say, self.stages, self.client, self.tracker = say, stages, client, tracker
        self.failed: list[str] = []

    def observe(self, stage: _Stage, order_id: str) -> None:
        """Fetch and record: for the first sight of an order, and providers without webhooks."""
        self.tracker.observe(self.client.fetch(stage.name, order_id))

    def step(self, stage: _Stage, order_id: str) -> None:
        """Let the sandbox clock run: due webhooks reach the receiver and the tracker."""
        stage.sandbox.advance(STEP_SECONDS)
        if not stage.provider.capabilities.webhook:
            self.observe(stage, order_id)

    def walk(self, stage: _Stage) -> None:
        """Create an order and walk it along the main line, one webhook per step."""
        order_id = stage.sandbox.create_order()
        stage.orders.append(order_id)
        self.observe(stage, order_id)
        self.step(stage, order_id)
        first = self.tracker.current(stage.name, order_id)
        shown = [first.native_status if first else "?"]
        walk = lifecycle_walk(stage.provider)
        for _, native in walk:
            stage.sandbox.set_status(order_id, native)
            self.step(stage, order_id)
            shown.append(native)
        missing = [s.value for s in MAIN_LINE[1:] if s not in {s for s, _ in walk}]
        note = f" (no native status for {', '.join(missing)})" if missing else ""
        self.say(f"  {stage.name} order {order_id!r}: {' -> '.join(shown)}{note}")

    def updates(self, stage: _Stage) -> None:
        """A refused update of the walked order; an allowed one of a fresh order."""
        rules = stage.provider.update_rules_in_force()
        walked = stage.orders[0]
        if rules is None or not rules.targets:
            try:
                self.client.update(stage.name, walked, OrderState.CANCELLED)
            except OrderStatusError as err:
                self.say(f"  refused: {err}")
            return
        target = OrderState.CANCELLED if OrderState.CANCELLED in rules.targets else next(
            iter(rules.targets)
        )
        try:
            self.client.update(stage.name, walked, target)
            self.say(f"  {stage.name} order {walked!r}: unexpectedly allowed to become {target}")
        except TransitionNotAllowedError as err:
            self.say(f"  refused: {err}")
        second = stage.sandbox.create_order()
        stage.orders.append(second)
        self.observe(stage, second)
        before = self.tracker.current(stage.name, second)
        after = self.client.update(stage.name, second, target)
        self.step(stage, second)
        was = f"{before.state} ({before.native_status}) " if before else ""
        self.say(f"  allowed: {stage.name} order {second!r}: {was}-> "
                 f"{after.state} ({after.native_status})")

    def guarded(self, stage: _Stage, part: Callable[[_Stage], None]) -> None:
        """Run one part for one provider; a failure is reported and the demo goes on."""
        if stage.name in self.failed:
            return
        try:
            part(stage)
        except Exception as err:
            self.failed.append(stage.name)
            self.say(f"  {stage.name}: demo failed: {type(err).__name__}: {err}")


def run_demo(say: Say) -> int:
    """Run the demo, printing with ``say``; 0 when every provider went through, else 1."""
    started = time.monotonic()
    try:
        import uvicorn  # noqa: F401  (served below, in threads)
    except ImportError:
        raise ConfigurationError(
            "the demo needs uvicorn: pip install 'orderstatus[server]'"
        ) from None
    registry = default_registry()
    regs = [registry.registration(n) for n in registry.names]
    regs = [r for r in regs if r.has_sandbox]
    if not regs:
        raise ConfigurationError(
            "no installed provider has a sandbox: pip install orderstatus-printapi "
            "orderstatus-gooten"
        )
    changes: list[Any] = []
    tracker = Tracker(MemoryStore(), on_change=changes.append, keep_duplicates=True)
    with contextlib.ExitStack() as stack:
        say(f"orderstatus demo: {len(regs)} provider sandboxes, a webhook receiver and a "
            "tracker, all on loopback\n")
        stages, failed = _set_up(say, stack, regs)
        settings = {s.name: s.settings for s in stages}
        receiver = WebhookReceiver(AsyncClient(settings), tracker)
        hooks = stack.enter_context(serve(webhook_app(receiver))) + "webhooks/"
        client = stack.enter_context(Client(settings))
        for stage in stages:
            stage.sandbox.subscribe(hooks + stage.name)
        say(f"  {'webhooks':<10} receiver  {hooks}{{provider}}\n")
        demo = _Demo(say, stages, client, tracker)
        demo.failed.extend(failed)
        say("One order per provider, walked through its lifecycle (each step a webhook):")
        for stage in stages:
            demo.guarded(stage, demo.walk)
        say("\nUpdates: the provider's rules are checked before any request is sent:")
        for stage in stages:
            demo.guarded(stage, demo.updates)
        _report(say, stages)
    say("\n" + to_text(status_table(tracker.tracked(), title="Unified view: every tracked order")))
    say(f"\nChanges recorded ({len(changes)}):")
    for change in changes:
        say(f"  {change_line(change)}")
    say(f"\n{_outcomes(tracker)}")
    if demo.failed:
        say(f"demo failed for {', '.join(demo.failed)}")
        return 1
    say(f"done in {time.monotonic() - started:.1f} s")
    return 0


def _set_up(
    say: Say, stack: contextlib.ExitStack, regs: Sequence[Registration]
) -> tuple[list[_Stage], list[str]]:
    """Serve each sandbox and check the settings it gives; a failing one is left out."""
    stages, failed = [], []
    for reg in regs:
        name = reg.provider.name
        try:
            make_sandbox = reg.sandbox
            assert make_sandbox is not None
            sandbox = make_sandbox()
            url = stack.enter_context(serve(sandbox.asgi()))
            settings = sandbox.settings(url)
            Client({name: settings}).close()  # refuses bad settings now, not halfway
        except Exception as err:
            failed.append(name)
            say(f"  {name}: demo failed: {type(err).__name__}: {err}")
            continue
        stages.append(_Stage(reg, sandbox, url, settings))
        say(f"  {name:<10} sandbox   {url}")
    return stages, failed


def _report(say: Say, stages: Sequence[_Stage]) -> None:
    """How many webhooks the sandboxes sent, and how they were answered."""
    deliveries = [d for s in stages for d in s.sandbox.webhooks.deliveries]
    calls = sum(len(d.attempts) for d in deliveries)
    delivered = sum(d.delivered for d in deliveries)
    say(f"\nWebhooks: {len(deliveries)} notifications, {delivered} acknowledged, "
        f"{calls} calls in all")


def _outcomes(tracker: Tracker) -> str:
    counts = dict.fromkeys(Outcome, 0)
    for status in tracker.tracked():
        for entry in tracker.history(status.provider, status.order_id):
            counts[entry.outcome] += 1
    return ("Observations: " + ", ".join(f"{n} {o.value}" for o, n in counts.items())
            + " (duplicates and stale ones change nothing)")
