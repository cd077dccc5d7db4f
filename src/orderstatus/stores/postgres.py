"""A store in a PostgreSQL database, shared by every process on every machine that opens it.

Needs the ``postgres`` extra (``pip install 'orderstatus[postgres]'``: psycopg 3 and its pool).
How it meets the protocol of :mod:`.base`:

- **One order at a time.** :meth:`PostgresStore.transaction` is a database transaction that
  first takes a transaction-level advisory lock on a 64-bit hash of ``(provider, order_id)``,
  so it serializes an order that has no row yet too (``SELECT … FOR UPDATE`` cannot lock a
  row that does not exist). Two orders whose hashes collide merely wait for each other.
- **The change log in commit order.** A log position taken before commit (a sequence) can be
  committed after a larger one, and a reader of ``id > last`` would skip it. Positions are
  taken instead, after the order's lock, from a one-row counter in a short transaction of their
  own on a second connection, which also records the position as *in flight* for the writing
  transaction; the writer deletes that record when it commits. A reader reads, in one snapshot,
  only below the lowest position still in flight (records of aborted writers are ignored, then
  cleared). Writers never wait for each other's commits; readers never wait at all.
- **Shared sweeps.** :meth:`PostgresStore.claim_due` leases due rows with
  ``FOR UPDATE SKIP LOCKED``; :meth:`PostgresStore.hold_feed` is a session-level advisory lock
  (held across the feed's network calls without keeping a transaction open);
  :meth:`PostgresStore.save_cursor` is a conditional update.
- **Schema.** Tables are named ``orderstatus_*``; the schema's version is kept in
  ``orderstatus_schema``, and creating or migrating it happens in one transaction under an
  advisory lock, so workers starting at once wait for the first one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from orderstatus.errors import ConfigurationError
from orderstatus.lifecycle import is_terminal
from orderstatus.models import OrderStatus, Secret, StatusChange
from orderstatus.tracking.history import CHANGES, HistoryEntry

from . import codec
from ._retention import in_chunks
from .base import OrderKey, OrderRecord, as_utc

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

__all__ = ["SCHEMA_VERSION", "PostgresStore"]

SCHEMA_VERSION = 1
"""The schema this orderstatus writes (``orderstatus_schema.version``)."""

_EXTRA = "PostgresStore needs psycopg: pip install 'orderstatus[postgres]'"
_MAX_ID = 2**63 - 1
_OLDEST_SERVER = 130000
"""PostgreSQL 13: ``xid8``, ``pg_current_xact_id()`` and ``pg_xact_status(xid8)``."""
_CLEAR_EVERY = 60.0
"""Seconds between two clearings of in-flight records that aborted writers left."""


def _lock_key(*parts: str) -> int:
    """A signed 64-bit advisory lock key for ``parts`` (their kind first)."""
    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_SCHEMA_LOCK = _lock_key("schema")

# -- schema -------------------------------------------------------------------------------------

_SCHEMA_1 = """
CREATE TABLE orderstatus_orders (
    provider text NOT NULL,
    order_id text NOT NULL,
    state text NOT NULL,
    terminal boolean NOT NULL,
    status json NOT NULL,
    raw json NOT NULL,
    changed_at timestamptz NOT NULL,
    due_at timestamptz,
    PRIMARY KEY (provider, order_id)
);
CREATE INDEX orderstatus_orders_due ON orderstatus_orders (provider, due_at)
    WHERE due_at IS NOT NULL;
CREATE INDEX orderstatus_orders_open ON orderstatus_orders (provider, order_id)
    WHERE NOT terminal;
