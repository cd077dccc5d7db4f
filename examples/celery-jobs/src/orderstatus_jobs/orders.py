"""One orderstatus Client and one Tracker per process, made on first use.

The client is configured from ``ORDERSTATUS_<PROVIDER>_<SETTING>`` environment variables and
makes one attempt per call: the task queue owns the retries, so a retry waits in the broker
(surviving a worker's restart) instead of in a sleeping worker. The tracker keeps each order's
history in the SQLite file ``ORDERSTATUS_STORE`` (the variable the orderstatus command reads),
which every worker process may share.
"""

from __future__ import annotations

import functools
import os

from orderstatus import Client, RetryPolicy, SQLiteStore, Tracker


@functools.cache
def client() -> Client:
    configured: Client = Client.from_env(retry=RetryPolicy(attempts=1))
    return configured


@functools.cache
def tracker() -> Tracker:
    return Tracker(SQLiteStore(os.environ.get("ORDERSTATUS_STORE", "orders.sqlite3")))
