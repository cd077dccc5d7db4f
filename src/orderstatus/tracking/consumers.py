"""Named readers of the change log, whose position is kept in the store."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from orderstatus.models import StatusChange

if TYPE_CHECKING:
    from orderstatus.stores.base import Store

__all__ = ["MAX_LIMIT", "Consumer", "check_limit", "check_name", "check_position"]

MAX_LIMIT = 10_000
"""The most changes one read returns."""


def check_name(name: object) -> str:
    """``name`` if it can name a consumer: 1 to 128 printable characters, no whitespace."""
    if not isinstance(name, str):
        raise TypeError(f"a consumer name must be a string, not {type(name).__name__}")
    if not 1 <= len(name) <= 128 or not name.isprintable() or any(c.isspace() for c in name):
        raise ValueError(
            "a consumer name must be 1 to 128 printable characters without whitespace"
        )
    return name


def check_position(what: str, value: object) -> int:
    """``value`` if it is a change id or position: a whole number, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be a whole number, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what} must be 0 or more, got {value}")
    return value


def check_limit(limit: object) -> int:
    """``limit`` if it is a number of changes to read: 1 to :data:`MAX_LIMIT`."""
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"limit must be a whole number, not {type(limit).__name__}")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be 1 to {MAX_LIMIT}, got {limit}")
    return limit


class Consumer:
    """A named reader of the change log; its position lives in the store.

    :meth:`poll` returns the changes after the consumer's acknowledged position, and
    :meth:`ack` moves that position forward. Whatever was polled but not acknowledged comes
    back on the next poll, in this process or another, also after a crash: delivery is at
    least once, and handling a change id once makes it exactly once. Get one with
    :meth:`Tracker.consumer <orderstatus.Tracker.consumer>`; a new consumer starts at the
    oldest change the store still keeps.
    """

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = check_name(name)
        store.register_consumer(self.name)

    @property
    def position(self) -> int:
        """The highest change id acknowledged so far (0: none)."""
        found = self.store.consumers().get(self.name)
        return found if found is not None else self.store.register_consumer(self.name)

    def poll(self, limit: int = 100) -> list[StatusChange]:
        """Up to ``limit`` changes not yet acknowledged, oldest first."""
        return self.store.changes(self.position, check_limit(limit))

    def ack(self, change_id: int) -> int:
        """Acknowledge every change up to ``change_id``; return the new position.

        Acknowledging is idempotent and never moves the position back; an id above every
        change stored so far is refused with :class:`ValueError`.
        """
        check_position("a change id", change_id)
        position = self.position
        if change_id > position:
            last = self.store.last_change_id()
            if change_id > last:
                raise ValueError(
                    f"consumer {self.name!r}: there is no change {change_id} yet "
                    f"(the last is {last})"
                )
        return self.store.ack(self.name, change_id)

    async def apoll(self, limit: int = 100) -> list[StatusChange]:
        """:meth:`poll` from an event loop (the store is used in a worker thread)."""
        return await asyncio.to_thread(self.poll, limit)

    async def aack(self, change_id: int) -> int:
        """:meth:`ack` from an event loop (the store is used in a worker thread)."""
        return await asyncio.to_thread(self.ack, change_id)

    def __repr__(self) -> str:
        return f"<Consumer {self.name!r} of {self.store!r}>"
