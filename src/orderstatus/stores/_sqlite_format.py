"""The SQLite store's file format: its tables, how statuses and history entries sit in their
rows, and the migrations from every earlier version.

Schema 3 keeps each observation once. A history row holds its status's *body*
(:func:`~orderstatus.stores.codec.body_data`: everything but the provider, the id, the times
and the raw payload, which have columns of their own) and, for a change or an unknown status,
the raw payload as JSON text. An order's row keeps its state, due and change times and the
times of its last applied observation in columns, and shares the body and payload of the
history row that recorded it (``head``) instead of copying them: it holds a body of its own
only when its status differs from that row's by more than its times (a duplicate that was not
kept, say, and whose statuses read otherwise), and a payload of its own when the observation
that last refreshed it brought one. A change's replaced status is shared the same way
(``previous_base``), and so is a kept duplicate's or stale observation's status when its body
is its order's (``base``): those are narrow rows, a few columns each. Every reference points
at a row that holds a body itself, of the same order; the bodies are copied out before such a
row is deleted (:func:`drop_entries`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from orderstatus.lifecycle import OrderState
from orderstatus.models import ChangeKind, OrderStatus, RawPayload
from orderstatus.tracking.history import CHANGES, HistoryEntry, Outcome

from . import codec
from .base import OrderKey

if TYPE_CHECKING:
    import sqlite3

__all__ = [
    "ENTRIES",
    "INSERT_ENTRY",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "body_text",
    "entry_of",
    "entry_values",
    "drop_entries",
    "micros",
    "moment",
    "raw_text",
    "record_times",
    "status_of",
    "time_of",
    "time_value",
    "with_seq",
]

SCHEMA_VERSION = 3
"""The schema this orderstatus writes; files of every earlier version are migrated."""

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICROSECOND = dt.timedelta(microseconds=1)
_UTC = dt.timezone.utc
_ENCODE = json.JSONEncoder(separators=(",", ":"), default=str).encode


def micros(moment: dt.datetime) -> int:
    """Microseconds since the epoch (UTC): how times are stored, so they sort and compare."""
    if moment.tzinfo is None:  # naive: UTC already
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return (moment - _EPOCH) // _MICROSECOND


def moment(micros: int) -> dt.datetime:
    """The time :func:`micros` stored as ``micros``."""
    return _EPOCH + micros * _MICROSECOND


def time_value(moment: dt.datetime | None) -> int | str | None:
    """A status's time as its columns keep it: UTC as :func:`micros`; any other (naive, or at
    another offset) as ISO 8601 text, so that it reads back exactly as it was given."""
    if moment is None:
        return None
    return micros(moment) if moment.tzinfo is dt.timezone.utc else moment.isoformat()


def time_of(value: int | str | None) -> dt.datetime | None:
    """The time :func:`time_value` stored as ``value``."""
    if value is None:
        return None
    return moment(value) if isinstance(value, int) else dt.datetime.fromisoformat(value)


# -- values in rows ---------------------------------------------------------------------------


def body_text(status: OrderStatus) -> str:
    """The JSON text of ``status``'s body."""
    return _ENCODE(codec.body_data(status))


def raw_text(raw: Mapping[str, Any]) -> str | None:
    """A raw payload as JSON text: the text it was parsed from, if it kept it; else written out
    (anything JSON cannot say as its ``str``). ``None`` if it is empty."""
    if not raw:
        return None
    if type(raw) is RawPayload:
        return raw.text
    return _ENCODE(raw if isinstance(raw, dict) else dict(raw))


def status_of(provider: str, order_id: str, body: str, observed_at: int | str,
              provider_time: int | str | None, raw: str | None) -> OrderStatus:
    """The status a row's body, times and payload (``None``: none) describe."""
    try:
        data = json.loads(body)
        payload = json.loads(raw) if raw is not None else {}
        seen = time_of(observed_at)
        when = time_of(provider_time)
    except (TypeError, ValueError) as err:
        raise codec.RecordFormatError(f"stored OrderStatus is not valid: {err}") from None
    assert seen is not None
    return codec.from_body(data, provider=provider, order_id=order_id, observed_at=seen,
                           provider_time=when, raw=payload)


