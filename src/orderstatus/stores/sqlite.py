"""A store in an SQLite file (standard library only), and where the command keeps it."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs

from orderstatus.errors import ConfigurationError
from orderstatus.lifecycle import is_terminal
from orderstatus.models import OrderStatus, StatusChange
from orderstatus.tracking.history import HistoryEntry

from . import codec
from ._feeds import LocalFeedReaders
from ._retention import in_chunks
from ._sqlite_format import (
    ENTRIES,
    INSERT_ENTRY,
    MIGRATIONS,
    SCHEMA_VERSION,
    body_text,
    drop_entries,
    entry_of,
    entry_values,
    micros,
    moment,
    raw_text,
    record_times,
    status_of,
    time_of,
    with_seq,
)
from .base import OrderKey, OrderRecord

if TYPE_CHECKING:
    import sqlite3

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "default_store_path"]

_STATUSES = (
    "SELECT o.provider, o.order_id, coalesce(o.body, h.body), o.observed_at, o.provider_time,"
    " coalesce(o.raw, h.raw) FROM orders o LEFT JOIN history h ON h.seq = o.head"
)
"""The query that reads orders' statuses, raw payloads included (add ``WHERE``)."""

_INSERT_ORDER = (
    "INSERT INTO orders (changed_at, due_at, observed_at, provider_time, head, body, raw,"
    " provider, order_id, state, terminal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE_ORDER = {
    (state, terminal): "UPDATE orders SET changed_at = ?, due_at = ?, observed_at = ?,"
    " provider_time = ?, head = ?, body = ?, raw = ?" + ", state = ?" * state
    + ", terminal = ?" * terminal + " WHERE provider = ? AND order_id = ?"
    for state in (False, True) for terminal in (False, True)
}
"""An order row's update, by whether its state and its terminal flag change."""

_REMEMBERED = 1024


class _Written:
    """The statuses of the history rows this store wrote last, by ``seq`` (at most 1,024),
    raw payloads included, each with the row's payload text and at the times of the order
    row that last shared its body: an order's next transaction takes its record from here
    instead of reading and decoding the row its order's row shares. Sound across processes:
    a row's body and payload never change while it is shared, no ``seq`` is used twice, and
    the times are checked against the order's row. A row joins once its transaction
    commits."""

    def __init__(self) -> None:
        self._found: dict[int, tuple[OrderStatus, Any, Any, str | None]] = {}
        self._pending: list[tuple[int, OrderStatus, Times, str | None]] = []

    def add(self, seq: int, status: OrderStatus, times: Times, raw: str | None) -> None:
        """Remember ``status``, whose body and payload (``raw``, as text) are row ``seq``'s,
        at its order row's ``times``."""
        self._pending.append((seq, status, times, raw))

    def mark(self) -> int:
        return len(self._pending)

    def undo(self, mark: int = 0) -> None:
        """Forget what was added since ``mark`` (its savepoint or transaction rolled back)."""
        del self._pending[mark:]

    def commit(self) -> None:
        found = self._found
        for seq, status, (seen, when), raw in self._pending:
            found.pop(seq, None)  # the most recently written last
            found[seq] = (status, seen, when, raw)
            if len(found) > _REMEMBERED:
                del found[next(iter(found))]
        self._pending.clear()

    def get(self, seq: int, observed_at: Any, provider_time: Any,
            raw: str | None) -> tuple[OrderStatus, str | None] | None:
        """The status of an order whose row shares row ``seq``'s body, at the row's stored
        times, with row ``seq``'s payload if the order's row shares it too (``raw`` NULL),
        else without any; and row ``seq``'s payload text (``None``: not remembered)."""
        hit = self._found.pop(seq, None)
        if hit is None:
            return None
        self._found[seq] = hit  # the most recently used last
        status, seen, when, shared = hit
        if seen == observed_at and when == provider_time and raw is None:
            return status, shared
        seen_at = time_of(observed_at)
        assert seen_at is not None
        return attrs.evolve(status, observed_at=seen_at, provider_time=time_of(provider_time),
                            raw={}), shared


