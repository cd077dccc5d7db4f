"""The stores: serialisation, persistence, schema versions, data paths, and crash safety."""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from orderstatus import ChangeKind, ConfigurationError, OrderState, OrderStatus
from orderstatus.models import utcnow
from orderstatus.plugins import Registry
from orderstatus.stores import (
    SCHEMA_VERSION,
    OrderRecord,
    SQLiteStore,
    Store,
    _retention,
    codec,
    default_store_path,
)
from orderstatus.stores._sqlite_format import moment
from orderstatus.testing.stores import FULL, observation
from orderstatus.tracking import HistoryEntry, Outcome, Tracker

FIXTURES = Path(__file__).parent / "fixtures"
S = OrderState


def test_sqlite_store_persists_across_reopening(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "store.sqlite3"
    with SQLiteStore(path) as store:
        Tracker(store, registry=Registry()).observe(FULL)
        store.save_cursor("suite", "c1", expected=None)
    with SQLiteStore(path) as store:
        assert store.current(FULL.provider, FULL.order_id) == FULL
        assert store.load_cursor("suite") == "c1"
        assert [s.order_id for s in store.orders(non_terminal=True)] == [FULL.order_id]
        assert len(store.history(FULL.provider, FULL.order_id)) == 1


def test_sqlite_store_uses_wal_and_a_versioned_schema(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,) == (3,)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(ConfigurationError, match=r"schema version 99.*upgrade orderstatus"):
        SQLiteStore(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    path.write_bytes(b"this is not a database, just some text " * 100)
    with pytest.raises(ConfigurationError, match="cannot open the store"):
        SQLiteStore(path)
    with pytest.raises(ConfigurationError, match="cannot open the store"):
        SQLiteStore(tmp_path)  # a directory
    with pytest.raises(ConfigurationError, match="cannot open the store"):
        SQLiteStore(path / "below-a-file.sqlite3")


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {"HOME": "/home/ann"}, "/home/ann/.local/share/orderstatus"),
        ("linux", {"HOME": "/home/ann", "XDG_DATA_HOME": "/data"}, "/data/orderstatus"),
        ("linux", {"HOME": "/home/ann", "XDG_DATA_HOME": "rel"},
         "/home/ann/.local/share/orderstatus"),
        ("darwin", {"HOME": "/Users/ann"},
         "/Users/ann/Library/Application Support/orderstatus"),
        ("win32", {"HOME": "/h", "LOCALAPPDATA": "/h/AppData/Local"},
         "/h/AppData/Local/orderstatus"),
        ("win32", {"HOME": "/h", "APPDATA": "/h/AppData/Roaming"},
         "/h/AppData/Roaming/orderstatus"),
        ("win32", {"HOME": "/h"}, "/h/AppData/Local/orderstatus"),
    ],
)
def test_default_store_path_is_in_the_user_data_dir(
    platform: str, environ: dict[str, str], expected: str
) -> None:
    path = default_store_path(environ, platform)
    assert path == Path(expected) / "orderstatus.sqlite3"


# -- the codec -------------------------------------------------------------------------------


def test_every_stored_value_survives_the_codec() -> None:
    entry = HistoryEntry(Outcome.ANOMALY, FULL, OrderState.SHIPPED, (), 7,
                         kinds=frozenset({ChangeKind.STATE, ChangeKind.ITEMS}),
                         previous_status=attrs.evolve(FULL, raw={}, state=OrderState.SHIPPED))
    record = OrderRecord(FULL, FULL.observed_at, None)
    change = entry.change
    assert change is not None
    for value in (FULL, entry, record, change, attrs.evolve(FULL, partial=True)):
        text = codec.to_json(value)
        assert text.isascii()
        again = codec.from_json(text, type(value))
        assert again == value
        assert codec.from_data(codec.to_data(value), type(value)) == value
    assert codec.from_json(codec.to_json(FULL), OrderStatus).raw == FULL.raw
    assert codec.to_data(change)["kinds"] == ["items", "state"]


def test_the_codec_reads_older_and_newer_records() -> None:
    data = codec.to_data(FULL)
    del data["partial"]  # written before the field existed
    data["added_later"] = {"by": "a newer orderstatus"}
    assert codec.from_data(data, OrderStatus) == FULL


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "stored OrderStatus is not json"),
    ("[]", "stored OrderStatus is not valid"),
    ('{"provider": "x"}', "stored OrderStatus is not valid"),
    (codec.to_json(FULL).replace('"action_required"', '"teleported"'),
     "stored OrderStatus is not valid"),
    (codec.to_json(FULL).replace('"2026-02-03T04:05:07.123456+00:00"', '"yesterday"'),
     "stored OrderStatus is not valid"),
])
def test_a_damaged_record_is_a_typed_error(text: str, message: str) -> None:
    with pytest.raises(codec.RecordFormatError, match=message) as caught:
        codec.from_json(text, OrderStatus)
    assert isinstance(caught.value, ValueError)
    assert "\n" not in str(caught.value)


