"""A store in an SQLite file (standard library only), and where the command keeps it."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from orderstatus.errors import ConfigurationError
from orderstatus.lifecycle import is_terminal
from orderstatus.models import OrderStatus, StatusChange
from orderstatus.tracking.history import CHANGES, HistoryEntry, Outcome

from . import codec
from ._feeds import LocalFeedReaders
from .base import OrderKey, OrderRecord, as_utc

if TYPE_CHECKING:
    import sqlite3

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "default_store_path"]

SCHEMA_VERSION = 2
"""The schema this orderstatus writes; files of every earlier version are migrated."""

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICROSECOND = dt.timedelta(microseconds=1)
_PRUNE_CHUNK = 10_000


def _micros(moment: dt.datetime) -> int:
    """Microseconds since the epoch (UTC): how times are stored, so they sort and compare."""
    return (as_utc(moment) - _EPOCH) // _MICROSECOND


def _moment(micros: int) -> dt.datetime:
    return _EPOCH + micros * _MICROSECOND


# -- schema -------------------------------------------------------------------------------------

_SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS orders (
    provider TEXT NOT NULL,
    order_id TEXT NOT NULL,
    state TEXT NOT NULL,
    terminal INTEGER NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (provider, order_id)
);
CREATE INDEX IF NOT EXISTS orders_open ON orders (terminal, provider, order_id);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    order_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_order ON history (provider, order_id, seq);
CREATE TABLE IF NOT EXISTS cursors (
    provider TEXT PRIMARY KEY,
    cursor TEXT NOT NULL
);
"""

_SCHEMA_2 = """
ALTER TABLE orders ADD COLUMN changed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN due_at INTEGER;
ALTER TABLE orders ADD COLUMN raw TEXT NOT NULL DEFAULT '{}';
ALTER TABLE history ADD COLUMN recorded_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE history ADD COLUMN change INTEGER NOT NULL DEFAULT 0;
CREATE INDEX orders_due ON orders (provider, due_at) WHERE due_at IS NOT NULL;
CREATE INDEX history_changes ON history (seq) WHERE change = 1;
CREATE INDEX history_recorded ON history (recorded_at);
CREATE TABLE consumers (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);
"""
"""Times are microseconds since the epoch, UTC; ``due_at`` NULL: never due. An order's raw
payload is kept apart from its status (``raw``), so that a transaction reads only the status."""


def _statements(script: str) -> list[str]:
    return [s for s in script.split(";") if s.strip()]


def _to_version_2(db: sqlite3.Connection) -> None:
    """Schema 1 -> 2: change times, due times, the change log and consumers.

    History entries of schema 1 gain what a change now carries (its kinds, and the status it
    replaced, rebuilt from the entries before it); every open order is due at once.
    """
    from orderstatus.tracking.rules import changed_kinds

    for statement in _statements(_SCHEMA_2):
        db.execute(statement)
    key: OrderKey | None = None
    applied: OrderStatus | None = None
    changed_at: dt.datetime | None = None
    last = ("", "", 0)
    while True:
        rows = db.execute(
            "SELECT seq, provider, order_id, entry FROM history WHERE (provider, order_id, seq)"
            " > (?, ?, ?) ORDER BY provider, order_id, seq LIMIT 1000", last,
        ).fetchall()
        if not rows:
            break
        updates = []
        for seq, provider, order_id, text in rows:
            if (provider, order_id) != key:
                if key is not None and changed_at is not None:
                    _set_changed_at(db, key, changed_at)
                key, applied, changed_at = (provider, order_id), None, None
            entry = codec.from_json(text, HistoryEntry)
            if entry.outcome in CHANGES:
                entry = attrs.evolve(
                    entry, kinds=changed_kinds(applied, entry.status),
                    previous_status=None if applied is None else attrs.evolve(applied, raw={}),
                )
                changed_at = entry.status.observed_at
            if entry.outcome in CHANGES or entry.outcome is Outcome.DUPLICATE:
                applied = entry.status
            updates.append((codec.to_json(entry), _micros(entry.recorded_at),
                            int(entry.outcome in CHANGES), seq))
        db.executemany(
            "UPDATE history SET entry = ?, recorded_at = ?, change = ? WHERE seq = ?", updates
        )
        last = rows[-1][1], rows[-1][2], rows[-1][0]
    if key is not None and changed_at is not None:
        _set_changed_at(db, key, changed_at)
    rowid = 0
    while True:
        found = db.execute(
            "SELECT rowid, status, changed_at, terminal FROM orders WHERE rowid > ?"
            " ORDER BY rowid LIMIT 1000", (rowid,),
        ).fetchall()
        if not found:
            break
        schedule = []
        for rowid, text, changed, terminal in found:
            status = codec.from_json(text, OrderStatus)
            seen = _micros(status.observed_at)
            schedule.append((changed or seen, None if terminal else seen, *_split(status), rowid))
        db.executemany("UPDATE orders SET changed_at = ?, due_at = ?, status = ?, raw = ?"
                       " WHERE rowid = ?", schedule)


def _set_changed_at(db: sqlite3.Connection, key: OrderKey, changed_at: dt.datetime) -> None:
    db.execute("UPDATE orders SET changed_at = ? WHERE provider = ? AND order_id = ?",
               (_micros(changed_at), *key))


def _to_version_1(db: sqlite3.Connection) -> None:
    """A new file: the first schema (the later steps take it on from there)."""
    for statement in _statements(_SCHEMA_1):
        db.execute(statement)


_MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_to_version_1, _to_version_2)
"""``_MIGRATIONS[n]`` takes a file from version ``n`` to ``n + 1``; a new file runs them all."""
assert len(_MIGRATIONS) == SCHEMA_VERSION


