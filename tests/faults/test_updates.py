"""Updates under faults: never retried blindly, never reported done when they are not.

An update is not safe to repeat, so whatever goes wrong the sandbox must see at most one
``POST`` per update, except after a ``429`` (the provider said it did not act).
"""

from __future__ import annotations

from typing import Any

import pytest

from orderstatus import (
    OrderState,
    OrderStatusError,
    OutcomeUnknownError,
    ProviderError,
    ProviderUnavailableError,
    UpdateNotSupportedError,
)
from orderstatus.testing.sandbox import Sandbox
from tests.conftest import Api

from .conftest import CHAOS, client, new_sandbox

NO_RATE_LIMITS = tuple(f for f in CHAOS if f.kind != "rate_limit")


def posts(sandbox: Sandbox, since: int) -> int:
    return sum(1 for method, path in sandbox.requests[since:]
               if method == "POST" and "oauth" not in path)


def target_of(sandbox: Sandbox) -> OrderState:
    from orderstatus import default_registry

    rules = default_registry().provider(sandbox.provider).update_rules
    assert rules is not None
    return OrderState.CANCELLED if OrderState.CANCELLED in rules.targets else next(
        iter(rules.targets))


def updatable(provider: str) -> bool:
    from orderstatus import default_registry

    cls = default_registry().provider(provider)
    return cls.capabilities.update and cls.update_rules is not None


def test_updates_under_chaos_post_at_most_once(kind: str, provider: str) -> None:
    sandbox = new_sandbox(provider)
    ids = [sandbox.create_order() for _ in range(150)]
    api = client(kind, sandbox)
    truth = client("sync", sandbox)
    if not updatable(provider):
        with pytest.raises(UpdateNotSupportedError):
            api.update(provider, ids[0], OrderState.CANCELLED)
        assert sandbox.requests == []
        return
    target = target_of(sandbox)
    sandbox.faults.chaos(0.2, NO_RATE_LIMITS, seed=5)
    outcomes = {"done": 0, "unknown": 0, "failed": 0}
    for order_id in ids:
        since = len(sandbox.requests)
        try:
            status = api.update(provider, order_id, target)
        except OutcomeUnknownError:
            outcomes["unknown"] += 1
        except ProviderError:
            outcomes["failed"] += 1
        else:
            assert status.state is target
            outcomes["done"] += 1
            sandbox.faults.clear()
            assert truth.fetch(provider, order_id).state is target, "reported done, but is not"
            sandbox.faults.chaos(0.2, NO_RATE_LIMITS, seed=len(sandbox.requests))
        assert posts(sandbox, since) <= 1, f"update of {order_id} was posted more than once"
    api.close()
    truth.close()
    assert outcomes["done"] >= 0.6 * len(ids), outcomes
    assert sum(outcomes.values()) == len(ids)


def ready_to_update(kind: str, provider: str) -> tuple[Api, Sandbox, str, OrderState] | None:
    """A client, a new order fetched once (any token is in place) and a target; ``None``, once
    the refusal is checked, for a provider without updates."""
    sandbox = new_sandbox(provider)
    order_id = sandbox.create_order()
    api = client(kind, sandbox)
    if not updatable(provider):
        with pytest.raises(UpdateNotSupportedError):
            api.update(provider, order_id, OrderState.CANCELLED)
        assert not [r for r in sandbox.requests if r[0] == "POST" and "oauth" not in r[1]]
        return None
    api.fetch(provider, order_id)
    return api, sandbox, order_id, target_of(sandbox)


def test_a_rate_limited_update_is_sent_again(kind: str, provider: str) -> None:
    ready = ready_to_update(kind, provider)
    if ready is None:
        return
    api, sandbox, order_id, target = ready
    since = len(sandbox.requests)
    sandbox.faults.inject("rate_limit", retry_after=0.5, method="POST")
    assert api.update(provider, order_id, target).state is target
    assert posts(sandbox, since) == 2
    assert 0.5 in api.sleeps
    api.close()


@pytest.mark.parametrize(("fault", "error"), [
    ({"kind": "reset"}, OutcomeUnknownError),
    ({"kind": "timeout", "delay": 0.5}, OutcomeUnknownError),
    ({"kind": "status", "status": 503}, ProviderUnavailableError),
])
def test_a_lost_answer_is_never_resent(
    kind: str, provider: str, fault: dict[str, Any], error: type[OrderStatusError]
) -> None:
    ready = ready_to_update(kind, provider)
    if ready is None:
        return
    api, sandbox, order_id, target = ready
    since = len(sandbox.requests)
    sandbox.faults.inject(method="POST", times=5, **fault)
    with pytest.raises(error):  # the sandbox never acted, and the fresh fetch shows it
        api.update(provider, order_id, target)
    assert posts(sandbox, since) == 1
    api.close()