# -- migration from schemas 1 and 2 -----------------------------------------------------------


def schema_file(tmp_path: Path, version: int, edit: Callable[[str], str] = str) -> Path:
    """A store of schema ``version`` as orderstatus wrote it (tests/fixtures/store-vN.sql)."""
    path = tmp_path / f"v{version}.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(edit((FIXTURES / f"store-v{version}.sql").read_text(encoding="utf-8")))
    db.close()
    return path


def version_1_file(tmp_path: Path, edit: Callable[[str], str] = str) -> Path:
    """The store the first release wrote (tests/fixtures/store-v1.sql), as a file."""
    return schema_file(tmp_path, 1, edit)


def test_a_version_1_file_is_migrated_with_its_history_and_changes(tmp_path: Path) -> None:
    path = version_1_file(tmp_path)
    before = sqlite3.connect(path)
    assert before.execute("PRAGMA user_version").fetchone() == (1,)
    old_orders = {(p, o): json for p, o, json in before.execute(
        "SELECT provider, order_id, status FROM orders")}
    old_outcomes = before.execute("SELECT seq, outcome FROM history ORDER BY seq").fetchall()
    before.close()
    with SQLiteStore(path) as store:
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        db.close()
        for (provider, order_id), text in old_orders.items():
            old = codec.from_json(text, OrderStatus)
            assert store.current(provider, order_id) == old
            assert store.current(provider, order_id).raw == old.raw  # type: ignore[union-attr]
        entries = sorted((e for key in old_orders for e in store.history(*key)),
                         key=lambda e: e.seq)
        assert [(e.seq, e.outcome.value) for e in entries] == old_outcomes
        assert store.load_cursor("printapi") == "2026-03-01T13:30:00"
        changes = store.changes()
        assert [(c.id, c.order_id, c.previous, c.current, sorted(c.kinds)) for c in changes] == [
            (1, "P-1", None, S.CREATED, ["payment", "state"]),
            (4, "P-1", S.CREATED, S.IN_PRODUCTION, ["state"]),
            (5, "P-1", S.IN_PRODUCTION, S.SHIPPED, ["state", "tracking"]),
            (7, "P-2", None, S.CREATED, ["payment", "state"]),
            (9, "P-2", S.CREATED, S.CANCELLED, ["state"]),
            (10, "P-3", None, S.SHIPPED, ["payment", "state"]),
            (11, "P-3", S.SHIPPED, S.CREATED, ["state"]),
            (12, "G-1", None, S.CREATED, ["state"]),
            (14, "G-1", S.CREATED, S.IN_PRODUCTION, ["items", "state", "tracking"]),
            (15, "G-2", None, S.SHIPPED, ["state", "tracking"]),
            (16, "G-2", S.SHIPPED, S.DELIVERED, ["state", "tracking"]),
        ]
        assert all(c.anomaly is (c.id == 11) for c in changes)
        # The replaced status is rebuilt from the entries before: P-1's in_production move
        # replaced the duplicate that brought the payment.
        moved = changes[1].previous_status
        assert moved is not None
        assert (moved.state, moved.native_payment, moved.raw) == (S.CREATED, "Successful", {})
        # Open orders are due at once; the terminal ones never.
        now = dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)
        lease = dt.timedelta(minutes=1)
        assert sorted(store.claim_due("printapi", now, limit=10, lease=lease)) == ["P-1", "P-3"]
        assert store.claim_due("gooten", now, limit=10, lease=lease) == ["G-1"]
        # Tracking goes on where it stopped, with change ids after the old ones.
        tracker = Tracker(store, registry=Registry())
        shipped = store.current("printapi", "P-1")
        assert shipped is not None
        assert tracker.observe(attrs.evolve(shipped, observed_at=now)) is None
        delivered = tracker.observe(attrs.evolve(
            shipped, state=S.DELIVERED, native_status="Delivered", observed_at=now,
            provider_time=now))
        assert delivered is not None
        assert delivered.id > 16
        assert delivered.previous_status == attrs.evolve(shipped, observed_at=now)  # refreshed


