"""A store in this process's memory: fast, thread-safe, and gone when the process ends."""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import heapq
import itertools
import threading
from collections.abc import Iterator

import attrs

from orderstatus.models import OrderStatus, StatusChange
from orderstatus.tracking.history import HistoryEntry

from ._feeds import LocalFeedReaders
from .base import OrderKey, OrderRecord, as_utc

__all__ = ["MemoryStore"]


@attrs.define
class _Undo:
    """What a batch changed, to put back if it fails."""

    records: dict[OrderKey, OrderRecord | None] = attrs.field(factory=dict)
    appended: list[HistoryEntry] = attrs.field(factory=list)


@attrs.define
class _MemoryTransaction:
    record: OrderRecord | None
    store: MemoryStore
    entries: list[HistoryEntry] = attrs.field(factory=list)
    written: bool = False

    def append(self, entry: HistoryEntry) -> HistoryEntry:
        self.store._seq += 1
        entry = attrs.evolve(entry, seq=self.store._seq)
        self.entries.append(entry)
        return entry

    def write(self, record: OrderRecord) -> None:
        self.record, self.written = record, True

    def reschedule(self, due_at: dt.datetime | None) -> None:
        if self.record is not None:
            self.write(attrs.evolve(self.record, due_at=due_at))


class MemoryStore:
    """A store in this process's memory: fast, thread-safe, and gone when the process ends.

    One lock serialises every transaction (a batch holds it until the batch ends). Due orders
    are kept in a heap per provider, so claiming them does not scan every order.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._records: dict[OrderKey, OrderRecord] = {}
        self._keys: list[OrderKey] = []
        """The keys of ``_records``, sorted."""
        self._history: dict[OrderKey, list[HistoryEntry]] = {}
        self._change_ids: list[int] = []
        self._changes: list[HistoryEntry] = []
        self._due: dict[str, list[tuple[dt.datetime, str]]] = {}
        self._cursors: dict[str, str] = {}
        self._consumers: dict[str, int] = {}
        self._feed_readers = LocalFeedReaders()
        self._seq = 0
        self._undo: _Undo | None = None

    # -- writing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, provider: str, order_id: str) -> Iterator[_MemoryTransaction]:
        """Lock the store; apply what was written when the block ends without an error."""
        key = (provider, order_id)
        with self._lock:
            seq = self._seq
            txn = _MemoryTransaction(self._records.get(key), self)
            try:
                yield txn
            except BaseException:
                self._seq = seq
                raise
            self._apply(key, txn)

    def _apply(self, key: OrderKey, txn: _MemoryTransaction) -> None:
        undo = self._undo
        if txn.written and txn.record is not None:
            if undo is not None and key not in undo.records:
                undo.records[key] = self._records.get(key)
            self._put(key, txn.record)
        for entry in txn.entries:
            self._add(key, entry)
            if undo is not None:
                undo.appended.append(entry)

    def _put(self, key: OrderKey, record: OrderRecord) -> None:
        if key not in self._records:
            bisect.insort(self._keys, key)
        self._records[key] = record
        if record.due_at is not None:
            heapq.heappush(self._due.setdefault(key[0], []), (as_utc(record.due_at), key[1]))

    def _add(self, key: OrderKey, entry: HistoryEntry) -> None:
        self._history.setdefault(key, []).append(entry)
        if entry.change is not None:
            self._change_ids.append(entry.seq)
            self._changes.append(entry)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hold the lock for the block; undo every transaction in it if the block raises."""
        with self._lock:
            if self._undo is not None:  # nested: the outer batch decides
                yield
                return
            self._undo = undo = _Undo()
            try:
                yield
            except BaseException:
                self._rollback(undo)
                raise
            finally:
                self._undo = None

    def _rollback(self, undo: _Undo) -> None:
        for key, record in undo.records.items():
            if record is None:
                del self._records[key]
                self._keys.remove(key)
            else:
                self._put(key, record)
        gone = {id(entry) for entry in undo.appended}
        for entry in undo.appended:
            key = (entry.status.provider, entry.status.order_id)
            self._history[key] = [e for e in self._history[key] if id(e) not in gone]
            if not self._history[key]:
                del self._history[key]
        self._reindex_changes([e for e in self._changes if id(e) not in gone])

    def _reindex_changes(self, entries: list[HistoryEntry]) -> None:
        self._changes = entries
        self._change_ids = [e.seq for e in entries]

    # -- reading -----------------------------------------------------------------------------

    def current(self, provider: str, order_id: str) -> OrderStatus | None:
        with self._lock:
            record = self._records.get((provider, order_id))
        return record.status if record is not None else None

    def history(self, provider: str, order_id: str) -> list[HistoryEntry]:
        with self._lock:
            return list(self._history.get((provider, order_id), ()))

    def orders(
        self, *, after: OrderKey | None = None, limit: int = 1000, non_terminal: bool = False
    ) -> list[OrderStatus]:
        with self._lock:
            start = bisect.bisect_right(self._keys, after) if after is not None else 0
            found = []
            for key in itertools.islice(self._keys, start, None):
                status = self._records[key].status
                if non_terminal and status.is_terminal:
                    continue
                found.append(status)
                if len(found) >= limit:
                    break
            return found

    def count(self, *, non_terminal: bool = False) -> int:
        with self._lock:
            if not non_terminal:
                return len(self._records)
            return sum(not r.status.is_terminal for r in self._records.values())

    def claim_due(
        self, provider: str, now: dt.datetime, *, limit: int, lease: dt.timedelta
    ) -> list[str]:
        now = as_utc(now)
        claimed: list[str] = []
        with self._lock:
            heap = self._due.get(provider, [])
            while heap and len(claimed) < limit and heap[0][0] <= now:
                due_at, order_id = heapq.heappop(heap)
                record = self._records.get((provider, order_id))
                if record is None or record.due_at is None or as_utc(record.due_at) != due_at:
                    continue  # superseded by a later write
                if order_id in claimed:
                    continue
                claimed.append(order_id)
            for order_id in claimed:
                key = (provider, order_id)
                self._put(key, attrs.evolve(self._records[key], due_at=now + lease))
            if len(heap) > 2 * len(self._records) + 1024:  # drop superseded entries
                self._due[provider] = heap = [
                    (as_utc(r.due_at), k[1]) for k, r in self._records.items()
                    if k[0] == provider and r.due_at is not None
                ]
                heapq.heapify(heap)
        return claimed

    # -- the change log ----------------------------------------------------------------------

    def changes(self, after: int = 0, limit: int = 1000) -> list[StatusChange]:
        with self._lock:
            start = bisect.bisect_right(self._change_ids, after)
            entries = self._changes[start:start + limit]
        return [change for e in entries if (change := e.change) is not None]

    def last_change_id(self) -> int:
        with self._lock:
            return self._change_ids[-1] if self._change_ids else 0

    def register_consumer(self, name: str) -> int:
        with self._lock:
            return self._consumers.setdefault(name, 0)

    def ack(self, name: str, change_id: int) -> int:
        with self._lock:
            position = max(self._consumers.get(name, 0), change_id)
            self._consumers[name] = position
            return position

    def consumers(self) -> dict[str, int]:
        with self._lock:
            return dict(self._consumers)

    def drop_consumer(self, name: str) -> bool:
        with self._lock:
            return self._consumers.pop(name, None) is not None

    # -- feed cursors ------------------------------------------------------------------------

    def load_cursor(self, provider: str) -> str | None:
        with self._lock:
            return self._cursors.get(provider)

    def save_cursor(self, provider: str, cursor: str | None, *, expected: str | None) -> bool:
        with self._lock:
            if self._cursors.get(provider) != expected:
                return False
            if cursor is None:
                self._cursors.pop(provider, None)
            else:
                self._cursors[provider] = cursor
            return True

    def hold_feed(
        self, provider: str, *, timeout: float = 0.0
    ) -> contextlib.AbstractContextManager[bool]:
        return self._feed_readers.hold(provider, timeout)

    # -- retention ---------------------------------------------------------------------------

    def prune(self, before: dt.datetime) -> int:
        before = as_utc(before)
        with self._lock:
            kept_from = min(self._consumers.values(), default=None)

            def drop(entry: HistoryEntry) -> bool:
                if as_utc(entry.recorded_at) >= before:
                    return False
                return entry.change is None or kept_from is None or entry.seq <= kept_from

            dropped = 0
            for key, entries in list(self._history.items()):
                kept = [e for e in entries if not drop(e)]
                dropped += len(entries) - len(kept)
                if kept:
                    self._history[key] = kept
                else:
                    del self._history[key]
            self._reindex_changes([e for e in self._changes if not drop(e)])
            return dropped

    def close(self) -> None:
        return

    def __repr__(self) -> str:
        return f"<MemoryStore orders={len(self._records)}>"
