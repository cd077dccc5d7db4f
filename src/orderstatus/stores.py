"""Where a :class:`~orderstatus.Tracker` keeps each order's state and history.

A store is anything that satisfies the small :class:`Store` protocol. Two ship with
orderstatus: :class:`MemoryStore` (one process, gone at exit) and :class:`SQLiteStore` (a file;
WAL; safe with several threads and several processes). A server database can follow by
implementing the same few methods.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import json
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import attrs
import cattrs

from .errors import ConfigurationError
from .lifecycle import OrderState, is_terminal
from .models import OrderStatus, StatusChange, utcnow

if TYPE_CHECKING:
    import sqlite3

__all__ = [
    "FeedState",
    "HistoryEntry",
    "MemoryStore",
    "Outcome",
    "SQLiteStore",
    "Store",
    "Transaction",
    "default_store_path",
]

SCHEMA_VERSION = 1


class Outcome(str, enum.Enum):
    """What the tracker made of one observation."""

    CHANGE = "change"
    """The order moved along the lifecycle (or was seen for the first time)."""
    ANOMALY = "anomaly"
    """The order made a move the lifecycle does not allow; applied, and flagged."""
    DUPLICATE = "duplicate"
    """Same canonical state as before; the stored snapshot is refreshed, nothing is emitted."""
    STALE = "stale"
    """Older than the observation already applied; dropped."""
    UNKNOWN = "unknown"
    """The provider said something with no canonical mapping; the order does not move."""

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class HistoryEntry:
    """One observation of one order, and what the tracker made of it."""

    outcome: Outcome
    status: OrderStatus
    """The observation. Its ``raw`` payload is kept for changes, anomalies and unknowns;
    duplicates and stale observations are stored without it."""
    previous: OrderState | None = None
    """The order's state before this observation (``None``: not tracked yet)."""
    skipped: tuple[OrderState, ...] = ()
    """For changes: states the order passed through unseen."""
    seq: int = 0
    """Position in the store, increasing; assigned when the entry is stored."""
    recorded_at: dt.datetime = attrs.field(factory=utcnow)
    """When the tracker recorded it."""

    @property
    def change(self) -> StatusChange | None:
        """The :class:`StatusChange` this entry records, or ``None`` when it is not one."""
        if self.outcome not in (Outcome.CHANGE, Outcome.ANOMALY):
            return None
        status = self.status
        return StatusChange(
            status.provider, status.order_id, self.previous, status.state, self.skipped,
            self.outcome is Outcome.ANOMALY, status,
        )


class Transaction(Protocol):
    """One order's record, locked for a read-compare-write (see :meth:`Store.transaction`)."""

    @property
    def current(self) -> OrderStatus | None:
        """The order's last applied observation, ``None`` when it is not tracked yet."""

    def append(self, entry: HistoryEntry) -> HistoryEntry:
        """Add ``entry`` to the order's history; return it with its ``seq`` set."""

    def set_current(self, status: OrderStatus) -> None:
        """Make ``status`` the order's current record."""


class FeedState(Protocol):
    """Where a :class:`~orderstatus.watch.Watcher` keeps each provider's feed cursor."""

    def load_cursor(self, provider: str) -> str | None:
        """The saved cursor of ``provider``'s change feed, ``None`` if there is none."""

    def save_cursor(self, provider: str, cursor: str | None) -> None:
        """Save (``None``: forget) ``provider``'s feed cursor."""


class Store(FeedState, Protocol):
    """What a tracker needs from a store.

    The one hard requirement is :meth:`transaction`: while its context is open no other
    transaction on the same order (in any thread or process sharing the store) may read or
    write; everything written inside it becomes visible and durable together when the context
    exits normally, and nothing of it when it exits with an exception.
    """

    def transaction(
        self, provider: str, order_id: str
    ) -> AbstractContextManager[Transaction]:
        """Lock one order's record for a read-compare-write."""

    def current(self, provider: str, order_id: str) -> OrderStatus | None:
        """The order's last applied observation, ``None`` when it is not tracked."""

    def history(self, provider: str, order_id: str) -> list[HistoryEntry]:
        """Every recorded observation of the order, oldest first."""

    def tracked(self, *, non_terminal: bool = False) -> list[OrderStatus]:
        """The current record of every tracked order (only non-terminal ones if asked)."""

    def close(self) -> None:
        """Release the store's resources."""


# -- serialisation ---------------------------------------------------------------------------

_converter = cattrs.Converter()
_converter.register_unstructure_hook(dt.datetime, lambda d: d.isoformat())
_converter.register_structure_hook(dt.datetime, lambda v, _: dt.datetime.fromisoformat(v))


def _dump(value: OrderStatus | HistoryEntry) -> str:
    return json.dumps(_converter.unstructure(value), separators=(",", ":"), default=str)


def _load_status(text: str) -> OrderStatus:
    return _converter.structure(json.loads(text), OrderStatus)


def _load_entry(text: str, seq: int) -> HistoryEntry:
    return attrs.evolve(_converter.structure(json.loads(text), HistoryEntry), seq=seq)


# -- memory ------------------------------------------------------------------------------------


@attrs.define
class _MemoryTransaction:
    current: OrderStatus | None
    store: MemoryStore
    entries: list[HistoryEntry] = attrs.field(factory=list)
    replacement: OrderStatus | None = None

    def append(self, entry: HistoryEntry) -> HistoryEntry:
        self.store._seq += 1
        entry = attrs.evolve(entry, seq=self.store._seq)
        self.entries.append(entry)
        return entry

    def set_current(self, status: OrderStatus) -> None:
        self.replacement = status