def test_a_failed_migration_leaves_the_version_1_file_as_it_was(tmp_path: Path) -> None:
    path = version_1_file(tmp_path, lambda sql: sql.replace(
        '{"outcome":"anomaly",', '{"outcome":"teleported",', 1))  # one entry damaged
    dump = "\n".join(sqlite3.connect(path).iterdump())
    with pytest.raises(ConfigurationError, match=r"cannot open the store .*not valid"):
        SQLiteStore(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (1,)
    assert "\n".join(db.iterdump()) == dump
    db.close()


def test_processes_opening_a_version_1_file_at_once_migrate_it_once(tmp_path: Path) -> None:
    path = version_1_file(tmp_path)
    code = textwrap.dedent(f"""
        from orderstatus.stores import SQLiteStore
        with SQLiteStore({str(path)!r}) as store:
            print(len(store.changes()))
    """)
    runs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
            for _ in range(3)]
    assert [run.communicate(timeout=60)[0].strip() for run in runs] == ["11"] * 3
    with SQLiteStore(path) as store:
        assert len(store.changes()) == 11


def test_a_version_2_file_is_migrated_with_everything_it_held(tmp_path: Path) -> None:
    path = schema_file(tmp_path, 2)
    before = sqlite3.connect(path)
    assert before.execute("PRAGMA user_version").fetchone() == (2,)
    orders = {(p, o): (status, raw, changed, due) for p, o, status, raw, changed, due in
              before.execute("SELECT provider, order_id, status, raw, changed_at, due_at"
                             " FROM orders")}
    entries = before.execute("SELECT seq, provider, order_id, entry FROM history"
                             " ORDER BY seq").fetchall()
    (sequence,) = before.execute("SELECT seq FROM sqlite_sequence").fetchone()
    before.close()
    expected = [attrs.evolve(codec.from_json(text, HistoryEntry), seq=seq)
                for seq, _, _, text in entries]
    assert {e.outcome for e in expected} == set(Outcome)
    with SQLiteStore(path) as store:
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        db.close()
        for key, (text, raw, changed, due) in orders.items():
            old = attrs.evolve(codec.from_json(text, OrderStatus), raw=json.loads(raw))
            current = store.current(*key)
            assert current == old
            assert current is not None and current.raw == old.raw
            with store.transaction(*key) as txn:
                record = txn.record
            assert record is not None
            assert (record.status, record.changed_at) == (attrs.evolve(old, raw={}),
                                                          moment(changed))
            assert record.due_at == (None if due is None else moment(due))
            kept = store.history(*key)
            assert kept == [e for e, (_, p, o, _) in zip(expected, entries, strict=True)
                            if (p, o) == key]
            assert [e.status.raw for e in kept] == [
                e.status.raw for e, (_, p, o, _) in zip(expected, entries, strict=True)
                if (p, o) == key]
        assert store.changes() == [c for e in expected if (c := e.change) is not None]
        assert store.consumers() == {"billing": 6, "mailer": 0}
        assert store.load_cursor("printapi") == "2026-03-01T13:30:00"
        assert len(store.orders()) == len(orders) == store.count()
        # Tracking goes on where it stopped: ids after every old one, and the new rows share.
        tracker = Tracker(store, registry=Registry())
        shipped = store.current("printapi", "P-1")
        assert shipped is not None
        later = shipped.observed_at + dt.timedelta(hours=1)
        delivered = tracker.observe(attrs.evolve(
            shipped, state=S.DELIVERED, native_status="Delivered", observed_at=later,
            provider_time=later))
        assert delivered is not None
        assert delivered.id == sequence + 1
        assert delivered.previous_status == attrs.evolve(shipped, raw={})
        # Pruning keeps what consumers have not read, then every order's record.
        statuses = {key: (store.current(*key), store.current(*key).raw)  # type: ignore[union-attr]
                    for key in orders}
        end = utcnow() + dt.timedelta(days=1)
        assert store.prune(end) == sum(e.change is None for e in expected)
        assert store.drop_consumer("mailer") and store.drop_consumer("billing")
        assert len(store.changes()) == sum(e.change is not None for e in expected) + 1
        assert store.prune(end) == len(entries) - sum(e.change is None for e in expected) + 1
        assert store.changes() == []
        assert {key: (store.current(*key), store.current(*key).raw)  # type: ignore[union-attr]
                for key in orders} == statuses