CREATE TABLE orderstatus_history (
    seq bigint PRIMARY KEY,
    provider text NOT NULL,
    order_id text NOT NULL,
    outcome text NOT NULL,
    change boolean NOT NULL,
    recorded_at timestamptz NOT NULL,
    entry json NOT NULL
);
CREATE INDEX orderstatus_history_order ON orderstatus_history (provider, order_id, seq);
CREATE INDEX orderstatus_history_changes ON orderstatus_history (seq) WHERE change;
CREATE INDEX orderstatus_history_recorded ON orderstatus_history (recorded_at);
CREATE TABLE orderstatus_log (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    last bigint NOT NULL
);
INSERT INTO orderstatus_log (last) VALUES (0);
CREATE TABLE orderstatus_inflight (
    seq bigint PRIMARY KEY,
    xid xid8 NOT NULL
);
CREATE INDEX orderstatus_inflight_xid ON orderstatus_inflight (xid);
CREATE TABLE orderstatus_cursors (
    provider text PRIMARY KEY,
    cursor text NOT NULL
);
CREATE TABLE orderstatus_consumers (
    name text PRIMARY KEY,
    position bigint NOT NULL
);
"""
"""``status`` is an order's status without its raw payload, kept in ``raw`` (a transaction
reads only the status); both are :mod:`.codec` JSON in ``json`` columns (kept as written, so
even a payload holding ``\\u0000`` is stored). ``orderstatus_log.last`` is the last log
position handed out; ``orderstatus_inflight`` holds the positions whose writer has not
committed yet."""

_MIGRATIONS: tuple[str, ...] = (_SCHEMA_1,)
"""``_MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``."""
assert len(_MIGRATIONS) == SCHEMA_VERSION

# -- statements ---------------------------------------------------------------------------------

_LOCKED_READ = """
SELECT pg_current_xact_id()::text, o.status, o.changed_at, o.due_at
FROM (SELECT 1) AS one
LEFT JOIN orderstatus_orders AS o ON o.provider = %s AND o.order_id = %s
"""
"""Run after the order's lock, as a statement of its own: its snapshot must come after the
lock was granted, or it could miss what the previous holder committed."""

_RESERVE = """
WITH taken AS (UPDATE orderstatus_log SET last = last + 1 RETURNING last)
INSERT INTO orderstatus_inflight (seq, xid) SELECT last, %s::xid8 FROM taken RETURNING seq
"""

_HORIZON = """
(SELECT coalesce(min(seq), 9223372036854775807) FROM orderstatus_inflight
 WHERE coalesce(pg_xact_status(xid), 'aborted') <> 'aborted')
"""
"""The lowest log position a writer may still commit: a reader reads below it only."""

_FORGET = "DELETE FROM orderstatus_inflight WHERE xid = %s::xid8"

_CLEAR = """
DELETE FROM orderstatus_inflight
WHERE xid < pg_snapshot_xmin(pg_current_snapshot())
"""
"""Records whose writer has finished: a committed writer deleted its own, so these aborted."""

_INSERT_ENTRY = """
INSERT INTO orderstatus_history (seq, provider, order_id, outcome, change, recorded_at, entry)
VALUES (%s, %s, %s, %s, %s, %s, %s::json)
"""

_UPSERT_ORDER = """
INSERT INTO orderstatus_orders
    (provider, order_id, state, terminal, status, raw, changed_at, due_at)
VALUES (%s, %s, %s, %s, %s::json, %s::json, %s, %s)
ON CONFLICT (provider, order_id) DO UPDATE SET
    state = excluded.state, terminal = excluded.terminal, status = excluded.status,
    raw = excluded.raw, changed_at = excluded.changed_at, due_at = excluded.due_at
