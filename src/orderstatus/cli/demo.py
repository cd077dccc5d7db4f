"""``orderstatus demo``: every registered sandbox, the webhook receiver and a tracker, end to end.

Each sandbox and the receiver are served for real on loopback. One order of two items per
provider walks created -> in_production -> shipped -> delivered (as far as the provider's own
status table goes), paid first where the provider has payments and one item ahead of the other
where the sandbox moves items on their own, each step delivered as a webhook into the
receiver, which fetches the order and hands it to the tracker. Then one refused and one
allowed update; the tracker at work on a repeated notification (a duplicate), a move back
(an anomaly) and an answer older than it (stale), each outcome as the tracker decided it; the
unified view, the changes and their kinds, and what became of every observation.
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
from orderstatus.lifecycle import MAIN_LINE, OrderState, PaymentState
from orderstatus.models import ChangeKind
from orderstatus.plugins import Registration, default_registry
from orderstatus.provider import Provider
from orderstatus.stores import MemoryStore
from orderstatus.tables import to_text
from orderstatus.tracking import Outcome, Tracker
from orderstatus.webhooks import WebhookReceiver, webhook_app

from .output import change_line, counted, quiet, status_table

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


ANSWERS = {
    Outcome.CHANGE: "a change",
    Outcome.DUPLICATE: "nothing changed, nothing emitted",
    Outcome.STALE: "older than what is known, dropped",
    Outcome.ANOMALY: "not a lifecycle move: applied, and flagged",
    Outcome.UNKNOWN: "not mapped: the order does not move",
}
"""What each outcome means, in the demo's words."""


def _told(outcome: Outcome | None) -> str:
    """An outcome and what it means."""
    return f"{outcome} ({ANSWERS[outcome]})" if outcome is not None else "no observation"


_NOT_HERE = (TypeError, ValueError, NotImplementedError)
"""What a sandbox raises for an option or a move it does not make."""


def _refused(move: Callable[..., object], *args: Any, **options: Any) -> bool:
    """Try a sandbox move not every sandbox makes; ``True`` when it refused it (as the
    conformance suite asks a sandbox whether it moves single items)."""
    try:
        move(*args, **options)
    except _NOT_HERE:
        return True
    return False


def _payments(provider: type[Provider]) -> tuple[str, str] | None:
    """The provider's native payment statuses for open and paid, if it has both."""
    by_state: dict[PaymentState, str] = {}
    for native, state in provider.payment_statuses.items():
        by_state.setdefault(state, native)
    if PaymentState.OPEN in by_state and PaymentState.PAID in by_state:
        return by_state[PaymentState.OPEN], by_state[PaymentState.PAID]
    return None


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

    def step(self, stage: _Stage, order_id: str) -> str:
        """Let the sandbox clock run: due webhooks reach the receiver and the tracker; what
        the tracker made of the order's observations meanwhile (a notification per item may
        bring several: the first that is not a duplicate tells)."""
        seen = len(self.tracker.history(stage.name, order_id))
        stage.sandbox.advance(STEP_SECONDS)
        if not stage.provider.capabilities.webhook:
            self.observe(stage, order_id)
        outcomes = [e.outcome for e in self.tracker.history(stage.name, order_id)[seen:]]
        told = next((o for o in outcomes if o is not Outcome.DUPLICATE), None)
        return _told(told or (outcomes[0] if outcomes else None))

    def walk(self, stage: _Stage) -> None:
        """Create an order of two items and walk it along the main line, one webhook per
        step: paid first where the provider has payments, one item ahead of the other where
        the sandbox moves items on their own."""
        sandbox, payments = stage.sandbox, _payments(stage.provider)
        order_id = None
        if payments is not None:
            with contextlib.suppress(*_NOT_HERE):
                order_id = sandbox.create_order(items=2, payment=payments[0])
        order_id = order_id or sandbox.create_order(items=2)
        stage.orders.append(order_id)
        self.observe(stage, order_id)
        self.step(stage, order_id)
        first = self.tracker.current(stage.name, order_id)
        shown = [first.native_status if first else "?"]
        if payments is not None and first is not None and not _refused(
            sandbox.set_status, order_id, first.native_status, payment=payments[1]
        ):
            self.step(stage, order_id)
            shown[-1] += f" (payment {payments[1]})"
        walk = lifecycle_walk(stage.provider)
        for n, (_, native) in enumerate(walk):
            ahead = n == 0 and not _refused(sandbox.set_status, order_id, native, items=[0])
            if ahead:  # one item in production, the other not yet: the items changed
                self.step(stage, order_id)
            sandbox.set_status(order_id, native)
            self.step(stage, order_id)
            shown.append(f"{native} (one item first)" if ahead else native)
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

    def tracker_at_work(self, stage: _Stage) -> None:
        """What the tracker makes of a repeated notification, of a move the lifecycle does
        not allow, and of an answer that arrives after a newer one (each outcome as the
        tracker decided it)."""
        order_id, sandbox = stage.orders[0], stage.sandbox
        where = f"{stage.name} order {order_id!r}"
        sandbox.notify(order_id)  # the provider says it again: a lost acknowledgement, say
        self.say(f"  {where}, notified again: {self.step(stage, order_id)}")
        late = self.client.fetch(stage.name, order_id)  # sent now, answered below
        walk = [native for _, native in lifecycle_walk(stage.provider)]
        back = walk[-2] if len(walk) > 1 else next(iter(stage.provider.native_statuses))
        sandbox.set_status(order_id, back)
        with quiet("orderstatus.tracking"):  # its warning about the anomaly: said here
            self.say(f"  {where}, moved from {late.native_status} back to {back}: "
                     f"{self.step(stage, order_id)}")
        self.say(f"  {where}, a fetch sent before that move and answered after it "
                 f"({late.native_status}): {_told(self.tracker.record(late).outcome)}")

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
        say(f"orderstatus demo: {counted(len(regs), 'provider sandbox', 'provider sandboxes')}"
            ", a webhook receiver and a tracker, all on loopback\n")
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
        say("\nThe tracker at work: a repeated notification, a move the lifecycle does not "
            "allow, a late answer:")
        for stage in stages:
            demo.guarded(stage, demo.tracker_at_work)
        _report(say, stages)
    say("\n" + to_text(status_table(tracker.tracked(), title="Unified view: every tracked order")))
    say(f"\nChanges recorded ({len(changes)}):")
    for change in changes:
        say(f"  {change_line(change)}")
    kinds = {kind: sum(kind in c.kinds for c in changes) for kind in ChangeKind}
    say("By kind (a change may be of several): "
        + ", ".join(f"{kind.value} {n}" for kind, n in kinds.items()))
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
    say(f"\nWebhooks: {counted(len(deliveries), 'notification')}, {delivered} acknowledged, "
        f"{counted(calls, 'call')} in all")


def _outcomes(tracker: Tracker) -> str:
    counts = dict.fromkeys(Outcome, 0)
    for status in tracker.tracked():
        for entry in tracker.history(status.provider, status.order_id):
            counts[entry.outcome] += 1
    return ("Observations: " + ", ".join(counted(n, *_NOUNS[o]) for o, n in counts.items())
            + " (duplicates and stale ones change nothing)")


_NOUNS: dict[Outcome, tuple[str, str]] = {
    Outcome.CHANGE: ("change", "changes"), Outcome.ANOMALY: ("anomaly", "anomalies"),
    Outcome.DUPLICATE: ("duplicate", "duplicates"), Outcome.STALE: ("stale", "stale"),
    Outcome.UNKNOWN: ("unknown", "unknown"),
}
"""Each outcome's count as a word, singular and plural."""
