"""Fixtures of the fault suite: every installed provider's sandbox, filled with orders in a
spread of native statuses, and the truth about each order read before any fault is injected."""

from __future__ import annotations

import contextlib
import random
from typing import Any

import pytest

from orderstatus import OrderStatus, RetryPolicy
from orderstatus.testing.sandbox import Fault, Sandbox
from tests.conftest import Api
from tests.providers import LOCAL, SANDBOXED, new_sandbox

RETRY_AFTER = 0.75
"""The ``Retry-After`` every injected 429 carries: no backoff of POLICY can equal it."""
POLICY = RetryPolicy(attempts=4, total=3.0, backoff=0.01, backoff_max=0.04, retry_after_max=2.0)
CHAOS = (
    Fault("status", status=500), Fault("status", status=502), Fault("status", status=503),
    Fault("rate_limit", retry_after=RETRY_AFTER), Fault("timeout", delay=0.5), Fault("reset"),
    Fault("malformed"), Fault("not_json"), Fault("html"),
)
"""Every kind of failure the issue names, drawn at random for 20% of requests."""
__all__ = ["CHAOS", "POLICY", "RETRY_AFTER", "client", "fingerprint", "new_sandbox", "populate"]


def fingerprint(status: OrderStatus) -> tuple[Any, ...]:
    """Everything a fetch reports about an order, apart from when it was observed."""
    return (status.provider, status.order_id, status.state, status.native_status, status.reason,
            status.payment, status.native_payment, status.items, status.tracking)


def populate(sandbox: Sandbox, count: int, seed: int = 1) -> list[str]:
    """``count`` orders of one to three items, in a spread of the provider's native statuses."""
    rng = random.Random(seed)
    statuses = list(sandbox.statuses)
    ids = []
    for _ in range(count):
        order_id = sandbox.create_order(items=rng.randint(1, 3))
        status = rng.choice(statuses)
        # a status this sandbox only reaches with details raises; the order then stays new
        with contextlib.suppress(ValueError, TypeError):
            sandbox.set_status(order_id, status, items=[0] if rng.random() < 0.3 else None)
        ids.append(order_id)
    return ids


def client(kind: str, sandbox: Sandbox, base_url: str = LOCAL, **options: Any) -> Api:
    """A client of ``sandbox`` (in-process unless ``base_url`` points at a served one)."""
    options.setdefault("retry", POLICY)
    if base_url == LOCAL:
        options.setdefault("transport", sandbox.transport())
    return Api(kind, {sandbox.provider: sandbox.settings(base_url)}, **options)


@pytest.fixture(params=SANDBOXED)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def stocked(provider: str) -> tuple[Sandbox, dict[str, tuple[Any, ...]]]:
    """A sandbox with 100 orders and, per order id, what a fault-free fetch says about it."""
    sandbox = new_sandbox(provider)
    ids = populate(sandbox, 100)
    truth_client = client("sync", sandbox)
    truth = {i: fingerprint(truth_client.fetch(provider, i)) for i in ids}
    truth_client.close()
    assert len({t[2] for t in truth.values()}) >= 3, "the orders should span several states"
    sandbox.requests.clear()
    return sandbox, truth