Kept = tuple[int | None, str | None]
"""How a row keeps a status's body: ``(None, its JSON text)``, or ``(seq, None)``: the body of
history row ``seq`` (see :mod:`._sqlite_format`)."""

Times = tuple[int | str | None, int | str | None]
"""A status's ``observed_at`` and ``provider_time`` as rows keep them (:func:`record_times`)."""

_READ_ORDER = (
    "SELECT changed_at, due_at, observed_at, provider_time, head, body, raw FROM orders"
    " WHERE provider = ? AND order_id = ?"
)
_READ_SHARED = "SELECT body, raw FROM history WHERE seq = ?"
"""The body and payload an order's row shares (read when they are not remembered)."""


class _Writing:
    """One write transaction, or a savepoint in the batch this thread has open: a context
    manager giving the connection (a class rather than a generator: every observation opens
    one, and this is the cheaper of the two)."""

    __slots__ = ("_mark", "_store")

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self._mark: int | None = None
        """Where the batch's savepoint began in :class:`_Written` (``None``: no batch)."""

    def __enter__(self) -> sqlite3.Connection:
        store = self._store
        store._lock.acquire()
        try:
            if store._batches:
                self._mark = store._written.mark()
                store._db.execute("SAVEPOINT step")
            else:
                store._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            store._lock.release()
            raise
        return store._db

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        store = self._store
        db, written, mark = store._db, store._written, self._mark
        try:
            if mark is not None:
                if exc_type is not None:
                    written.undo(mark)
                    db.execute("ROLLBACK TO step")
                db.execute("RELEASE step")
            elif exc_type is None:
                try:
                    db.execute("COMMIT")
                except BaseException:
                    _roll_back(db, written)
                    raise
                written.commit()
            else:
                _roll_back(db, written)
        finally:
            store._lock.release()


def _roll_back(db: sqlite3.Connection, written: _Written) -> None:
    written.undo()
    if db.in_transaction:
        db.execute("ROLLBACK")


