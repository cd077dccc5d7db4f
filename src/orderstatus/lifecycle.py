"""The canonical order lifecycle, as data.

The transition table, the aggregation rule and the inference of skipped states live here.
The table is validated when this module is imported: every state is reachable from
``created``, terminal states have no exits and no unknown names appear.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Mapping

import attrs

__all__ = [
    "MAIN_LINE",
    "TERMINAL",
    "TRANSITIONS",
    "ActionReason",
    "Move",
    "OrderState",
    "PaymentState",
    "aggregate",
    "can_transition",
    "check_move",
    "is_terminal",
    "skipped",
    "to_mermaid",
]


class OrderState(str, enum.Enum):
    """Where an order is in the canonical lifecycle."""

    CREATED = "created"
    ON_HOLD = "on_hold"
    ACTION_REQUIRED = "action_required"
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    TEST = "test"
    UNKNOWN = "unknown"

    # Hash as the value string (consistent with ``==``, which compares the value) in C, not
    # Enum's Python-level hash of the name: every set and dict of states gets faster.
    __hash__ = str.__hash__

    def __str__(self) -> str:
        return self.value


class ActionReason(str, enum.Enum):
    """Why an order in ``action_required`` waits for someone."""

    ADDRESS = "address"
    ARTWORK = "artwork"
    PAYMENT = "payment"
    APPROVAL = "approval"
    PERSONALIZATION = "personalization"
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


class PaymentState(str, enum.Enum):
    """The state of an order's payment, where the provider has a payment step."""

    OPEN = "open"
    PAID = "paid"
    FAILED = "failed"
    """The payment was tried and did not go through; it must be made again."""
    CANCELLED = "cancelled"
    REFUNDED = "refunded"

    def __str__(self) -> str:
        return self.value


_S = OrderState

TRANSITIONS: Mapping[OrderState, frozenset[OrderState]] = {
    _S.CREATED: frozenset(
        {_S.ON_HOLD, _S.ACTION_REQUIRED, _S.IN_PRODUCTION, _S.SHIPPED, _S.DELIVERED,
         _S.CANCELLED, _S.TEST}
    ),
    _S.ON_HOLD: frozenset({_S.CREATED, _S.ACTION_REQUIRED, _S.IN_PRODUCTION, _S.CANCELLED}),
    _S.ACTION_REQUIRED: frozenset(
        {_S.CREATED, _S.ON_HOLD, _S.IN_PRODUCTION, _S.CANCELLED, _S.TEST}
    ),
    _S.IN_PRODUCTION: frozenset({_S.SHIPPED, _S.DELIVERED, _S.CANCELLED}),
    _S.SHIPPED: frozenset({_S.DELIVERED}),
    _S.DELIVERED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.TEST: frozenset(),
}
"""Observed transitions: what two successive snapshots of one order may show.

``unknown`` is deliberately absent: it is never a transition.
"""

TERMINAL: frozenset[OrderState] = frozenset(s for s, exits in TRANSITIONS.items() if not exits)
"""States an order never leaves."""

MAIN_LINE: tuple[OrderState, ...] = (_S.CREATED, _S.IN_PRODUCTION, _S.SHIPPED, _S.DELIVERED)
"""The production line; jumps along it infer the states in between."""

_RANK = {state: rank for rank, state in enumerate(MAIN_LINE)}


def _validate(table: Mapping[OrderState, frozenset[OrderState]]) -> None:
    """Check the table's laws; raise ``ValueError`` naming the first broken one."""
    states = set(OrderState) - {_S.UNKNOWN}
    if set(table) != states:
        raise ValueError(f"transition table must list exactly {sorted(states)}")
    for source, targets in table.items():
        stray = set(targets) - states
        if stray:
            raise ValueError(f"{source} lists unknown targets {sorted(stray)}")
        if source in targets:
            raise ValueError(f"{source} lists itself as a transition")
    reached = {_S.CREATED}
    frontier = [_S.CREATED]
    while frontier:
        for target in table[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    if reached != states:
        raise ValueError(f"states unreachable from created: {sorted(states - reached)}")
    for first, second in itertools.pairwise(MAIN_LINE):
        if second not in table[first]:
            raise ValueError(f"main line step {first} -> {second} is missing")


_validate(TRANSITIONS)


@attrs.frozen
class Move:
    """The verdict on one observed move: is it legal, and what did it skip?"""

    previous: OrderState
    current: OrderState
    legal: bool
    skipped: tuple[OrderState, ...]


def is_terminal(state: OrderState) -> bool:
    """Return whether ``state`` is terminal (delivered, cancelled, test)."""
    return state in TERMINAL


def can_transition(previous: OrderState, current: OrderState) -> bool:
    """Return whether two successive snapshots may show ``previous`` then ``current``.

    ``unknown`` on either side is never a transition, and staying put is not a move.
    """
    return current in TRANSITIONS.get(previous, frozenset())


def skipped(previous: OrderState, current: OrderState) -> tuple[OrderState, ...]:
    """Return the main-line states strictly between ``previous`` and ``current``.

    ``created -> delivered`` skipped ``(in_production, shipped)``; every other move skips nothing.
    """
    start, end = _RANK.get(previous), _RANK.get(current)
    if start is None or end is None or end <= start + 1:
        return ()
    return MAIN_LINE[start + 1 : end]


def check_move(previous: OrderState, current: OrderState) -> Move:
    """Answer "is this move legal, and what did it skip?" in one call."""
    known = _MOVES.get((previous, current))
    if known is not None:
        return known
    legal = can_transition(previous, current)
    return Move(previous, current, legal, skipped(previous, current) if legal else ())


_MOVES: dict[tuple[OrderState, OrderState], Move] = {}
_MOVES.update(((a, b), check_move(a, b)) for a in OrderState for b in OrderState)
"""Every verdict, worked out once: moves are immutable and there are only 81 of them."""


_PROGRESS_ORDER = {_S.CREATED: 0, _S.IN_PRODUCTION: 1, _S.SHIPPED: 2, _S.DELIVERED: 3}


def aggregate(states: Iterable[OrderState]) -> OrderState:
    """Aggregate item states into one order state.

    All items cancelled gives cancelled; otherwise cancelled items are ignored. Then any
    ``action_required`` wins, then any ``on_hold``; all ``test`` gives test; any ``unknown``
    gives unknown; ``test`` items mixed with others are ignored; the rest gives the least
    advanced of created < in_production < shipped < delivered. No items gives unknown.
    """
    present = set(states)
    if len(present) == 1:  # one distinct state (the common case) aggregates to itself
        return next(iter(present))
    if not present:
        return _S.UNKNOWN
    if present == {_S.CANCELLED}:
        return _S.CANCELLED
    present.discard(_S.CANCELLED)
    for decisive in (_S.ACTION_REQUIRED, _S.ON_HOLD):
        if decisive in present:
            return decisive
    if present == {_S.TEST}:
        return _S.TEST
    if _S.UNKNOWN in present:
        return _S.UNKNOWN
    present.discard(_S.TEST)
    return min(present, key=_PROGRESS_ORDER.__getitem__)


def to_mermaid() -> str:
    """Render the transition table as a Mermaid state diagram."""
    lines = ["stateDiagram-v2", "    [*] --> created"]
    for source, targets in TRANSITIONS.items():
        lines.extend(
            f"    {source.value} --> {target.value}"
            for target in sorted(targets, key=list(OrderState).index)
        )
        if not targets:
            lines.append(f"    {source.value} --> [*]")
    return "\n".join(lines)
