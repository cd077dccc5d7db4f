"""``Tracker.observe`` on :class:`~orderstatus.SQLiteStore` against raw ``sqlite3``, and the file
each leaves behind.

The observations are real: orders in the provider's sandbox walk through three statuses (Print
API ``Created``, ``Processing``, ``Shipped``; Gooten's two items ``New``, ``InProduction``,
``Shipped``) and each status is fetched twice, as a webhook and a poll would see it, so of
every six observations one is a first sighting, two are moves and three are duplicates. They
are interleaved across orders (each order's own in sequence) and fed to both sides in the same
order, a slice per round, timed in CPU seconds (``time.process_time``; the fsync waits of
``synchronous = FULL`` are wall time, not CPU).

The baseline is the hand-written tracker of ``benchmarks/_handwritten.py`` (``RawTracker``):
one ``sqlite3`` transaction per observation with the same durability (WAL,
``synchronous = FULL``), the state, native status, payment and timestamps in their own columns
and the provider's answer as the JSON text it arrived as. Both reach the same verdicts on the
same observations (checked before the rounds), and keep the same history: every change, as the
tracker does by default, and once more with duplicates and stale observations kept too
(``keep_duplicates=True``; the baseline's ``keep_repeats``).

The size figure is the two database files after every observation, closed (so the WAL is
checkpointed into the file).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import tempfile
from pathlib import Path

from orderstatus import Client, OrderStatus
from orderstatus.models import RawPayload
from orderstatus.stores import SQLiteStore
from orderstatus.tracking import Tracker

from ._common import (
    BASE,
    PROVIDERS,
    Result,
    Spread,
    at_most,
    interleaved,
    median,
    ratios,
    sandbox,
    us,
)
from ._handwritten import RawTracker

TARGET = at_most(1.5)
SIZE_TARGET = at_most(1.2)
WALKS = {"printapi": ("Processing", "Shipped"), "gooten": ("InProduction", "Shipped")}

def observe_raw(raw: RawTracker, status: OrderStatus, answer: str) -> str:
    """The baseline observing ``status``: its fields as the hand-written tracker takes them."""
    when = status.provider_time
    return raw.observe(
        status.provider, status.order_id, status.state, status.native_status,
        status.payment.value if status.payment else None,
        status.observed_at.astimezone(dt.timezone.utc).isoformat(),
        when.astimezone(dt.timezone.utc).isoformat() if when else None, answer,
    )


def answer(status: OrderStatus) -> str:
    """The provider's answer as the hand-written tracker keeps it: the text it arrived as."""
    raw = status.raw
    return raw.text if isinstance(raw, RawPayload) else json.dumps(dict(raw))


def observations(provider: str, orders: int) -> list[OrderStatus]:
    """Every order's walk, each status fetched twice, interleaved across orders (seeded)."""
    box = sandbox(provider, orders)
    walks: list[list[OrderStatus]] = [[] for _ in box.ids]
    with Client({provider: box.settings(BASE)}, transport=box.transport()) as client:
        for step in (None, *WALKS[provider]):
            for walk, order_id in zip(walks, box.ids, strict=True):
                if step is not None:
                    box.set_status(order_id, step)
                walk += [client.fetch(provider, order_id) for _ in range(2)]
    rng = random.Random(5)
    merged: list[OrderStatus] = []
    pending = [w[::-1] for w in walks]
    while pending:
        walk = rng.choice(pending)
        merged.append(walk.pop())
        if not walk:
            pending.remove(walk)
    return merged


def _check_same_outcomes(statuses: list[OrderStatus]) -> None:
    """The baseline reaches the tracker's verdicts (so both do the same work)."""
    with tempfile.TemporaryDirectory() as scratch:
        raw = RawTracker(Path(scratch) / "raw.sqlite3")
        tracker = Tracker(SQLiteStore(Path(scratch) / "ours.sqlite3"))
        try:
            for status in statuses:
                ours = tracker.record(status).outcome.value
                theirs = observe_raw(raw, status, "{}")
                if ours != theirs:
                    raise RuntimeError(f"baseline says {theirs}, tracker {ours}: {status}")
        finally:
            raw.close()
            tracker.close()


def _measure(provider: str, statuses: list[OrderStatus], rounds: int, keep: bool
             ) -> list[Result]:
    answers = [answer(s) for s in statuses]
    size = -(-len(statuses) // rounds)
    chunks = [range(n, min(n + size, len(statuses))) for n in range(0, len(statuses), size)]
    with tempfile.TemporaryDirectory() as scratch:
        ours_path, raw_path = Path(scratch) / "ours.sqlite3", Path(scratch) / "raw.sqlite3"
        tracker = Tracker(SQLiteStore(ours_path), keep_duplicates=keep)
        raw = RawTracker(raw_path, keep_repeats=keep)
        slices = {"orderstatus": iter(chunks), "baseline": iter(chunks)}

        def ours() -> None:
            for n in next(slices["orderstatus"]):
                tracker.observe(statuses[n])

        def baseline() -> None:
            for n in next(slices["baseline"]):
                observe_raw(raw, statuses[n], answers[n])

        try:
            times = interleaved({"orderstatus": ours, "baseline": baseline}, len(chunks) - 1)
        finally:
            tracker.close()
            raw.close()
        sizes = ours_path.stat().st_size, raw_path.stat().st_size
    per = {name: median(t) / size for name, t in times.items()}
    count = len(statuses)
    kept = ", repeats kept" if keep else ""
    return [
        Result(
            f"Tracker.observe{kept}", provider, ratios(times["orderstatus"], times["baseline"]),
            "raw sqlite3, one transaction each", TARGET,
            f"{us(per['orderstatus'])} CPU per observation vs {us(per['baseline'])} "
            f"({count:,} observations of {count // 6:,} orders, {len(chunks) - 1} rounds"
            f" of {size})",
        ),
        Result(
            f"database size{kept}", provider, Spread.of([sizes[0] / sizes[1]]),
            "hand-written tables", SIZE_TARGET,
            f"{sizes[0] / 1024:,.0f} KiB vs {sizes[1] / 1024:,.0f} KiB for the same "
            f"{count:,} observations ({sizes[0] / count:,.0f} vs {sizes[1] / count:,.0f} "
            "bytes each)",
        ),
    ]


def run(smoke: bool) -> list[Result]:
    """Observe CPU and database size, for each provider, with repeats dropped and kept."""
    orders, rounds = (10, 2) if smoke else (600, 36)
    results = []
    for provider in PROVIDERS:
        statuses = observations(provider, orders)
        _check_same_outcomes(statuses[: len(statuses) // 4])
        for keep in (False, True):
            results += _measure(provider, statuses, rounds, keep)
    return results
