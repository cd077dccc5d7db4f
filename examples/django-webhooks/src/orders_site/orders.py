"""One orderstatus Client and one Tracker per process, made on first use.

The client is configured from ``ORDERSTATUS_<PROVIDER>_<SETTING>`` environment variables
(``Client.from_env()``). A view must answer within the provider's patience, so a call gets two
attempts and five seconds in all; a provider that is down gets a 503 and calls again later.
Both objects are thread-safe, so every request thread of the WSGI server shares them, and the
SQLite store is safe across the server's worker processes too.
"""

from __future__ import annotations

import functools

from django.conf import settings

from orderstatus import Client, RetryPolicy, SQLiteStore, Tracker


@functools.cache
def client() -> Client:
    configured: Client = Client.from_env(retry=RetryPolicy(attempts=2, total=5.0))
    return configured


@functools.cache
def tracker() -> Tracker:
    return Tracker(SQLiteStore(str(settings.ORDERSTATUS_STORE)))


def close() -> None:
    """Close and forget both (at shutdown, or between tests)."""
    if client.cache_info().currsize:
        client().close()
    if tracker.cache_info().currsize:
        tracker().close()
    client.cache_clear()
    tracker.cache_clear()
