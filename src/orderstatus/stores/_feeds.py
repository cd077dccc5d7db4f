"""Feed readers kept apart within one process (for stores that share nothing wider)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

__all__ = ["LocalFeedReaders"]


class LocalFeedReaders:
    """One lock per provider's feed, among the threads reading feeds through one store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._feeds: dict[str, threading.Lock] = {}

    @contextlib.contextmanager
    def hold(self, provider: str, timeout: float = 0.0) -> Iterator[bool]:
        """:meth:`~orderstatus.stores.FeedState.hold_feed` among this store's threads."""
        with self._lock:
            feed = self._feeds.setdefault(provider, threading.Lock())
        held = feed.acquire(timeout=timeout) if timeout > 0 else feed.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                feed.release()
