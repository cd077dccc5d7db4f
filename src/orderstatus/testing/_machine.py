"""The Hypothesis state machine behind :mod:`orderstatus.testing.conformance`.

Its rules only draw: which order, which sandbox move, which update target, which fault. What
each step does and checks is :class:`~._session.Session`'s; what should happen is the model's
(:mod:`._model`); the assertions are :mod:`._checks`.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from orderstatus.lifecycle import OrderState

from ._session import BAD_IDS, FAULTS, GOALS, Config, Session

__all__ = ["ConformanceMachine"]


class ConformanceMachine(RuleBasedStateMachine):
    """Moves the sandbox, asks the client, and checks every answer."""

    orders = Bundle("orders")

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.session = Session(config)
        rules = config.provider.update_rules_in_force()
        self.goals: st.SearchStrategy[OrderState] = st.sampled_from(GOALS)
        if rules is not None and rules.targets:  # the provider's own targets, drawn more often
            self.goals = st.sampled_from(sorted(rules.targets)) | self.goals

    def teardown(self) -> None:
        self.session.close()

    @precondition(lambda self: len(self.session.model.orders) < 3)
    @rule(target=orders, items=st.integers(1, 3))
    def create(self, items: int) -> str:
        return self.session.new_order(items)

    @rule(order_id=orders, data=st.data(), wait=st.integers(1, 60))
    def move(self, order_id: str, data: st.DataObject, wait: int) -> None:
        steps = self.session.model.steps(self.session.model.orders[order_id])
        if steps:
            positions, native = data.draw(st.sampled_from(steps), label="move")
            self.session.move_to(order_id, native, positions, wait=wait)

    @rule(order_id=orders, data=st.data())
    def update(self, order_id: str, data: st.DataObject) -> None:
        self.session.try_update(order_id, data.draw(self.goals, label="goal"))

    @precondition(lambda self: self.session.config.provider.capabilities.webhook)
    @rule()
    def deliver_webhooks(self) -> None:
        self.session.deliver_webhooks()

    @precondition(lambda self: self.session.config.provider.capabilities.feed)
    @rule()
    def read_feed(self) -> None:
        self.session.read_feed()

    @rule()
    def fetch_missing(self) -> None:
        self.session.fetch_missing()

    @rule(order_id=orders, fault=st.sampled_from(FAULTS))
    def fetch_failing(self, order_id: str, fault: dict[str, Any]) -> None:
        self.session.fetch_failing(order_id, fault)

    @precondition(lambda self: bool(self.session.checks.secrets))
    @rule(order_id=orders, data=st.data())
    def wrong_credentials(self, order_id: str, data: st.DataObject) -> None:
        self.session.with_wrong_credentials(order_id, data.draw(self.goals, label="goal"))

    @rule(order_id=st.sampled_from(BAD_IDS))
    def bad_order_id(self, order_id: str) -> None:
        self.session.bad_order_id(order_id)

    @invariant()
    def terminal_stays_terminal(self) -> None:
        self.session.checks.terminal_stays_terminal()