def test_a_failed_migration_leaves_the_version_2_file_as_it_was(tmp_path: Path) -> None:
    path = schema_file(tmp_path, 2, lambda sql: sql.replace(
        '"outcome":"anomaly"', '"outcome":"teleported"', 1))  # one entry damaged
    dump = "\n".join(sqlite3.connect(path).iterdump())
    with pytest.raises(ConfigurationError, match=r"cannot open the store .*not valid"):
        SQLiteStore(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (2,)
    assert "\n".join(db.iterdump()) == dump
    db.close()


# -- crash safety ----------------------------------------------------------------------------

WORKER = textwrap.dedent("""
    import datetime as dt
    import sys

    from orderstatus import OrderState, OrderStatus
    from orderstatus.plugins import Registry
    from orderstatus.stores import SQLiteStore
    from orderstatus.tracking import Tracker

    WALK = (OrderState.CREATED, OrderState.IN_PRODUCTION, OrderState.SHIPPED,
            OrderState.DELIVERED)
    T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    tracker = Tracker(SQLiteStore(sys.argv[1]), registry=Registry())
    for step, state in enumerate(WALK):
        for order in range(int(sys.argv[2])):
            at = T0 + dt.timedelta(hours=step)
            status = OrderStatus("crash", f"O{order}", state, state.value,
                                 provider_time=at, observed_at=at)
            change = tracker.observe(status)
            if change is not None:
                print(change.order_id, change.current.value, flush=True)
    print("done", flush=True)
""")
ORDERS = 30
STEPS = 4


def run_worker(script: Path, db: Path, kill_after: int | None, rng: random.Random) -> list[str]:
    """Run the worker; SIGKILL it after ``kill_after`` acknowledged changes (plus a random
    pause, so the kill lands anywhere, mid-transaction included). Return what it printed."""
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db), str(ORDERS)], stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    if kill_after is not None:
        while len(lines) < kill_after:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
        spin = rng.randrange(0, 20_000)
        while spin:
            spin -= 1
        proc.kill()
    out, _ = proc.communicate(timeout=30)
    lines.extend(line.strip() for line in out.splitlines())
    return lines


def test_a_killed_process_loses_no_acknowledged_change_and_repeats_none(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    db = tmp_path / "crash.sqlite3"
    rng = random.Random(20260301)
    printed: list[str] = []
    killed = 0
    for _ in range(5):
        lines = run_worker(script, db, rng.randrange(1, 20), rng)
        killed += "done" not in lines
        printed.extend(line for line in lines if line != "done")
    final = run_worker(script, db, None, rng)
    assert final[-1] == "done"
    printed.extend(final[:-1])
    assert killed >= 4, "the kills came too late to test anything"

    # Never emitted twice, across every run.
    assert len(printed) == len(set(printed))
    with SQLiteStore(db) as store:
        stored = [
            f"{change.order_id} {change.current.value}"
            for n in range(ORDERS)
            for entry in store.history("crash", f"O{n}")
            if (change := entry.change) is not None
        ]
        # Each change is stored exactly once, and every acknowledged one is there.
        assert len(stored) == len(set(stored))
        assert set(printed) <= set(stored)
        walk = ["created", "in_production", "shipped", "delivered"]
        assert sorted(stored) == sorted(f"O{n} {s}" for n in range(ORDERS) for s in walk)
        assert all(s.state is OrderState.DELIVERED for s in store.orders())


@pytest.fixture(params=["sqlite", "postgres"])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store of each kind that prunes in chunks (PostgreSQL's skipped without a server)."""
    if request.param == "sqlite":
        store: Store = SQLiteStore(tmp_path / "orders.sqlite3")
    else:
        from orderstatus.stores import PostgresStore

        store = PostgresStore(request.getfixturevalue("postgres_database"))
    yield store
    store.close()


def test_prune_drops_chunk_after_chunk_each_in_its_own_transaction(
    sql_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_retention, "PRUNE_CHUNK", 2)
    chunks: list[tuple[int, int]] = []
    drop_chunk = sql_store._drop_chunk  # type: ignore[attr-defined]

    def counted(before: Any, limit: int) -> int:
        dropped: int = drop_chunk(before, limit)
        chunks.append((limit, dropped))
        return dropped

    monkeypatch.setattr(sql_store, "_drop_chunk", counted)
    tracker = Tracker(sql_store, registry=Registry(), keep_duplicates=True)
    states = [S.CREATED, S.CREATED, S.IN_PRODUCTION, S.IN_PRODUCTION, S.SHIPPED, S.DELIVERED]
    seen = [tracker.observe(observation(state, minute, order=order))
            for order in ("A1", "A2") for minute, state in enumerate(states)]
    held = [e for e in seen if e is not None][5]  # A2's second change: a consumer read to it
    sql_store.register_consumer("slow")
    sql_store.ack("slow", held.id)
    end = utcnow() + dt.timedelta(days=1)
    # 12 entries: 4 duplicates, and 8 changes of which 6 are read; 10 may go, in chunks of 2
    assert sql_store.prune(end) == 10
    assert chunks == [(2, 2)] * 5 + [(2, 0)]
    assert [(c.order_id, c.current) for c in sql_store.changes()] == [
        ("A2", S.SHIPPED), ("A2", S.DELIVERED)]
    assert sql_store.history("suite", "A1") == []
    assert tracker.state("suite", "A1") == S.DELIVERED
