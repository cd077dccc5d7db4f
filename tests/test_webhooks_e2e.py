"""End to end: a provider's sandbox and the receiver, both served for real on loopback.

The sandbox delivers webhooks on its provider's own retry schedule (driven by its clock).
The receiver is first down (connection refused), then up while the provider's API fails
(it answers 503), then healthy. Every change must end up recorded exactly once.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from orderstatus import AsyncClient, OrderState, RetryPolicy, default_registry
from orderstatus.lifecycle import MAIN_LINE
from orderstatus.mapping import StatusMapper
from orderstatus.plugins import Registry
from orderstatus.stores import SQLiteStore
from orderstatus.testing.asgi import serve
from orderstatus.testing.sandbox import Sandbox
from orderstatus.tracking import Tracker
from orderstatus.webhooks import WebhookReceiver, webhook_app

FAST = RetryPolicy(attempts=2, total=5, backoff=0.001, backoff_max=0.002)
# The built-in plugins when installed (Print API retries after 2 min, 5 min, then hourly),
# and always the core's own test plugin.
PROVIDERS = [n for n in ("printapi", "gooten") if n in default_registry().names] + ["fakeshop"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def drain(sandbox: Sandbox, *, rounds: int = 50) -> None:
    """Advance the sandbox clock from one due retry to the next until none is pending."""
    for _ in range(rounds):
        pending = [d.next_at for d in sandbox.webhooks.deliveries if d.next_at is not None]
        if not pending:
            return
        sandbox.advance(max(0.0, (min(pending) - sandbox.clock.now()).total_seconds()))
    raise AssertionError("webhooks are still pending")


def main_line_walk(name: str, sandbox: Sandbox) -> list[tuple[str, OrderState]]:
    """One native status per main-line state the sandbox can set, in lifecycle order."""
    mapper = StatusMapper(default_registry().provider(name))
    walk = []
    for state in MAIN_LINE:
        native = next((n for n in sandbox.statuses if mapper.native(n).state is state), None)
        if native is not None:
            walk.append((native, state))
    return walk


def attempts(sandbox: Sandbox) -> list[int | None]:
    return [status for d in sandbox.webhooks.deliveries for _, status in d.attempts]


@pytest.mark.parametrize("name", PROVIDERS)
def test_every_change_is_recorded_once_through_a_receiver_outage(
    name: str, tmp_path: Path
) -> None:
    registration = default_registry().registration(name)
    assert registration.sandbox is not None
    sandbox: Any = registration.sandbox()
    walk = main_line_walk(name, sandbox)
    assert len(walk) >= 3, f"{name}: the sandbox cannot walk the main line"
    tracker = Tracker(SQLiteStore(tmp_path / "e2e.sqlite3"), registry=Registry())
    port = free_port()

    with serve(sandbox.asgi()) as sandbox_url:
        client = AsyncClient({name: sandbox.settings(sandbox_url)}, retry=FAST)
        receiver = WebhookReceiver(client, tracker)
        sandbox.subscribe(f"http://127.0.0.1:{port}/webhooks/{name}")
        orders = [sandbox.create_order() for _ in range(3)]

        # 1. The receiver is down: the first move of every order cannot be delivered.
        for order in orders:
            sandbox.set_status(order, walk[1][0])
        sandbox.advance(0)
        assert attempts(sandbox)
        assert set(attempts(sandbox)) == {None}

        with serve(webhook_app(receiver), port=port):
            # 2. Up, but the provider's API fails: the receiver asks for retries (503).
            sandbox.faults.inject("status", status=503, times=10_000, path="/orders/")
            sandbox.set_status(orders[0], walk[2][0])
            sandbox.advance(0)
            sandbox.advance(sandbox.webhook_schedule[0])
            assert 503 in attempts(sandbox)
            assert tracker.tracked() == []

            # 3. All is well again: the provider's retries deliver everything.
            sandbox.faults.clear()
            drain(sandbox)

            # 4. The rest of each walk happens live, one delivered change at a time.
            reached = {order: 2 if order == orders[0] else 1 for order in orders}
            for order in orders:
                for native, _ in walk[reached[order] + 1:]:
                    sandbox.set_status(order, native)
                    sandbox.advance(0)
            drain(sandbox)

    assert all(d.delivered for d in sandbox.webhooks.deliveries)
    states = [state for _, state in walk]
    for order in orders:
        assert tracker.state(name, order) is states[-1]
        changes = [e.change for e in tracker.history(name, order) if e.change is not None]
        assert not any(c.anomaly for c in changes)
        # Every state of the walk after the first one seen is accounted for exactly once:
        # seen directly, or inferred as skipped by the change that jumped over it.
        seen = [changes[0].current] + [s for c in changes[1:] for s in (*c.skipped, c.current)]
        assert seen == states[states.index(seen[0]):]
        # The live part of the walk arrived change by change.
        live = states[reached[order] + 1:]
        assert [c.current for c in changes][len(changes) - len(live):] == live
