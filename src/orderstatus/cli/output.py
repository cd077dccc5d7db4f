"""What the command prints: lines, JSON records, tables and the progress bar."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from orderstatus.models import ItemStatus, OrderStatus, StatusChange
    from orderstatus.tables import Table

__all__ = [
    "PROGRESS_THRESHOLD",
    "Progress",
    "change_line",
    "change_printer",
    "change_record",
    "counted",
    "dumps",
    "error_line",
    "print_tables",
    "quiet",
    "say",
    "state_text",
    "status_record",
    "status_table",
]

PROGRESS_THRESHOLD = 20
"""A progress bar is shown on stderr (a terminal) when fetching more orders than this."""


_LINES = threading.Lock()


def say(text: str = "", *, err: bool = False) -> None:
    """Print one line on stdout (or stderr), flushed, whole: lines printed from several threads
    at once (a server's change lines) never run into each other."""
    stream = sys.stderr if err else sys.stdout
    with _LINES:
        stream.write(text + "\n")
        stream.flush()


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """``1 change``, ``2 changes``: a count and its noun, singular or plural (``plural``
    when adding an ``s`` is wrong: ``anomalies``)."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def error_line(message: str) -> None:
    """Print ``orderstatus: error: MESSAGE`` on stderr."""
    say(f"orderstatus: error: {message}", err=True)


def dumps(data: Any) -> str:
    """``data`` as one line of JSON (anything unusual as its ``str``)."""
    return json.dumps(data, ensure_ascii=False, default=str)


def print_tables(tables: Iterable[Table]) -> None:
    """Print tables as text, a blank line between them."""
    from orderstatus.tables import to_text

    say("\n\n".join(to_text(t) for t in tables))


@contextlib.contextmanager
def quiet(logger: str) -> Iterator[None]:
    """Silence a logger for a block (the command reports what it would have logged)."""
    import logging

    log = logging.getLogger(logger)
    before = log.disabled
    log.disabled = True
    try:
        yield
    finally:
        log.disabled = before


def status_record(status: OrderStatus) -> dict[str, Any]:
    """An order status as a JSON-ready mapping (the provider's raw payload left out)."""
    import datetime as dt
    import enum

    import attrs

    def plain(_: object, __: object, value: Any) -> Any:
        if isinstance(value, enum.Enum):
            return value.value
        return value.isoformat() if isinstance(value, dt.datetime) else value

    return attrs.asdict(
        status, filter=lambda a, _: a.name != "raw", value_serializer=plain
    )


def state_text(status: OrderStatus | ItemStatus) -> str:
    """The state, with its reason when it has one: ``action_required (address)``."""
    return f"{status.state} ({status.reason})" if status.reason else str(status.state)


def status_table(statuses: Iterable[OrderStatus], title: str = "Orders") -> Table:
    """One row per order: provider, order, state, native status, payment, tracking."""
    from orderstatus.tables import Table

    rows = tuple(
        (
            s.provider, s.order_id, state_text(s), s.native_status,
            (s.payment.value,) if s.payment else (),
            tuple(t.number or t.url or t.carrier or "?" for t in s.tracking),
        )
        for s in statuses
    )
    return Table(
        title=title,
        headers=("provider", "order", "state", "native status", "payment", "tracking"),
        rows=rows,
        empty="no orders",
    )


def _parcels(status: OrderStatus) -> str:
    return ", ".join(t.number or t.url or t.carrier or "?" for t in status.tracking) or "none"


def _items(status: OrderStatus) -> str:
    shown = [f"{i.item_id} {state_text(i)}" for i in status.items[:5]]
    more = len(status.items) - len(shown)
    return ", ".join(shown) + (f" (+{more} more)" if more > 0 else "") if shown else "none"


def change_line(change: StatusChange) -> str:
    """One readable line about a change: the state move (skipped states, anomalies), and
    the payment, tracking and items when they changed."""
    from orderstatus.models import ChangeKind

    status, before = change.status, change.previous_status
    where = f"{change.provider} order {change.order_id!r}"
    if change.previous is None:
        return f"{where}: first seen {state_text(status)} ({status.native_status})"
    parts = []
    if ChangeKind.STATE in change.kinds:
        was = state_text(before) if before is not None else str(change.previous)
        move = f"{was} -> {state_text(status)} ({status.native_status})"
        if change.skipped:
            move += f"; skipped {', '.join(s.value for s in change.skipped)}"
        if change.anomaly:
            move += "; anomaly: not a lifecycle move, applied anyway"
        parts.append(move)
    if ChangeKind.PAYMENT in change.kinds:
        paid = before.payment if before is not None else None
        parts.append(f"payment {paid or 'none'} -> {status.payment or 'none'}")
    if ChangeKind.TRACKING in change.kinds:
        parts.append(f"tracking {_parcels(status)}")
    if ChangeKind.ITEMS in change.kinds:
        parts.append(f"items {_items(status)}")
    return f"{where}: {'; '.join(parts)}"


def change_record(change: StatusChange) -> dict[str, Any]:
    """A change as a JSON-ready mapping."""
    before = change.previous_status
    return {
        "id": change.id, "provider": change.provider, "order_id": change.order_id,
        "kinds": sorted(k.value for k in change.kinds),
        "previous": change.previous.value if change.previous else None,
        "current": change.current.value, "skipped": [s.value for s in change.skipped],
        "anomaly": change.anomaly, "status": status_record(change.status),
        "previous_status": status_record(before) if before is not None else None,
    }


def change_printer(as_json: bool) -> Callable[[StatusChange], None]:
    """A tracker callback printing each change as a line (or a JSON line)."""

    def show(change: StatusChange) -> None:
        say(dumps(change_record(change)) if as_json else change_line(change))

    return show


class Progress:
    """A one-line progress bar on stderr, drawn at most ten times a second."""

    def __init__(self, total: int, enabled: bool, stream: TextIO) -> None:
        self.total, self.done, self.enabled, self.stream = total, 0, enabled, stream
        self._drawn = 0.0

    def step(self) -> None:
        """Count one finished order; redraw if due."""
        self.done += 1
        now = time.monotonic()
        if self.enabled and (now - self._drawn > 0.1 or self.done == self.total):
            self._drawn = now
            filled = 30 * self.done // max(self.total, 1)
            self.stream.write(
                f"\rfetching [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}"
            )
            self.stream.flush()

    def close(self) -> None:
        """Erase the bar."""
        if self.enabled:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()