def _names(values: Any) -> str | None:
    """Kinds as one comma-separated text, sorted (``None`` for none); str enums join as their
    values."""
    return ",".join(sorted(values)) if values else None


def _state_names(states: tuple[OrderState, ...]) -> str | None:
    return ",".join(states) if states else None  # in order, not sorted


ENTRIES = (
    "SELECT h.seq, h.provider, h.order_id, h.outcome, h.recorded_at, coalesce(h.body, b.body),"
    " h.observed_at, h.provider_time, h.raw, h.previous, h.skipped, h.kinds,"
    " coalesce(h.previous_body, p.body), h.previous_observed_at, h.previous_provider_time"
    " FROM history h LEFT JOIN history b ON b.seq = h.base"
    " LEFT JOIN history p ON p.seq = h.previous_base"
)
"""The query that reads whole history entries (add ``WHERE`` and ``ORDER BY``)."""


def entry_of(row: tuple[Any, ...]) -> HistoryEntry:
    """The history entry an :data:`ENTRIES` row holds."""
    (seq, provider, order_id, outcome, recorded_at, body, observed_at, provider_time, raw,
     previous, skipped, kinds, previous_body, previous_observed_at,
     previous_provider_time) = row
    try:
        return HistoryEntry(
            Outcome(outcome), status_of(provider, order_id, body, observed_at, provider_time, raw),
            None if previous is None else OrderState(previous),
            tuple(OrderState(s) for s in skipped.split(",")) if skipped else (), seq,
            moment(recorded_at),
            frozenset(ChangeKind(k) for k in kinds.split(",")) if kinds else frozenset(),
            None if previous_body is None else status_of(
                provider, order_id, previous_body, previous_observed_at,
                previous_provider_time, None),
        )
    except codec.RecordFormatError:
        raise
    except (TypeError, ValueError) as err:
        raise codec.RecordFormatError(f"stored HistoryEntry is not valid: {err}") from None


def entry_values(seq: int | None, entry: HistoryEntry, provider: str, order_id: str,
                 status: tuple[int | None, str | None], raw: str | None,
                 times: tuple[int | str | None, int | str | None],
                 previous: tuple[int | None, str | None],
                 previous_times: tuple[int | str | None, int | str | None]) -> tuple[Any, ...]:
    """The values of :data:`INSERT_ENTRY` for ``entry`` (``seq`` ``None``: the next one),
    given how its status and the status it replaced are kept (each as ``(base, body)``, with
    its :func:`record_times`) and its payload's :func:`raw_text`."""
    return (
        seq, provider, order_id, entry.outcome, int(entry.outcome in CHANGES),
        micros(entry.recorded_at), *status, *times, raw, entry.previous,
        _state_names(entry.skipped), _names(entry.kinds), *previous, *previous_times,
    )


def with_seq(entry: HistoryEntry, seq: int) -> HistoryEntry:
    """``entry`` as stored at ``seq`` (``attrs.evolve``, without its per-call field walk)."""
    return HistoryEntry(entry.outcome, entry.status, entry.previous, entry.skipped, seq,
                        entry.recorded_at, entry.kinds, entry.previous_status)