"""

_RESCHEDULE = "UPDATE orderstatus_orders SET due_at = %s WHERE provider = %s AND order_id = %s"

_CLAIM = """
WITH due AS (
    SELECT provider, order_id, due_at FROM orderstatus_orders
    WHERE provider = %s AND due_at <= %s
    ORDER BY due_at LIMIT %s
    FOR UPDATE SKIP LOCKED
)
UPDATE orderstatus_orders AS o SET due_at = %s FROM due
WHERE o.provider = due.provider AND o.order_id = due.order_id
RETURNING o.order_id, due.due_at
"""


Pending = Sequence[tuple[str, Sequence[Any]]]
"""Statements with their parameters, to send in order."""


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _split(status: OrderStatus) -> tuple[str, str]:
    """A status as the orders table keeps it: the status without its payload, the payload."""
    return codec.to_json(attrs.evolve(status, raw={})), _json(dict(status.raw))


def _joined(status: Any, raw: Any) -> OrderStatus:
    return attrs.evolve(codec.from_data(status, OrderStatus), raw=raw)


def _check_key(provider: str, order_id: str) -> None:
    if "\0" in provider or "\0" in order_id:
        raise ValueError(f"{provider} order {order_id!r}: PostgreSQL cannot store a NUL character")


def describe_dsn(dsn: str | Secret) -> str:
    """``dsn`` (a URL or ``key=value`` string) as ``postgresql://user@host:port/dbname``:
    never its password, nor any other option."""
    import psycopg

    try:
        params = psycopg.conninfo.conninfo_to_dict(Secret(dsn).reveal())
    except psycopg.Error:
        params = None
    if params is None:  # the message would quote the string: say less
        raise ConfigurationError("the store's postgresql dsn is not a valid connection string")
    user = params.get("user")
    host = str(params.get("host") or "")
    port = params.get("port")
    where = f"[{host}]" if ":" in host and not host.startswith("/") else host
    return (f"postgresql://{f'{user}@' if user else ''}{where}{f':{port}' if port else ''}"
            f"/{params.get('dbname') or ''}")


# -- the store ----------------------------------------------------------------------------------


@attrs.define
class _PostgresTransaction:
    """One order's transaction: its record read under the lock; what it writes is sent when
    the block ends without an error (so a failed transaction of a batch sends nothing)."""

    record: OrderRecord | None
    store: PostgresStore
    xid: str
    provider: str
    order_id: str
    pending: list[tuple[str, Sequence[Any]]] = attrs.field(factory=list)
    """Statements to send once the transaction's block ends without an error."""

    def append(self, entry: HistoryEntry) -> HistoryEntry:
        seq = self.store._reserve(self.xid)
        self.pending.append((_INSERT_ENTRY, (
            seq, self.provider, self.order_id, entry.outcome.value, entry.outcome in CHANGES,
            as_utc(entry.recorded_at), codec.to_json(entry),
        )))
        return attrs.evolve(entry, seq=seq)

    def write(self, record: OrderRecord) -> None:
        status = record.status
        self.pending.append((_UPSERT_ORDER, (
            self.provider, self.order_id, status.state.value, is_terminal(status.state),
            *_split(status), as_utc(record.changed_at),
            None if record.due_at is None else as_utc(record.due_at),
        )))
        self.record = record

    def reschedule(self, due_at: dt.datetime | None) -> None:
        self.pending.append((_RESCHEDULE, (
            None if due_at is None else as_utc(due_at), self.provider, self.order_id,
        )))
        if self.record is not None:
            self.record = attrs.evolve(self.record, due_at=due_at)


class _Batch(threading.local):
    """This thread's open batch (its connection, depth, and the writes of its last
    transaction, sent with the next one's lock), and the id of its database transaction once
    that has log positions in flight."""

    conn: psycopg.Connection[Any] | None = None
    depth: int = 0
    xid: str | None = None
    pending: Pending = ()


