"""Retention in the SQL stores: history dropped in chunks, one transaction each, so that
writers get a turn between chunks (each store drops a chunk in its own SQL)."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["PRUNE_CHUNK", "in_chunks"]

PRUNE_CHUNK = 10_000
"""The most history entries one transaction of a prune drops."""


def in_chunks(drop: Callable[[int], int]) -> int:
    """Call ``drop(limit)`` (one transaction dropping up to ``limit`` entries, returning how
    many it dropped) until a chunk comes back short; return how many were dropped in all."""
    dropped = 0
    while True:
        count = drop(PRUNE_CHUNK)
        dropped += count
        if count < PRUNE_CHUNK:
            return dropped
