"""What should happen: the conformance suite's model of a provider's sandbox orders.

The model knows each order's native statuses as the sandbox holds them and what the
provider's own table and rules make of them: the state a fetch must show, the sandbox moves
that keep an order on legal transitions, and the verdict of an update
(:meth:`UpdateRules.decide <orderstatus.UpdateRules.decide>`, the rule the client follows).
It asserts nothing; :mod:`._checks` compares answers against it.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from orderstatus.lifecycle import TERMINAL, OrderState, aggregate, can_transition
from orderstatus.mapping import StatusMapper
from orderstatus.provider import Provider, UpdateVerdict

__all__ = ["Model", "ModelOrder", "SandboxStep"]

SandboxStep = tuple[tuple[int, ...] | None, str]
"""Item positions (``None``: the whole order) and the native status to set there."""


@attrs.define
class ModelOrder:
    """One sandbox order as the model holds it."""

    id: str
    natives: list[str]
    """Native status per item (all alike for order-level providers)."""
    states: set[OrderState] = attrs.field(factory=set)
    """Every state the order has been seen in."""
    terminal: OrderState | None = None
    """The terminal state it was seen in, once it was."""


class Model:
    """The orders of one sandbox and what the provider's table and rules make of them."""

    def __init__(self, provider: type[Provider], mapper: StatusMapper, *, per_item: bool) -> None:
        self.provider = provider
        self.mapper = mapper
        self.per_item = per_item
        """Whether the sandbox moves single items (``set_status(..., items=[1])``)."""
        self.key = provider.native_key
        self.orders: dict[str, ModelOrder] = {}

    def add(self, order_id: str, natives: Iterable[str]) -> ModelOrder:
        """Start modelling a new order whose items show ``natives``."""
        order = ModelOrder(order_id, list(natives))
        self.orders[order_id] = order
        return order

    def state_of(self, natives: Iterable[str]) -> OrderState:
        """The canonical state the table (and aggregation) gives these native statuses."""
        return aggregate(self.mapper.native(n).state for n in natives)

    def expected(self, order: ModelOrder) -> OrderState:
        """The state a fetch of ``order`` must show."""
        return self.state_of(order.natives)

    def unmapped(self, natives: Iterable[str]) -> list[str]:
        """The native statuses the table does not map."""
        return [n for n in natives if self.mapper.native(n).state is OrderState.UNKNOWN]

    def shows(self, order: ModelOrder, natives: Iterable[str]) -> bool:
        """Whether ``natives`` are the order's native statuses (through ``native_key``)."""
        return {self.key(n) for n in natives} == {self.key(n) for n in order.natives}

    def describe(self, order: ModelOrder) -> str:
        """The order's sandbox statuses, as failure messages name them."""
        if len(set(order.natives)) == 1:
            return f"sandbox status {order.natives[0]!r}"
        return f"sandbox item statuses {order.natives!r}"

    # -- moves ------------------------------------------------------------------------------

    def steps(self, order: ModelOrder) -> list[SandboxStep]:
        """Sandbox moves that keep the order (and each item) on legal transitions."""
        now = self.expected(order)
        found: list[SandboxStep] = []
        table = sorted(self.provider.native_statuses)
        whole: list[SandboxStep] = [(None, n) for n in table]
        single: list[SandboxStep] = [((p,), n) for p in range(len(order.natives)) for n in table]
        for positions, native in whole + (single if self.per_item else []):
            chosen = range(len(order.natives)) if positions is None else positions
            after = list(order.natives)
            for p in chosen:
                after[p] = native
            if after == order.natives or not self._legal(order.natives, after, chosen):
                continue
            state = self.state_of(after)
            if state is now or can_transition(now, state):
                found.append((positions, native))
        return found

    def _legal(self, before: list[str], after: list[str], chosen: Iterable[int]) -> bool:
        for p in chosen:
            old, new = self.mapper.native(before[p]).state, self.mapper.native(after[p]).state
            if old is not new and not can_transition(old, new):
                return False
        return True

    def set(self, order: ModelOrder, native: str, positions: tuple[int, ...] | None) -> None:
        """The sandbox set ``native`` on some items (or all)."""
        for p in range(len(order.natives)) if positions is None else positions:
            order.natives[p] = native

    # -- updates ----------------------------------------------------------------------------

    def verdict(self, order: ModelOrder, goal: OrderState) -> UpdateVerdict | None:
        """What the rules say about updating ``order`` to ``goal``; ``None``: no updates."""
        rules = self.provider.update_rules_in_force()
        if rules is None:
            return None
        return rules.decide(goal, order.natives, key=self.key)

    def updated(self, order: ModelOrder, native: str) -> bool:
        """The update to ``native`` was applied; whether the move it made is legal."""
        before = self.expected(order)
        order.natives = [native] * len(order.natives)
        after = self.expected(order)
        return before is after or can_transition(before, after)

    # -- observations -----------------------------------------------------------------------

    def seen(self, order: ModelOrder, state: OrderState) -> None:
        """A fetch showed ``order`` in ``state``."""
        if state in TERMINAL:
            order.terminal = state
        order.states.add(state)