class _SQLiteTransaction:
    """One order's read-compare-write (a context manager: :meth:`SQLiteStore.transaction`),
    knowing how its row keeps the record's status."""

    __slots__ = ("_writing", "appended", "db", "head_raw", "kept", "order_id", "provider",
                 "record", "row_times", "written")

    def __init__(self, store: SQLiteStore, provider: str, order_id: str) -> None:
        self._writing = _Writing(store)
        self.written = store._written
        self.provider = provider
        self.order_id = order_id
        self.record: OrderRecord | None = None
        self.kept: Kept = (None, None)
        """How the order's row keeps the record's body (``(None, None)``: no row)."""
        self.head_raw: str | None = None
        """The payload text of the history row whose body the order's row shares, if it
        does."""
        self.row_times: Times = (None, None)
        """The record's times as its row keeps them."""
        self.appended: tuple[int, OrderStatus, str | None, Times] | None = None
        """The last history row appended here that holds its status's body and payload
        itself, its status, its payload text and its times."""

    def __enter__(self) -> _SQLiteTransaction:
        self.db = db = self._writing.__enter__()
        try:
            self._read(db.execute(_READ_ORDER, (self.provider, self.order_id)).fetchone())
        except BaseException as err:
            self._writing.__exit__(type(err), err, err.__traceback__)
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._writing.__exit__(exc_type, exc, tb)

    def _read(self, row: tuple[Any, ...] | None) -> None:
        """Take the order's record from its row (with the history row it shares, if any)."""
        if row is None:
            return
        changed_at, due_at, observed_at, provider_time, head, own, raw = row
        found = None if own is not None else self.written.get(
            head, observed_at, provider_time, raw)
        if found is not None:
            status, shared_raw = found
        else:
            shared = shared_raw = None
            if own is None:
                shared, shared_raw = self.db.execute(_READ_SHARED, (head,)).fetchone() or (
                    None, None)
            status = status_of(self.provider, self.order_id, _body(own, shared), observed_at,
                               provider_time, None)
        self.record = OrderRecord(status, moment(changed_at),
                                  None if due_at is None else moment(due_at))
        self.kept, self.head_raw = (head, own), shared_raw
        self.row_times = observed_at, provider_time

    def _shared(self, status: OrderStatus) -> Kept | None:
        """How to keep ``status`` without encoding it, when its body is the record's."""
        record = self.record
        if record is None or not (
            status is record.status or codec.same_body(status, record.status)
        ):
            return None
        return self.kept

    def _keep(self, status: OrderStatus) -> Kept:
        return self._shared(status) or (None, body_text(status))

    def _times(self, status: OrderStatus) -> Times:
        """``status``'s times as rows keep them (the record's row's, when they are its)."""
        record = self.record
        if record is not None and status.observed_at is record.status.observed_at and (
            status.provider_time is record.status.provider_time
        ):
            return self.row_times
        return record_times(status)

    def append(self, entry: HistoryEntry) -> HistoryEntry:
        status, replaced = entry.status, entry.previous_status
        kept, raw, times = self._keep(status), raw_text(status.raw), record_times(status)
        cursor = self.db.execute(INSERT_ENTRY, entry_values(
            None, entry, self.provider, self.order_id, kept, raw, times,
            (None, None) if replaced is None else self._keep(replaced),
            (None, None) if replaced is None else self._times(replaced),
        ))
        seq = cursor.lastrowid
        assert seq is not None
        if kept[0] is None:
            self.appended = seq, status, raw, times
        return with_seq(entry, seq)

    def write(self, record: OrderRecord) -> None:
        status, appended = record.status, self.appended
        kept: Kept
        raw: str | None
        if appended is not None and status is appended[1]:
            seq, _, self.head_raw, times = appended  # that row's body and payload
            kept, raw = (seq, None), None
            self.written.add(seq, status, times, self.head_raw)
        else:
            kept, raw, times = self._keep(status), raw_text(status.raw), self._times(status)
            head, body = kept
            shares = head is not None and raw == self.head_raw  # the shared row's payload
            if head is not None and body is None and shares:  # row head's body and payload
                self.written.add(head, status, times, raw)
            raw = None if shares else raw or "{}"
        values = (micros(record.changed_at),
                  None if record.due_at is None else micros(record.due_at),
                  *times, *kept, raw, self.provider, self.order_id)
        state = status.state
        if self.record is None:
            self.db.execute(_INSERT_ORDER, (*values, state, int(is_terminal(state))))
        else:  # the row exists (this transaction holds it): unchanged columns stay, and so do
            before = self.record.status.state  # the index entries on them
            terminal = is_terminal(state)
            moved = (state is not before, terminal is not is_terminal(before))
            extra = (state,) * moved[0] + (int(terminal),) * moved[1]
            self.db.execute(_UPDATE_ORDER[moved], (*values[:-2], *extra, *values[-2:]))
        self.record, self.kept, self.row_times = record, kept, times

    def reschedule(self, due_at: dt.datetime | None) -> None:
        self.db.execute(
            "UPDATE orders SET due_at = ? WHERE provider = ? AND order_id = ?",
            (None if due_at is None else micros(due_at), self.provider, self.order_id),
        )
        if self.record is not None:
            self.record = attrs.evolve(self.record, due_at=due_at)