def _split(status: OrderStatus) -> tuple[str, str]:
    """A status as the orders table keeps it: the status without its payload, the payload."""
    return codec.to_json(attrs.evolve(status, raw={})), json.dumps(
        dict(status.raw), separators=(",", ":"), default=str)


def _joined(text: str, raw: str) -> OrderStatus:
    return attrs.evolve(codec.from_json(text, OrderStatus), raw=json.loads(raw))


# -- the store ----------------------------------------------------------------------------------


@attrs.define
class _SQLiteTransaction:
    record: OrderRecord | None
    db: sqlite3.Connection
    provider: str
    order_id: str

    def append(self, entry: HistoryEntry) -> HistoryEntry:
        cursor = self.db.execute(
            "INSERT INTO history (provider, order_id, outcome, entry, recorded_at, change)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (self.provider, self.order_id, entry.outcome.value, codec.to_json(entry),
             _micros(entry.recorded_at), int(entry.outcome in CHANGES)),
        )
        assert cursor.lastrowid is not None
        return attrs.evolve(entry, seq=cursor.lastrowid)

    def write(self, record: OrderRecord) -> None:
        status = record.status
        values = (status.state.value, int(is_terminal(status.state)), *_split(status),
                  _micros(record.changed_at),
                  None if record.due_at is None else _micros(record.due_at),
                  self.provider, self.order_id)
        if self.record is not None:  # the row exists: this transaction holds it
            self.db.execute(
                "UPDATE orders SET state = ?, terminal = ?, status = ?, raw = ?, changed_at = ?,"
                " due_at = ? WHERE provider = ? AND order_id = ?", values)
        else:
            self.db.execute(
                "INSERT INTO orders (state, terminal, status, raw, changed_at, due_at, provider,"
                " order_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)
        self.record = record

    def reschedule(self, due_at: dt.datetime | None) -> None:
        self.db.execute(
            "UPDATE orders SET due_at = ? WHERE provider = ? AND order_id = ?",
            (None if due_at is None else _micros(due_at), self.provider, self.order_id),
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
            for step in _MIGRATIONS[version:]:
                step(db)
            if version < SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- writing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, or a savepoint in the batch this thread has open."""
        with self._lock:
            db = self._db
            if self._batches:
                db.execute("SAVEPOINT step")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK TO step")
                    db.execute("RELEASE step")
                    raise
                db.execute("RELEASE step")
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def transaction(self, provider: str, order_id: str) -> Iterator[_SQLiteTransaction]:
        """A ``BEGIN IMMEDIATE`` transaction (a savepoint in a batch) around one order; its
        record's status comes without the raw payload, which the tracker never needs."""
        with self._write() as db:
            row = db.execute(
                "SELECT status, changed_at, due_at FROM orders"
                " WHERE provider = ? AND order_id = ?", (provider, order_id),
            ).fetchone()
            yield _SQLiteTransaction(_record(row) if row else None, db, provider, order_id)

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
        rows = self._query(
            "SELECT status, raw FROM orders WHERE provider = ? AND order_id = ?",
            provider, order_id,
        )
        return _joined(*rows[0]) if rows else None

    def history(self, provider: str, order_id: str) -> list[HistoryEntry]:
        rows = self._query(
            "SELECT seq, entry FROM history WHERE provider = ? AND order_id = ? ORDER BY seq",
            provider, order_id,
        )
        return [_entry(seq, text) for seq, text in rows]

    def orders(
        self, *, after: OrderKey | None = None, limit: int = 1000, non_terminal: bool = False
    ) -> list[OrderStatus]:
        where = ["(provider, order_id) > (?, ?)"] if after is not None else []
        if non_terminal:
            where.insert(0, "terminal = 0")
        sql = "SELECT status, raw FROM orders" + (
            f" WHERE {' AND '.join(where)}" if where else "")
        rows = self._query(f"{sql} ORDER BY provider, order_id LIMIT ?", *(after or ()), limit)
        return [_joined(text, raw) for text, raw in rows]

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
                " AND due_at <= ? ORDER BY due_at LIMIT ?", (provider, _micros(now), limit),
            ).fetchall()
            until = _micros(now + lease)
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
        rows = self._query(
            "SELECT seq, entry FROM history WHERE change = 1 AND seq > ? ORDER BY seq LIMIT ?",
            after, limit,
        )
        return [c for seq, text in rows if (c := _entry(seq, text).change) is not None]

    def last_change_id(self) -> int:
        found = self._query("SELECT max(seq) FROM history WHERE change = 1")[0][0]
        return int(found or 0)

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
        """Drop old entries in chunks of 10,000, one transaction each (writers get a turn)."""
        dropped = 0
        while True:
            with self._write() as db:
                low = db.execute("SELECT min(position) FROM consumers").fetchone()[0]
                kept = "" if low is None else " AND (change = 0 OR seq <= ?)"
                args = (_micros(before),) if low is None else (_micros(before), low)
                count = db.execute(
                    "DELETE FROM history WHERE seq IN (SELECT seq FROM history WHERE"
                    f" recorded_at < ?{kept} LIMIT {_PRUNE_CHUNK})", args,
                ).rowcount
            dropped += count
            if count < _PRUNE_CHUNK:
                return dropped

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SQLiteStore {str(self.path)!r}>"


def _record(row: tuple[str, int, int | None]) -> OrderRecord:
    text, changed_at, due_at = row
    return OrderRecord(codec.from_json(text, OrderStatus), _moment(changed_at),
                       None if due_at is None else _moment(due_at))


def _entry(seq: int, text: str) -> HistoryEntry:
    return attrs.evolve(codec.from_json(text, HistoryEntry), seq=seq)


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
