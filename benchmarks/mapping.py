"""Mapping + aggregation + transition check: what the core spends per native status.

A stream of orders (one to three items, a realistic mix of fakeshop's native statuses) runs
through the path every observation takes: each item's native status is mapped
(:meth:`StatusMapper.native`), the items are aggregated (:func:`lifecycle.aggregate`) and the
move from the order's previous state is checked (:func:`lifecycle.check_move`). The figure is
item statuses per second. The baseline is the same loop with a plain ``dict`` lookup per status
and nothing else, the floor any Python implementation stands on. The whole ``to_status`` (which
also builds the :class:`OrderStatus` objects) is reported beside it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from orderstatus.lifecycle import OrderState, aggregate, check_move
from orderstatus.mapping import StatusMapper
from orderstatus.provider import ParsedItem, ParsedOrder

from ._common import Result

TARGET = 1_000_000


def _orders(count: int) -> list[tuple[OrderState, tuple[str, ...]]]:
    from orderstatus_fakeshop import FakeshopProvider

    rng = random.Random(7)
    natives = list(FakeshopProvider.native_statuses)
    weights = [5 if n in ("making", "sent", "arrived") else 1 for n in natives]
    return [
        (rng.choice(list(OrderState)),
         tuple(rng.choices(natives, weights, k=rng.randint(1, 3))))
        for _ in range(count)
    ]


def _timed(func: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def run(smoke: bool) -> list[Result]:
    """Measure statuses per second through map, aggregate and check."""
    from orderstatus_fakeshop import FakeshopProvider

    orders = _orders(2_000 if smoke else 200_000)
    statuses = sum(len(natives) for _, natives in orders)
    mapper = StatusMapper(FakeshopProvider)
    native = mapper.native
    table = {k: v.state for k, v in FakeshopProvider.native_statuses.items()}

    def core() -> None:
        for previous, natives in orders:
            check_move(previous, aggregate([native(n).state for n in natives]))

    def floor() -> None:
        for _, natives in orders:
            [table[n] for n in natives]

    parsed = [
        ParsedOrder("B-1", items=tuple(ParsedItem(str(i), n) for i, n in enumerate(natives)))
        for _, natives in orders[:20_000]
    ]

    def full() -> None:
        for order in parsed:
            mapper.to_status(order)

    rounds = 1 if smoke else 5
    ours, base = _timed(core, rounds), _timed(floor, rounds)
    rate = statuses / ours
    full_rate = sum(len(p.items) for p in parsed) / _timed(full, rounds)
    return [Result(
        "map+aggregate+check", f"{rate:,.0f} statuses/s ({ours / statuses * 1e9:.0f} ns each; "
        f"whole to_status with OrderStatus objects: {full_rate:,.0f}/s)",
        ours / base, "time / bare dict lookup per status", f">= {TARGET:,}/s", rate >= TARGET,
    )]