class SQLiteStore:
    """A store in an SQLite file (standard library only).

    The database runs in WAL mode with full sync, so readers never wait for writers and a
    committed observation survives a crash of the process. Every tracker transaction is one
    ``BEGIN IMMEDIATE`` transaction (a savepoint inside a :meth:`batch`), which makes the
    read-compare-write atomic across threads and across processes sharing the file; a busy
    database is waited for up to ``timeout`` seconds. The schema is versioned (``PRAGMA
    user_version``): a file written by an earlier orderstatus is migrated when opened, in one
    transaction; a file written by a newer one is refused rather than misread.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        import sqlite3

        self.path = Path(path)
        self._lock = threading.RLock()
        self._batches = 0
        self._written = _Written()
        self._feed_readers = LocalFeedReaders()
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                str(path), timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as err:
            raise ConfigurationError(f"cannot open the store {str(path)!r}: {err}") from err
        try:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except BaseException as err:
            self._db.close()
            if isinstance(err, (sqlite3.DatabaseError, codec.RecordFormatError)):
                raise ConfigurationError(f"cannot open the store {str(path)!r}: {err}") from err
            raise

    def _migrate(self) -> None:
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ConfigurationError(
                    f"the store {str(self.path)!r} has schema version {version}; this "
                    f"orderstatus reads up to {SCHEMA_VERSION}: upgrade orderstatus"
                )
            for step in MIGRATIONS[version:]:
                step(db)
            if version < SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- writing -----------------------------------------------------------------------------

    def _write(self) -> _Writing:
        """One write transaction, or a savepoint in the batch this thread has open."""
        return _Writing(self)

    def transaction(self, provider: str, order_id: str) -> _SQLiteTransaction:
        """A ``BEGIN IMMEDIATE`` transaction (a savepoint in a batch) around one order; its
        record's status comes without the raw payload, which the tracker never needs."""
        return _SQLiteTransaction(self, provider, order_id)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """One ``BEGIN IMMEDIATE`` transaction for the block: one commit, one sync."""
        with self._write(), self._lock:
            self._batches += 1
            try:
                yield
            finally:
                self._batches -= 1

    # -- reading -----------------------------------------------------------------------------

    def _query(self, sql: str, *args: Any) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def current(self, provider: str, order_id: str) -> OrderStatus | None:
        rows = self._query(f"{_STATUSES} WHERE o.provider = ? AND o.order_id = ?",
                           provider, order_id)
        return _status(rows[0]) if rows else None

    def history(self, provider: str, order_id: str) -> list[HistoryEntry]:
        rows = self._query(f"{ENTRIES} WHERE h.provider = ? AND h.order_id = ? ORDER BY h.seq",
                           provider, order_id)
        return [entry_of(row) for row in rows]

    def orders(
        self, *, after: OrderKey | None = None, limit: int = 1000, non_terminal: bool = False
    ) -> list[OrderStatus]:
        where = ["(o.provider, o.order_id) > (?, ?)"] if after is not None else []
        if non_terminal:
            where.insert(0, "o.terminal = 0")
        sql = _STATUSES + (f" WHERE {' AND '.join(where)}" if where else "")
        rows = self._query(f"{sql} ORDER BY o.provider, o.order_id LIMIT ?", *(after or ()),
                           limit)
        return [_status(row) for row in rows]

    def count(self, *, non_terminal: bool = False) -> int:
        where = " WHERE terminal = 0" if non_terminal else ""
        return int(self._query(f"SELECT count(*) FROM orders{where}")[0][0])

    def claim_due(
        self, provider: str, now: dt.datetime, *, limit: int, lease: dt.timedelta
    ) -> list[str]:
        """Claims are committed without waiting for the disk (``synchronous = NORMAL``): a
        lease lost to a power cut only makes its orders due again at once."""
        with self._lock, self._unsynced(), self._write() as db:
            rows = db.execute(
                "SELECT rowid, order_id FROM orders WHERE provider = ? AND due_at IS NOT NULL"
                " AND due_at <= ? ORDER BY due_at LIMIT ?", (provider, micros(now), limit),
            ).fetchall()
            until = micros(now + lease)
            db.executemany("UPDATE orders SET due_at = ? WHERE rowid = ?",
                           [(until, rowid) for rowid, _ in rows])
        return [order_id for _, order_id in rows]

    @contextlib.contextmanager
    def _unsynced(self) -> Iterator[None]:
        """Commit what the block writes without syncing (unless a batch holds it)."""
        if self._batches:
            yield
            return
        self._db.execute("PRAGMA synchronous = NORMAL")
        try:
            yield
        finally:
            self._db.execute("PRAGMA synchronous = FULL")

    # -- the change log ----------------------------------------------------------------------

    def changes(self, after: int = 0, limit: int = 1000) -> list[StatusChange]:
        rows = self._query(f"{ENTRIES} WHERE h.change = 1 AND h.seq > ? ORDER BY h.seq LIMIT ?",
                           after, limit)
        return [c for row in rows if (c := entry_of(row).change) is not None]

    def last_change_id(self) -> int:
        found = self._query("SELECT seq FROM history WHERE change = 1 ORDER BY seq DESC LIMIT 1")
        return int(found[0][0]) if found else 0

    def register_consumer(self, name: str) -> int:
        with self._write() as db:
            db.execute("INSERT INTO consumers (name, position) VALUES (?, 0)"
                       " ON CONFLICT (name) DO NOTHING", (name,))
            return int(db.execute("SELECT position FROM consumers WHERE name = ?",
                                  (name,)).fetchone()[0])

    def ack(self, name: str, change_id: int) -> int:
        with self._write() as db:
            db.execute("INSERT INTO consumers (name, position) VALUES (?, ?) ON CONFLICT (name)"
                       " DO UPDATE SET position = max(position, excluded.position)",
                       (name, change_id))
            return int(db.execute("SELECT position FROM consumers WHERE name = ?",
                                  (name,)).fetchone()[0])

    def consumers(self) -> dict[str, int]:
        return dict(self._query("SELECT name, position FROM consumers ORDER BY name"))

    def drop_consumer(self, name: str) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM consumers WHERE name = ?", (name,)).rowcount > 0

    # -- feed cursors ------------------------------------------------------------------------

    def load_cursor(self, provider: str) -> str | None:
        rows = self._query("SELECT cursor FROM cursors WHERE provider = ?", provider)
        return str(rows[0][0]) if rows else None

    def save_cursor(self, provider: str, cursor: str | None, *, expected: str | None) -> bool:
        with self._write() as db:
            row = db.execute("SELECT cursor FROM cursors WHERE provider = ?",
                             (provider,)).fetchone()
            if (row[0] if row else None) != expected:
                return False
            if cursor is None:
                db.execute("DELETE FROM cursors WHERE provider = ?", (provider,))
            else:
                db.execute("INSERT INTO cursors (provider, cursor) VALUES (?, ?)"
                           " ON CONFLICT (provider) DO UPDATE SET cursor = excluded.cursor",
                           (provider, cursor))
            return True

    def hold_feed(
        self, provider: str, *, timeout: float = 0.0
    ) -> contextlib.AbstractContextManager[bool]:
        """Keeps this store's threads apart only: another process reading the same feed
        through the same file is kept from moving the cursor back by :meth:`save_cursor`."""
        return self._feed_readers.hold(provider, timeout)

    # -- retention ---------------------------------------------------------------------------

    def prune(self, before: dt.datetime) -> int:
        """Drop old entries in chunks, one transaction each (:mod:`._retention`); what later
        rows share with a dropped one is copied into them first."""
        return in_chunks(functools.partial(self._drop_chunk, micros(before)))

    def _drop_chunk(self, before: int, limit: int) -> int:
        with self._write() as db:
            low = db.execute("SELECT min(position) FROM consumers").fetchone()[0]
            kept = "" if low is None else " AND (change = 0 OR seq <= ?)"
            args = (before,) if low is None else (before, low)
            return drop_entries(db, f"recorded_at < ?{kept}", args, limit)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SQLiteStore {str(self.path)!r}>"