class MemoryStore:
    """A store in this process's memory: fast, thread-safe, and gone when the process ends."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._current: dict[tuple[str, str], OrderStatus] = {}
        self._history: dict[tuple[str, str], list[HistoryEntry]] = {}
        self._cursors: dict[str, str] = {}
        self._seq = 0

    @contextlib.contextmanager
    def transaction(self, provider: str, order_id: str) -> Iterator[_MemoryTransaction]:
        """Lock the store; apply what was written when the block ends without an error."""
        key = (provider, order_id)
        with self._lock:
            txn = _MemoryTransaction(self._current.get(key), self)
            yield txn
            if txn.entries:
                self._history.setdefault(key, []).extend(txn.entries)
            if txn.replacement is not None:
                self._current[key] = txn.replacement

    def current(self, provider: str, order_id: str) -> OrderStatus | None:
        with self._lock:
            return self._current.get((provider, order_id))

    def history(self, provider: str, order_id: str) -> list[HistoryEntry]:
        with self._lock:
            return list(self._history.get((provider, order_id), ()))

    def tracked(self, *, non_terminal: bool = False) -> list[OrderStatus]:
        with self._lock:
            found = sorted(self._current.items())
        return [s for _, s in found if not (non_terminal and is_terminal(s.state))]

    def load_cursor(self, provider: str) -> str | None:
        with self._lock:
            return self._cursors.get(provider)

    def save_cursor(self, provider: str, cursor: str | None) -> None:
        with self._lock:
            if cursor is None:
                self._cursors.pop(provider, None)
            else:
                self._cursors[provider] = cursor

    def close(self) -> None:
        return

    def __repr__(self) -> str:
        return f"<MemoryStore orders={len(self._current)}>"


# -- SQLite ------------------------------------------------------------------------------------

_SCHEMA = """
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


@attrs.define
class _SQLiteTransaction:
    current: OrderStatus | None
    db: sqlite3.Connection
    provider: str
    order_id: str

    def append(self, entry: HistoryEntry) -> HistoryEntry:
        cursor = self.db.execute(
            "INSERT INTO history (provider, order_id, outcome, entry) VALUES (?, ?, ?, ?)",
            (self.provider, self.order_id, entry.outcome.value, _dump(entry)),
        )
        assert cursor.lastrowid is not None
        return attrs.evolve(entry, seq=cursor.lastrowid)

    def set_current(self, status: OrderStatus) -> None:
        self.db.execute(
            "INSERT INTO orders (provider, order_id, state, terminal, status)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (provider, order_id) DO UPDATE SET"
            " state = excluded.state, terminal = excluded.terminal, status = excluded.status",
            (self.provider, self.order_id, status.state.value, int(is_terminal(status.state)),
             _dump(status)),
        )


class SQLiteStore:
    """A store in an SQLite file (standard library only).

    The database runs in WAL mode with full sync, so readers never wait for writers and a
    committed observation survives a crash of the process. Every tracker transaction is one
    ``BEGIN IMMEDIATE`` transaction, which makes the read-compare-write atomic across threads
    and across processes sharing the file; a busy database is waited for up to ``timeout``
    seconds. The schema is versioned (``PRAGMA user_version``); a file written by a newer
    orderstatus is refused rather than misread.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        import sqlite3

        self.path = Path(path)
        self._lock = threading.RLock()
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
            if isinstance(err, sqlite3.DatabaseError):
                raise ConfigurationError(f"cannot open the store {str(path)!r}: {err}") from err
            raise

    def _migrate(self) -> None:
        with self._immediate() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ConfigurationError(
                    f"the store {str(self.path)!r} has schema version {version}; this "
                    f"orderstatus reads up to {SCHEMA_VERSION}: upgrade orderstatus"
                )
            if version < SCHEMA_VERSION:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextlib.contextmanager
    def _immediate(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def transaction(self, provider: str, order_id: str) -> Iterator[_SQLiteTransaction]:
        """One ``BEGIN IMMEDIATE`` transaction around the order's read-compare-write."""
        with self._immediate() as db:
            row = db.execute(
                "SELECT status FROM orders WHERE provider = ? AND order_id = ?",
                (provider, order_id),
            ).fetchone()
            yield _SQLiteTransaction(
                _load_status(row[0]) if row else None, db, provider, order_id
            )

    def _query(self, sql: str, *args: Any) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def current(self, provider: str, order_id: str) -> OrderStatus | None:
        rows = self._query(
            "SELECT status FROM orders WHERE provider = ? AND order_id = ?", provider, order_id
        )
        return _load_status(rows[0][0]) if rows else None

    def history(self, provider: str, order_id: str) -> list[HistoryEntry]:
        rows = self._query(
            "SELECT seq, entry FROM history WHERE provider = ? AND order_id = ? ORDER BY seq",
            provider, order_id,
        )
        return [_load_entry(entry, seq) for seq, entry in rows]

    def tracked(self, *, non_terminal: bool = False) -> list[OrderStatus]:
        where = " WHERE terminal = 0" if non_terminal else ""
        rows = self._query(f"SELECT status FROM orders{where} ORDER BY provider, order_id")
        return [_load_status(status) for (status,) in rows]

    def load_cursor(self, provider: str) -> str | None:
        rows = self._query("SELECT cursor FROM cursors WHERE provider = ?", provider)
        return str(rows[0][0]) if rows else None

    def save_cursor(self, provider: str, cursor: str | None) -> None:
        with self._immediate() as db:
            if cursor is None:
                db.execute("DELETE FROM cursors WHERE provider = ?", (provider,))
            else:
                db.execute(
                    "INSERT INTO cursors (provider, cursor) VALUES (?, ?) ON CONFLICT (provider)"
                    " DO UPDATE SET cursor = excluded.cursor",
                    (provider, cursor),
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SQLiteStore {str(self.path)!r}>"


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
