"""Where a :class:`~orderstatus.Tracker` keeps orders, their history and the change log.

A store is anything that satisfies the :class:`Store` protocol (:mod:`.base`, written to be
read alone by whoever implements one). Three ship with orderstatus: :class:`MemoryStore` (one
process, gone at exit), :class:`SQLiteStore` (a file; WAL; safe with several threads and
several processes on one machine) and :class:`PostgresStore` (a PostgreSQL database shared by
many workers on many machines; the ``postgres`` extra). :func:`open_store` opens one named by
a URL. :mod:`.codec` is the JSON form of everything stored, for stores to share;
:func:`orderstatus.testing.stores.store_suite` checks a store against the protocol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orderstatus._lazy import lazy_names

from . import codec
from .base import FeedState, OrderKey, OrderRecord, Store, Transaction, as_utc
from .memory import MemoryStore

if TYPE_CHECKING:
    from .postgres import PostgresStore
    from .sqlite import SCHEMA_VERSION, SQLiteStore, default_store_path
    from .url import open_store, store_location

# Imported on first use: a Tracker() on its default MemoryStore (in a property test's first
# example, say) does not wait for sqlite3 or the PostgreSQL store to be compiled and imported.
_LAZY = {
    "PostgresStore": "postgres",
    "SCHEMA_VERSION": "sqlite",
    "SQLiteStore": "sqlite",
    "default_store_path": "sqlite",
    "open_store": "url",
    "store_location": "url",
}

__getattr__ = lazy_names(__name__, _LAZY, globals())


__all__ = [
    "SCHEMA_VERSION",
    "FeedState",
    "MemoryStore",
    "OrderKey",
    "OrderRecord",
    "PostgresStore",
    "SQLiteStore",
    "Store",
    "Transaction",
    "as_utc",
    "codec",
    "default_store_path",
    "open_store",
    "store_location",
]
