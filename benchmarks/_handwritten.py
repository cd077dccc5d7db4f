"""The hand-written client and tracker every baseline is: the cheapest honest way to fetch an
order's status from each provider with httpx alone, and to track it with ``sqlite3`` alone.

- **Print API**: one client-credentials token fetched once (``POST oauth``) and kept in the
  client's default headers as ``Authorization: Bearer …``, as orderstatus caches its token too;
  per order an f-string URL ``{base}orders/{quote(id)}``, ``raise_for_status()``,
  ``json.loads`` and a read of ``status``, the checkout's ``status`` and ``trackingUrl``.
- **Gooten**: the recipe id quoted once; per order an f-string URL
  ``{base}v/5/source/api/orders/?id={quote(id)}&recipeid={recipe}`` (no ``params=``, which
  makes httpx parse the URL again), ``raise_for_status()``, ``json.loads`` and a read of each
  item's ``Status``.
- **Tracker** (:class:`RawTracker`): one transaction per observation with the durability of
  :class:`~orderstatus.SQLiteStore` (WAL, ``synchronous = FULL``): ``BEGIN IMMEDIATE``, read
  the order's state and timestamps from their columns, decide (first, stale, duplicate, move:
  legal or not, with :func:`orderstatus.lifecycle.can_transition`), insert a history row
  (state, native status, payment and timestamps in their own columns; the provider's answer,
  as the JSON text it arrived as, for a change), upsert the order's row (its columns and the
  latest answer), ``COMMIT``. It keeps what the tracker keeps: each order's latest applied
  observation (its items and their tracking are in the answer) and the history of every
  change, and of every duplicate and stale observation too with ``keep_repeats`` (the
  tracker's ``keep_duplicates``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from orderstatus import OrderState
from orderstatus.lifecycle import can_transition

__all__ = ["RawTracker", "aheaders", "headers", "read", "url_for"]


def url_for(provider: str, settings: Mapping[str, Any]) -> Callable[[str], str]:
    """The URL of an order: an f-string, its fixed parts prepared once."""
    base = settings["base_url"]
    if provider == "printapi":
        return lambda order_id: f"{base}orders/{quote(order_id, safe='')}"
    recipe = quote(settings["recipe_id"], safe="")
    return lambda order_id: (
        f"{base}v/5/source/api/orders/?id={quote(order_id, safe='')}&recipeid={recipe}"
    )


def read(provider: str) -> Callable[[bytes], object]:
    """What is read from an answer: ``json.loads`` and the statuses."""
    if provider == "printapi":

        def read_printapi(content: bytes) -> object:
            data = json.loads(content)
            checkout = data.get("checkout")
            return data["status"], checkout and checkout["status"], data.get("trackingUrl")

        return read_printapi

    def read_gooten(content: bytes) -> object:
        return [item["Status"] for item in json.loads(content)["Items"]]

    return read_gooten


def _token_form(settings: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    return f"{settings['base_url']}oauth", {
        "grant_type": "client_credentials", "client_id": settings["client_id"],
        "client_secret": settings["client_secret"],
    }


def _bearer(answer: httpx.Response) -> dict[str, str]:
    answer.raise_for_status()
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


def headers(provider: str, settings: Mapping[str, Any], http: httpx.Client) -> dict[str, str]:
    """Default headers: Print API's bearer token (one token request, made here with ``http``)."""
    if provider != "printapi":
        return {}
    url, form = _token_form(settings)
    return _bearer(http.post(url, data=form))


async def aheaders(
    provider: str, settings: Mapping[str, Any], http: httpx.AsyncClient
) -> dict[str, str]:
    """:func:`headers`, with an async client."""
    if provider != "printapi":
        return {}
    url, form = _token_form(settings)
    return _bearer(await http.post(url, data=form))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    provider TEXT NOT NULL, order_id TEXT NOT NULL, state TEXT NOT NULL,
    native_status TEXT NOT NULL, payment TEXT, observed_at TEXT NOT NULL, provider_time TEXT,
    answer TEXT NOT NULL, PRIMARY KEY (provider, order_id)
);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY, provider TEXT NOT NULL, order_id TEXT NOT NULL,
    outcome TEXT NOT NULL, state TEXT NOT NULL, native_status TEXT NOT NULL, payment TEXT,
    observed_at TEXT NOT NULL, provider_time TEXT, answer TEXT
);
CREATE INDEX IF NOT EXISTS history_order ON history (provider, order_id, seq);
"""


class RawTracker:
    """The hand-written tracker: one ``sqlite3`` transaction per observation (thread-safe)."""

    def __init__(self, path: str | Path, *, keep_repeats: bool = False) -> None:
        self.keep_repeats = keep_repeats
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = FULL")
        self.db.executescript(_SCHEMA)
        self.lock = threading.Lock()

    def observe(
        self, provider: str, order_id: str, state: OrderState, native_status: str,
        payment: str | None, observed_at: str, provider_time: str | None, answer: str,
    ) -> str:
        """Record one observation (times as UTC ISO text); return the outcome."""
        key = (provider, order_id)
        columns = (state.value, native_status, payment, observed_at, provider_time)
        with self.lock:
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT state, provider_time, observed_at FROM orders"
                " WHERE provider = ? AND order_id = ?", key,
            ).fetchone()
            if row is None:
                outcome = "change"
            elif (provider_time < row[1]) if (
                provider_time and row[1] and provider_time != row[1]
            ) else (observed_at < row[2]):
                outcome = "stale"
            elif row[0] == state.value:
                outcome = "duplicate"
            else:
                legal = can_transition(OrderState(row[0]), state)
                outcome = "change" if legal else "anomaly"
            change = outcome in ("change", "anomaly")
            if change or self.keep_repeats:
                db.execute(
                    "INSERT INTO history (provider, order_id, outcome, state, native_status,"
                    " payment, observed_at, provider_time, answer)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*key, outcome, *columns, answer if change else None),
                )
            if outcome != "stale":
                db.execute(
                    "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET"
                    " state = excluded.state, native_status = excluded.native_status,"
                    " payment = excluded.payment, observed_at = excluded.observed_at,"
                    " provider_time = excluded.provider_time, answer = excluded.answer",
                    (*key, *columns, answer),
                )
            db.execute("COMMIT")
        return outcome

    def close(self) -> None:
        with self.lock:
            self.db.close()
