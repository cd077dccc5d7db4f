"""The store conformance suite, run against both stores that ship with orderstatus."""

from __future__ import annotations

from orderstatus.stores import MemoryStore, SQLiteStore, Store
from orderstatus.testing.stores import store_suite


def _reopen(store: Store) -> Store:
    assert isinstance(store, SQLiteStore)
    return SQLiteStore(store.path)


TestMemoryStore = store_suite(lambda _: MemoryStore(), name="memory")
# SQLite keeps feed readers apart within one handle only (no lock outlives a crash there).
TestSQLiteStore = store_suite(lambda directory: SQLiteStore(directory / "orders.sqlite3"),
                              reopen=_reopen, name="sqlite", exclusive_feeds=False)