class PostgresStore:
    """A store in a PostgreSQL database (13 or later; tested on 15), for many workers.

    Every process, on every machine, that opens the same database shares its orders, change
    log, consumers and feed cursors; each order's read-compare-write is serialized across all
    of them, and each due order is leased to one watcher at a time. Connections come from a
    pool of up to ``max_connections`` (each thread in a store call or a batch holds one; a
    feed being read holds one), plus one more for handing out log positions.

    Args:
        dsn: a libpq connection string, ``postgresql://user:password@host:port/dbname`` or
            ``host=… dbname=…``; libpq's environment variables (``PGPASSWORD``, ``PGHOST``…)
            and password file apply too. Kept as a :class:`~orderstatus.Secret`: never shown.
        max_connections: the most connections the pool opens.
        connect_timeout: seconds to wait for the server when connecting.
    """

    def __init__(
        self, dsn: str | Secret, *, max_connections: int = 10, connect_timeout: float = 10.0
    ) -> None:
        self._dsn = Secret(dsn)
        del dsn  # the frames an error passes through keep only the Secret
        if max_connections < 1:
            raise ValueError(f"max_connections must be 1 or more, got {max_connections}")
        try:
            import psycopg
            import psycopg_pool
        except ImportError:
            raise ConfigurationError(_EXTRA) from None
        self.location = describe_dsn(self._dsn)
        """Where the store is, as ``postgresql://user@host:port/dbname`` (no password)."""
        self._timeout = connect_timeout
        self._batch = _Batch()
        self._cleared = 0.0
        failure = self._migrate(psycopg)
        if failure is not None:  # raised here, outside the handler: no psycopg frame chained
            raise ConfigurationError(f"cannot open the store {self.location}: {failure}")
        options = {"autocommit": True, "connect_timeout": max(1, round(connect_timeout))}
        self._pool: psycopg_pool.ConnectionPool[Any] = psycopg_pool.ConnectionPool(
            self._dsn.reveal, kwargs=options, min_size=1, max_size=max_connections,
            open=True, timeout=max(connect_timeout, 30.0), name="orderstatus",
        )
        self._positions: psycopg_pool.ConnectionPool[Any] = psycopg_pool.ConnectionPool(
            self._dsn.reveal, kwargs=options, min_size=1, max_size=1, open=True,
            configure=_unsynced, timeout=max(connect_timeout, 30.0),
            name="orderstatus-positions",
        )
        """Hands out log positions, each in a short transaction of its own: no flush is
        waited for, since a writer's commit flushes the log up to its own record anyway."""

    def _migrate(self, psycopg: Any) -> str | None:
        """Create or migrate the schema; return why the database cannot be used, if so."""
        try:
            with psycopg.connect(self._dsn.reveal(), autocommit=True,
                                 connect_timeout=max(1, round(self._timeout))) as conn:
                if conn.info.server_version < _OLDEST_SERVER:
                    return (f"it runs postgresql {conn.info.server_version // 10000}; "
                            "orderstatus needs 13 or later")
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                    conn.execute("CREATE TABLE IF NOT EXISTS orderstatus_schema"
                                 " (version integer NOT NULL)")
                    row = conn.execute("SELECT max(version) FROM orderstatus_schema").fetchone()
                    version = row[0] if row and row[0] is not None else 0
                    if version > SCHEMA_VERSION:
                        return (f"it has schema version {version}; this orderstatus reads up "
                                f"to {SCHEMA_VERSION}: upgrade orderstatus")
                    for script in _MIGRATIONS[version:]:
                        conn.execute(script)
                    if version < SCHEMA_VERSION:
                        conn.execute("DELETE FROM orderstatus_schema")
                        conn.execute("INSERT INTO orderstatus_schema VALUES (%s)",
                                     (SCHEMA_VERSION,))
                conn.execute(_CLEAR)
        except psycopg.Error as err:
            return self._scrub(str(err).strip().splitlines()[0] if str(err).strip() else
                               type(err).__name__)
        return None

    def _scrub(self, text: str) -> str:
        import psycopg

        from orderstatus._redaction import Redactor

        password = psycopg.conninfo.conninfo_to_dict(self._dsn.reveal()).get("password")
        return Redactor([str(password)] if password else [])(text)

    # -- one order ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """This thread's batch connection (its writes so far sent first), or one from the
        pool for the call."""
        batch = self._batch
        if batch.conn is not None:
            self._send(batch.conn, batch.pending)
            batch.pending = []
            yield batch.conn
            return
        with self._pool.connection() as conn:
            yield conn

    def _reserve(self, xid: str) -> int:
        """A new log position, recorded as in flight for the transaction ``xid``."""
        now = time.monotonic()
        with self._positions.connection() as conn:
            if now - self._cleared > _CLEAR_EVERY:
                conn.execute(_CLEAR)
                self._cleared = now
            row = conn.execute(_RESERVE, (xid,)).fetchone()
        assert row is not None
        self._batch.xid = xid  # this thread's transaction, or its batch, has some in flight
        return int(row[0])

    def _release(self, xid: str | None) -> None:
        """After ``xid`` rolled back: forget its positions in flight (else they are cleared
        later, by age)."""
        if xid is None:
            return
        with contextlib.suppress(Exception), self._positions.connection() as conn:
            conn.execute(_FORGET, (xid,))

    @contextlib.contextmanager
    def transaction(self, provider: str, order_id: str) -> Iterator[_PostgresTransaction]:
        """A database transaction (or a part of this thread's batch) holding the order's
        advisory lock; its record's status comes without the raw payload."""
        _check_key(provider, order_id)
        batch = self._batch
        if batch.conn is not None:  # the batch's writes so far go with this order's lock
            txn = self._begin(batch.conn, provider, order_id, after=batch.pending)
            batch.pending = []
            yield txn
            batch.pending = txn.pending
            return
        with self._pool.connection() as conn:
            batch.xid = None
            try:
                with conn.transaction():
                    txn = self._begin(conn, provider, order_id)
                    yield txn
                    self._send(conn, txn.pending, forget=batch.xid)
            except BaseException:
                self._release(batch.xid)
                raise
            finally:
                batch.xid = None

    def _begin(self, conn: psycopg.Connection[Any], provider: str, order_id: str,
               *, after: Pending = ()) -> _PostgresTransaction:
        """Send ``after`` (writes of the batch), take the order's lock and read its record,
        as separate statements in one round trip."""
        with conn.pipeline(), conn.cursor() as cursor:
            for sql, params in after:
                cursor.execute(sql, params)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)",
                           (_lock_key("order", provider, order_id),))
            row = cursor.execute(_LOCKED_READ, (provider, order_id)).fetchone()
        assert row is not None
        xid, status, changed_at, due_at = row
        record = (None if status is None else
                  OrderRecord(codec.from_data(status, OrderStatus), changed_at, due_at))
        return _PostgresTransaction(record, self, xid, provider, order_id)

    @staticmethod
    def _send(conn: psycopg.Connection[Any], pending: Pending,
              *, forget: str | None = None) -> None:
        """Send a transaction's writes in one round trip; with ``forget``, also delete the
        in-flight records of that transaction id (it is about to commit)."""
        statements = [*pending, *([(_FORGET, (forget,))] if forget is not None else [])]
        if not statements:
            return
        with conn.pipeline(), conn.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """One database transaction for the block, on one connection of the pool; the
        advisory locks of its orders are held until it ends."""
        batch = self._batch
        if batch.depth:
            batch.depth += 1
            try:
                yield
            finally:
                batch.depth -= 1
            return
        with self._pool.connection() as conn:
            batch.conn, batch.depth, batch.xid, batch.pending = conn, 1, None, []
            try:
                with conn.transaction():
                    yield
                    self._send(conn, batch.pending, forget=batch.xid)
            except BaseException:
                self._release(batch.xid)
                raise
            finally:
                batch.conn, batch.depth, batch.xid, batch.pending = None, 0, None, []

    # -- reading -----------------------------------------------------------------------------

    def _rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with self._connection() as conn:
            return conn.execute(sql, params).fetchall()

    def current(self, provider: str, order_id: str) -> OrderStatus | None:
        rows = self._rows("SELECT status, raw FROM orderstatus_orders"
                          " WHERE provider = %s AND order_id = %s", provider, order_id)
        return _joined(*rows[0]) if rows else None

    def history(self, provider: str, order_id: str) -> list[HistoryEntry]:
        rows = self._rows("SELECT seq, entry FROM orderstatus_history"
                          " WHERE provider = %s AND order_id = %s ORDER BY seq",
                          provider, order_id)
        return [_entry(seq, data) for seq, data in rows]

    def orders(
        self, *, after: OrderKey | None = None, limit: int = 1000, non_terminal: bool = False
    ) -> list[OrderStatus]:
        where = ["(provider, order_id) > (%s, %s)"] if after is not None else []
        if non_terminal:
            where.insert(0, "NOT terminal")
        sql = "SELECT status, raw FROM orderstatus_orders" + (
            f" WHERE {' AND '.join(where)}" if where else "")
        rows = self._rows(f"{sql} ORDER BY provider, order_id LIMIT %s", *(after or ()), limit)
        return [_joined(status, raw) for status, raw in rows]

    def count(self, *, non_terminal: bool = False) -> int:
        where = " WHERE NOT terminal" if non_terminal else ""
        return int(self._rows(f"SELECT count(*) FROM orderstatus_orders{where}")[0][0])

    def claim_due(
        self, provider: str, now: dt.datetime, *, limit: int, lease: dt.timedelta
    ) -> list[str]:
        """One statement: due rows that no other claimer (nor a writer) holds are locked,
        skipping the held ones, and leased."""
        now = as_utc(now)
        rows = self._rows(_CLAIM, provider, now, limit, now + lease)
        return [order_id for order_id, _ in sorted(rows, key=lambda row: row[1])]

    # -- the change log ----------------------------------------------------------------------

    def changes(self, after: int = 0, limit: int = 1000) -> list[StatusChange]:
        rows = self._rows(
            "SELECT seq, entry FROM orderstatus_history WHERE change AND seq > %s"
            f" AND seq < {_HORIZON} ORDER BY seq LIMIT %s", after, limit,
        )
        return [c for seq, data in rows if (c := _entry(seq, data).change) is not None]

    def last_change_id(self) -> int:
        """The highest change id below every position still in flight (what :meth:`changes`
        can show), so that reading on from it never skips one."""
        found = self._rows(
            f"SELECT max(seq) FROM orderstatus_history WHERE change AND seq < {_HORIZON}")
        return int(found[0][0] or 0)

    def register_consumer(self, name: str) -> int:
        return int(self._rows(
            "INSERT INTO orderstatus_consumers (name, position) VALUES (%s, 0)"
            " ON CONFLICT (name) DO UPDATE SET position = orderstatus_consumers.position"
            " RETURNING position", name)[0][0])

    def ack(self, name: str, change_id: int) -> int:
        return int(self._rows(
            "INSERT INTO orderstatus_consumers (name, position) VALUES (%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET position ="
            " greatest(orderstatus_consumers.position, excluded.position) RETURNING position",
            name, change_id)[0][0])

    def consumers(self) -> dict[str, int]:
        return {name: int(position) for name, position in self._rows(
            "SELECT name, position FROM orderstatus_consumers ORDER BY name")}

    def drop_consumer(self, name: str) -> bool:
        return bool(self._rows("DELETE FROM orderstatus_consumers WHERE name = %s"
                               " RETURNING name", name))

    # -- feed cursors ------------------------------------------------------------------------

    def load_cursor(self, provider: str) -> str | None:
        rows = self._rows("SELECT cursor FROM orderstatus_cursors WHERE provider = %s",
                          provider)
        return str(rows[0][0]) if rows else None

    def save_cursor(self, provider: str, cursor: str | None, *, expected: str | None) -> bool:
        """One conditional statement: a concurrent save of the same cursor waits, then finds
        the cursor changed and saves nothing."""
        if cursor is None and expected is None:
            return not self._rows("SELECT 1 FROM orderstatus_cursors WHERE provider = %s",
                                  provider)
        params: tuple[str | None, ...]
        if cursor is None:
            sql, params = ("DELETE FROM orderstatus_cursors WHERE provider = %s"
                           " AND cursor = %s RETURNING 1", (provider, expected))
        elif expected is None:
            sql, params = ("INSERT INTO orderstatus_cursors (provider, cursor) VALUES (%s, %s)"
                           " ON CONFLICT (provider) DO NOTHING RETURNING 1", (provider, cursor))
        else:
            sql, params = ("UPDATE orderstatus_cursors SET cursor = %s WHERE provider = %s"
                           " AND cursor = %s RETURNING 1", (cursor, provider, expected))
        return bool(self._rows(sql, *params))

    @contextlib.contextmanager
    def hold_feed(self, provider: str, *, timeout: float = 0.0) -> Iterator[bool]:
        """A session-level advisory lock on one pooled connection, waited for up to
        ``timeout`` seconds (``lock_timeout``).

        Session-level, because a feed is read over the network: a transaction-level lock
        would keep a transaction open (and the database's cleanup waiting) meanwhile. A
        watcher that dies loses its session, and the lock with it.
        """
        import psycopg

        key = _lock_key("feed", provider)
        with self._pool.connection() as conn:
            if timeout > 0:
                conn.execute(f"SET lock_timeout = {max(1, round(timeout * 1000))}")
                try:
                    conn.execute("SELECT pg_advisory_lock(%s)", (key,))
                    held = True
                except psycopg.errors.LockNotAvailable:
                    held = False
                finally:
                    conn.execute("RESET lock_timeout")
            else:
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
                held = bool(row and row[0])
            try:
                yield held
            finally:
                if held:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    # -- retention ---------------------------------------------------------------------------

    def prune(self, before: dt.datetime) -> int:
        """Drop old entries in chunks, one transaction each (:mod:`._retention`); consumers
        cannot be added or moved while a chunk is decided (``SHARE`` lock on their table)."""
        return in_chunks(functools.partial(self._drop_chunk, as_utc(before)))

    def _drop_chunk(self, before: dt.datetime, limit: int) -> int:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("LOCK TABLE orderstatus_consumers IN SHARE MODE")
            return int(conn.execute(
                "DELETE FROM orderstatus_history WHERE seq IN (SELECT seq FROM"
                " orderstatus_history WHERE recorded_at < %s AND (NOT change OR seq <="
                " coalesce((SELECT min(position) FROM orderstatus_consumers), %s))"
                f" LIMIT {limit:d})", (before, _MAX_ID),
            ).rowcount)

    def close(self) -> None:
        self._pool.close()
        self._positions.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<PostgresStore {getattr(self, 'location', '(not opened)')}>"


def _unsynced(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET synchronous_commit = off")


def _entry(seq: int, data: Any) -> HistoryEntry:
    return attrs.evolve(codec.from_data(data, HistoryEntry), seq=seq)