def _body(own: str | None, shared: str | None) -> str:
    """An order's body: its row's own, or the one it shares."""
    body = own if own is not None else shared
    if body is None:
        raise codec.RecordFormatError("stored OrderStatus is not valid: its body is missing")
    return body


def _status(row: tuple[Any, ...]) -> OrderStatus:
    """The status a :data:`_STATUSES` row holds."""
    provider, order_id, body, observed_at, provider_time, raw = row
    return status_of(provider, order_id, _body(body, None), observed_at, provider_time, raw)


def default_store_path(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> Path:
    """The file the ``orderstatus`` command keeps its store in, in the user's data directory.

    Linux and other Unix: ``$XDG_DATA_HOME/orderstatus`` (default ``~/.local/share``); macOS:
    ``~/Library/Application Support/orderstatus``; Windows: ``%LOCALAPPDATA%\\orderstatus``
    (else ``%APPDATA%``). The file is ``orderstatus.sqlite3``.
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    home = Path(environ.get("HOME") or Path.home())
    if platform == "win32":
        found = environ.get("LOCALAPPDATA") or environ.get("APPDATA")
        base = Path(found) if found else home / "AppData" / "Local"
    elif platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else home / ".local" / "share"
    return base / "orderstatus" / "orderstatus.sqlite3"
