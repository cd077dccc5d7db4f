"""Feed readers kept apart within one process (for stores that share nothing wider)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

__all__ = ["LocalFeedReaders"]


class LocalFeedReaders:
    """Which providers' feeds a thread of this process is reading through one store."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reading: set[str] = set()

    @contextlib.contextmanager
    def hold(self, provider: str) -> Iterator[bool]:
        """:meth:`~orderstatus.stores.FeedState.hold_feed` among this store's threads."""
        with self._lock:
            held = provider not in self._reading
            self._reading.add(provider)
        try:
            yield held
        finally:
            if held:
                with self._lock:
                    self._reading.discard(provider)
