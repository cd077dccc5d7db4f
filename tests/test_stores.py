"""The stores: serialisation, persistence, schema versions, data paths, and crash safety."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from orderstatus import (
    ActionReason,
    ConfigurationError,
    ItemStatus,
    OrderState,
    OrderStatus,
    PaymentState,
    Tracking,
)
from orderstatus.plugins import Registry
from orderstatus.stores import MemoryStore, Outcome, SQLiteStore, Store, default_store_path
from orderstatus.tracking import Tracker

FULL = OrderStatus(
    "shop", "Ø-7/é", OrderState.ACTION_REQUIRED, "AddressIssue", reason=ActionReason.ADDRESS,
    payment=PaymentState.PAID, native_payment="Successful",
    items=(
        ItemStatus("1", OrderState.ACTION_REQUIRED, "AddressIssue", ActionReason.ADDRESS),
        ItemStatus("2", OrderState.SHIPPED, "Shipped",
                   tracking=(Tracking("PostNL", "3S1", "https://t.example/3S1"),)),
    ),
    tracking=(Tracking("PostNL", "3S1", "https://t.example/3S1"),),
    provider_time=dt.datetime(2026, 2, 3, 4, 5, 6, 789000),
    observed_at=dt.datetime(2026, 2, 3, 4, 5, 7, tzinfo=dt.timezone.utc),
    raw={"Items": [{"Status": "AddressIssue", "Meta": {"n": 1.5, "ok": True, "no": None}}]},
)

STORES: dict[str, Callable[[Path], Store]] = {
    "memory": lambda _: MemoryStore(),
    "sqlite": lambda path: SQLiteStore(path / "store.sqlite3"),
}


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return STORES[request.param](tmp_path)


def test_a_status_survives_the_round_trip_whole(store: Store) -> None:
    tracker = Tracker(store, registry=Registry())
    tracker.observe(FULL)
    stored = tracker.current("shop", "Ø-7/é")
    assert stored == FULL
    assert stored is not None
    assert stored.raw == FULL.raw
    entry = tracker.history("shop", "Ø-7/é")[0]
    assert entry.status == FULL
    assert entry.status.raw == FULL.raw
    assert entry.outcome is Outcome.CHANGE


def test_feed_cursors_are_saved_and_forgotten(store: Store) -> None:
    assert store.load_cursor("shop") is None
    store.save_cursor("shop", "2026-01-01T00:00:00")
    store.save_cursor("shop", "2026-01-02T00:00:00")
    store.save_cursor("other", "7")
    assert store.load_cursor("shop") == "2026-01-02T00:00:00"
    store.save_cursor("shop", None)
    assert store.load_cursor("shop") is None
    assert store.load_cursor("other") == "7"


def test_sqlite_store_persists_across_reopening(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "store.sqlite3"
    with SQLiteStore(path) as store:
        Tracker(store, registry=Registry()).observe(FULL)
        store.save_cursor("shop", "c1")
    with SQLiteStore(path) as store:
        assert store.current("shop", "Ø-7/é") == FULL
        assert store.load_cursor("shop") == "c1"
        assert [s.order_id for s in store.tracked(non_terminal=True)] == ["Ø-7/é"]
        assert len(store.history("shop", "Ø-7/é")) == 1


def test_sqlite_store_uses_wal_and_a_versioned_schema(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA user_version").fetchone() == (1,)
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
        assert all(s.state is OrderState.DELIVERED for s in store.tracked())
