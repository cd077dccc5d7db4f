"""Where a :class:`~orderstatus.Tracker` keeps orders, their history and the change log.

A store is anything that satisfies the :class:`Store` protocol (:mod:`.base`, written to be
read alone by whoever implements one). Two ship with orderstatus: :class:`MemoryStore` (one
process, gone at exit) and :class:`SQLiteStore` (a file; WAL; safe with several threads and
several processes). :mod:`.codec` is the JSON form of everything stored, for stores to share;
:func:`orderstatus.testing.stores.store_suite` checks a store against the protocol.
"""

from __future__ import annotations

from . import codec
from .base import FeedState, OrderKey, OrderRecord, Store, Transaction, as_utc
from .memory import MemoryStore
from .sqlite import SCHEMA_VERSION, SQLiteStore, default_store_path

__all__ = [
    "SCHEMA_VERSION",
    "FeedState",
    "MemoryStore",
    "OrderKey",
    "OrderRecord",
    "SQLiteStore",
    "Store",
    "Transaction",
    "as_utc",
    "codec",
    "default_store_path",
]