INSERT_ENTRY = (
    "INSERT INTO history (seq, provider, order_id, outcome, change, recorded_at, base, body,"
    " observed_at, provider_time, raw, previous, skipped, kinds, previous_base, previous_body,"
    " previous_observed_at, previous_provider_time) VALUES (coalesce(?, (SELECT max(seq,"
    " coalesce((SELECT max(seq) FROM history), 0)) + 1 FROM history_floor)),"
    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
"""Each new row's ``seq`` is one above every ``seq`` ever stored: above the highest kept, and
above the highest pruned (``history_floor``), so none is used twice. (``AUTOINCREMENT`` would
do it too, but writes its counter, one more page per commit.)"""


def record_times(status: OrderStatus) -> tuple[int | str | None, int | str | None]:
    """A status's ``observed_at`` and ``provider_time`` as rows keep them (:func:`time_value`;
    the usual case, UTC, done here without a call)."""
    seen, when = status.observed_at, status.provider_time
    return (
        (seen - _EPOCH) // _MICROSECOND if seen.tzinfo is _UTC else time_value(seen),
        None if when is None else (when - _EPOCH) // _MICROSECOND if when.tzinfo is _UTC
        else time_value(when),
    )


def drop_entries(db: sqlite3.Connection, where: str, args: tuple[Any, ...], limit: int) -> int:
    """Delete up to ``limit`` history rows matching ``where`` (lowest ``seq`` first); return
    how many. What other rows share with them is copied into those rows first: they all
    belong to the same order (a row only ever shares its own order's rows), so the order's
    keys find them."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS doomed"
               " (seq INTEGER PRIMARY KEY, provider TEXT NOT NULL, order_id TEXT NOT NULL)")
    db.execute("DELETE FROM doomed")
    count: int = db.execute(
        f"INSERT INTO doomed SELECT seq, provider, order_id FROM history WHERE {where}"
        f" ORDER BY seq LIMIT {limit}", args,
    ).rowcount
    if not count:
        return 0
    mine = "(provider, order_id) IN (SELECT provider, order_id FROM doomed)"
    db.execute(
        "UPDATE orders SET body = coalesce(body, (SELECT h.body FROM history h WHERE"
        " h.seq = orders.head)), raw = coalesce(raw, (SELECT h.raw FROM history h WHERE"
        f" h.seq = orders.head), '{{}}'), head = NULL WHERE {mine}"
        " AND head IN (SELECT seq FROM doomed)"
    )
    for base, body in (("base", "body"), ("previous_base", "previous_body")):
        db.execute(
            f"UPDATE history SET {body} = (SELECT h.body FROM history h WHERE h.seq ="
            f" history.{base}), {base} = NULL WHERE {mine}"
            f" AND {base} IN (SELECT seq FROM doomed) AND seq NOT IN (SELECT seq FROM doomed)"
        )
    db.execute("UPDATE history_floor SET seq = max(seq, (SELECT max(seq) FROM doomed))")
    db.execute("DELETE FROM history WHERE seq IN (SELECT seq FROM doomed)")
    return count


# -- the schemas ------------------------------------------------------------------------------

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

_SCHEMA_3 = """
DROP INDEX orders_open;
DROP INDEX orders_due;
DROP INDEX history_order;
DROP INDEX history_changes;
DROP INDEX history_recorded;
ALTER TABLE orders RENAME TO orders_2;
ALTER TABLE history RENAME TO history_2;
CREATE TABLE orders (
    provider TEXT NOT NULL,
    order_id TEXT NOT NULL,
    state TEXT NOT NULL,
    terminal INTEGER NOT NULL,
    changed_at INTEGER NOT NULL,
    due_at INTEGER,
    observed_at INTEGER NOT NULL,
    provider_time INTEGER,
    head INTEGER,
    body TEXT,
    raw TEXT,
    PRIMARY KEY (provider, order_id)
);
CREATE INDEX orders_open ON orders (terminal, provider, order_id);
CREATE INDEX orders_due ON orders (provider, due_at) WHERE due_at IS NOT NULL;
CREATE TABLE history (
    seq INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    order_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    change INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    base INTEGER,
    body TEXT,
    observed_at INTEGER NOT NULL,
    provider_time INTEGER,
    raw TEXT,
    previous TEXT,
    skipped TEXT,
    kinds TEXT,
    previous_base INTEGER,
    previous_body TEXT,
    previous_observed_at INTEGER,
    previous_provider_time INTEGER
);
CREATE INDEX history_order ON history (provider, order_id, seq);
CREATE TABLE history_floor (seq INTEGER NOT NULL);
INSERT INTO history_floor VALUES (0)
"""
"""An order's row: its body and payload are ``head``'s when ``body`` is NULL (its payload
``head``'s when ``raw`` is NULL too). A history row: its body is ``base``'s when ``body`` is
NULL; its payload NULL when it has none; ``previous`` is the state before, ``skipped`` and
``kinds`` comma-separated names; the replaced status's body is ``previous_base``'s when
``previous_body`` is NULL (both NULL: the order's first observation); ``history_floor`` holds the
highest ``seq`` pruned (see :data:`INSERT_ENTRY`). A row shares only rows
of its own order. History has one index, by order: the change log and retention read it in
``seq`` order, oldest first, which is the table's own order (fewer indexes, fewer pages
written per commit)."""


def _statements(script: str) -> list[str]:
    return [s for s in script.split(";") if s.strip()]


# -- migrations -------------------------------------------------------------------------------


def _to_version_1(db: sqlite3.Connection) -> None:
    """A new file: the first schema (the later steps take it on from there)."""
    for statement in _statements(_SCHEMA_1):
        db.execute(statement)


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
            updates.append((codec.to_json(entry), micros(entry.recorded_at),
                            int(entry.outcome in CHANGES), seq))
        db.executemany(
            "UPDATE history SET entry = ?, recorded_at = ?, change = ? WHERE seq = ?", updates
        )
        last = rows[-1][1], rows[-1][2], rows[-1][0]
    if key is not None and changed_at is not None:
        _set_changed_at(db, key, changed_at)

    def schedule(row: tuple[Any, ...]) -> tuple[Any, ...]:
        rowid, text, changed, terminal = row
        status = codec.from_json(text, OrderStatus)
        seen = micros(status.observed_at)
        return (changed or seen, None if terminal else seen,
                codec.to_json(attrs.evolve(status, raw={})), _ENCODE(dict(status.raw)), rowid)

    _rewrite(db, "rowid", "SELECT rowid, status, changed_at, terminal FROM orders", schedule,
             "UPDATE orders SET changed_at = ?, due_at = ?, status = ?, raw = ? WHERE rowid = ?")


def _set_changed_at(db: sqlite3.Connection, key: OrderKey, changed_at: dt.datetime) -> None:
    db.execute("UPDATE orders SET changed_at = ? WHERE provider = ? AND order_id = ?",
               (micros(changed_at), *key))


def _to_version_3(db: sqlite3.Connection) -> None:
    """Schema 2 -> 3: each status's body and payload once, times and states in columns.

    Every row is rewritten with a body of its own (no sharing): migrated files stay as large
    as they were, and what is recorded from then on is shared.
    """
    (sequence,) = db.execute(  # schema 2 counted with AUTOINCREMENT
        "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'history'"
    ).fetchone()
    for statement in _statements(_SCHEMA_3):
        db.execute(statement)

    def entry_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
        seq, provider, order_id, text = row
        entry = codec.from_json(text, HistoryEntry)
        replaced = entry.previous_status
        return entry_values(
            seq, entry, provider, order_id, (None, body_text(entry.status)),
            raw_text(entry.status.raw), record_times(entry.status),
            (None, None if replaced is None else body_text(replaced)),
            (None, None) if replaced is None else record_times(replaced),
        )

    _rewrite(db, "seq", "SELECT seq, provider, order_id, entry FROM history_2", entry_row,
             INSERT_ENTRY)

    def order_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
        _, provider, order_id, state, terminal, text, changed_at, due_at, raw = row
        status = codec.from_json(text, OrderStatus)
        return (provider, order_id, state, terminal, changed_at, due_at, *record_times(status),
                body_text(status), raw)

    _rewrite(db, "rowid", "SELECT rowid, provider, order_id, state, terminal, status, changed_at,"
             " due_at, raw FROM orders_2", order_row,
             "INSERT INTO orders (provider, order_id, state, terminal, changed_at, due_at,"
             " observed_at, provider_time, body, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    db.execute("DROP TABLE orders_2")
    db.execute("DROP TABLE history_2")
    db.execute("UPDATE history_floor SET seq = ?", (sequence,))


def _rewrite(db: sqlite3.Connection, key: str, select: str,
             convert: Callable[[Any], tuple[Any, ...]], write: str) -> None:
    """Run ``write`` for every row of ``select`` (whose first column is ``key``), as
    ``convert`` makes it, a thousand rows at a time."""
    last = -1
    while True:
        rows = db.execute(f"{select} WHERE {key} > ? ORDER BY {key} LIMIT 1000",
                          (last,)).fetchall()
        if not rows:
            return
        db.executemany(write, [convert(row) for row in rows])
        last = rows[-1][0]


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _to_version_1, _to_version_2, _to_version_3,
)
"""``MIGRATIONS[n]`` takes a file from version ``n`` to ``n + 1``; a new file runs them all."""
assert len(MIGRATIONS) == SCHEMA_VERSION
