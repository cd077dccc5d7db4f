"""Mapping + aggregation + transition check: what the core spends per native status.

A stream of orders in a realistic mix of the provider's native statuses (Print API: one status
per order; Gooten: one to three items, each with its own) runs through the path every
observation takes: each native status is mapped (:meth:`StatusMapper.native`), the items are
aggregated (:func:`lifecycle.aggregate`) and the move from the order's previous state is checked
(:func:`lifecycle.check_move`). The goal is a rate: a million statuses per second (CPU time).
Beside it, interleaved in the same rounds: the same loop with a bare ``dict`` lookup per status
and nothing else, the floor any Python implementation stands on, and the whole
:meth:`StatusMapper.to_status`, which also builds the frozen :class:`OrderStatus`.
"""

from __future__ import annotations

import random

from orderstatus.lifecycle import OrderState, aggregate, check_move
from orderstatus.mapping import StatusMapper
from orderstatus.plugins import default_registry
from orderstatus.provider import ParsedItem, ParsedOrder

from ._common import PROVIDERS, Result, Spread, at_least, interleaved, median

RATE = 1_000_000
COMMON = {"Created", "Processing", "Shipped", "New", "InProduction", "Printing", "Delivered"}


def _orders(provider: str, count: int) -> list[tuple[OrderState, tuple[str, ...]]]:
    rng = random.Random(7)
    natives = list(default_registry().provider(provider).native_statuses)
    weights = [5 if n in COMMON else 1 for n in natives]
    most = 1 if provider == "printapi" else 3
    return [
        (rng.choice(list(OrderState)), tuple(rng.choices(natives, weights, k=rng.randint(1, most))))
        for _ in range(count)
    ]


def _parsed(provider: str, natives: tuple[str, ...]) -> ParsedOrder:
    if provider == "printapi":
        return ParsedOrder("1", native_status=natives[0], items=(ParsedItem("1-1"),))
    return ParsedOrder("1", items=tuple(ParsedItem(str(i), n) for i, n in enumerate(natives)))


def _measure(provider: str, count: int, rounds: int) -> Result:
    cls = default_registry().provider(provider)
    orders = _orders(provider, count)
    statuses = sum(len(natives) for _, natives in orders)
    mapper = StatusMapper(cls)
    native = mapper.native
    table = {k: v.state for k, v in cls.native_statuses.items()}
    parsed = [_parsed(provider, natives) for _, natives in orders[: count // 10]]
    parsed_statuses = sum(len(natives) for _, natives in orders[: count // 10])

    def core() -> None:
        for previous, natives in orders:
            check_move(previous, aggregate([native(n).state for n in natives]))

    def floor() -> None:
        for _, natives in orders:
            [table[n] for n in natives]

    def full() -> None:
        for order in parsed:
            mapper.to_status(order)

    times = interleaved({"core": core, "floor": floor, "full": full}, rounds)
    rates = [statuses / t for t in times["core"]]
    return Result(
        "map+aggregate+check", provider, Spread.of([r / RATE for r in rates]),
        f"{RATE:,} statuses/s", at_least(1.0),
        f"{median(rates):,.0f} statuses/s CPU ({median(times['core']) / statuses * 1e9:.0f} ns "
        f"each, {median(times['core']) / median(times['floor']):.1f}x a bare dict lookup); "
        f"whole to_status: {parsed_statuses / median(times['full']):,.0f}/s",
    )


def run(smoke: bool) -> list[Result]:
    """Statuses per second through map, aggregate and check, for each provider."""
    count, rounds = (2_000, 1) if smoke else (100_000, 7)
    return [_measure(provider, count, rounds) for provider in PROVIDERS]
