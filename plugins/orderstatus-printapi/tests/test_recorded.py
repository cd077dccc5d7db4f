"""Print API's own answers (recorded live, or documented), replayed through the public client.

Each cassette in ``fixtures/`` names its source; see ``fixtures/README.md``. Every test runs
with a sync and an async client.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import attrs
from orderstatus_printapi import parse_provider_time
from orderstatus_printapi.feed import FEED_START

from orderstatus import (
    ActionReason,
    AsyncClient,
    MemoryStore,
    OrderState,
    PaymentState,
    Tracker,
    Tracking,
)
from orderstatus.testing.cassettes import Replay
from orderstatus.watch import Watcher

from .conftest import RECORDED_SETTINGS, Replayed

UTC = dt.timezone.utc


def items(status):
    return [(i.item_id, i.state, i.reason, i.native_status) for i in status.items]


def test_the_recorded_token_answer_signs_the_fetch(replayed: Replayed) -> None:
    replayed.fetch("order-download-failed", "11410410")
    assert replayed.replay is not None
    assert replayed.replay.played == ["oauth-token", "order-download-failed"]


def test_a_file_that_failed_to_download_needs_new_artwork(replayed: Replayed) -> None:
    """Recorded: status Created, content DownloadFailed, cover Accepted (issue 10, point 3)."""
    for strict in (False, True):
        status = replayed.fetch("order-download-failed", "11410410", strict=strict)
        assert (status.state, status.reason, status.native_status) == (
            OrderState.ACTION_REQUIRED, ActionReason.ARTWORK, "DownloadFailed"
        )
        assert items(status) == [
            ("01804", OrderState.ACTION_REQUIRED, ActionReason.ARTWORK, "DownloadFailed")
        ]
        assert (status.payment, status.native_payment) == (None, None)
        assert status.raw["status"] == "Created"


def test_pending_downloads_leave_the_order_created(replayed: Replayed) -> None:
    """Recorded POST answer (both files DownloadPending), served as the order's GET."""
    (placed,) = replayed.cassettes("order-placed")
    as_fetched = attrs.evolve(placed, method="GET", path="/v2/orders/11410410")
    status = replayed.fetch(as_fetched, "11410410", strict=True)
    assert (status.state, status.reason, status.native_status) == (
        OrderState.CREATED, None, "Created"
    )
    assert items(status) == [("01804", OrderState.CREATED, None, "Created")]


def test_dates_of_orders_are_creation_times_not_status_times(replayed: Replayed) -> None:
    """``dateTime`` stays the creation time two days on (recorded), so a fetch has no
    provider time (a feed entry's ``dateTime`` is the status's own)."""
    later = replayed.fetch("order-download-failed", "11410410")
    assert later.provider_time is None
    assert later.raw["dateTime"] == "2025-03-29T21:40:20.003"


def test_a_checkout_not_set_up_yet_reads_in_strict_mode_too(replayed: Replayed) -> None:
    """Documented: ``checkout`` is ``{amount, setupUrl}`` until set up (issue 10, point 1); one
    item's file awaits upload (point 3)."""
    for strict in (False, True):
        status = replayed.fetch("order-checkout-not-set-up", "93512277", strict=strict)
        assert (status.payment, status.native_payment) == (None, None)
        assert "status" not in status.raw["checkout"]
        assert (status.state, status.reason, status.native_status) == (
            OrderState.ACTION_REQUIRED, ActionReason.ARTWORK, "AwaitingUpload"
        )
        assert items(status) == [
            ("30117", OrderState.CREATED, None, "Created"),
            ("30118", OrderState.ACTION_REQUIRED, ActionReason.ARTWORK, "AwaitingUpload"),
        ]


def test_a_failed_payment_needs_the_customer_to_pay_again(replayed: Replayed) -> None:
    """Documented value ``Failed`` of checkout.status (issue 10, point 2)."""
    status = replayed.fetch("order-payment-failed", "93512278", strict=True)
    assert (status.state, status.reason) == (OrderState.ACTION_REQUIRED, ActionReason.PAYMENT)
    assert (status.payment, status.native_payment, status.native_status) == (
        PaymentState.FAILED, "Failed", "Failed"
    )
    assert items(status) == [("30119", OrderState.ACTION_REQUIRED, ActionReason.PAYMENT, "Failed")]


def test_a_shipped_order_has_its_tracking_url(replayed: Replayed) -> None:
    status = replayed.fetch("order-shipped", "93512279", strict=True)
    assert (status.state, status.native_status, status.payment) == (
        OrderState.SHIPPED, "Shipped", PaymentState.PAID
    )
    assert status.tracking == (Tracking(url="http://postnl.nl/tracktrace/3SPRNT93512279"),)
    assert items(status) == [("30120", OrderState.SHIPPED, None, "Shipped")]


def test_the_feed_cursor_moves_past_what_was_read(replayed: Replayed) -> None:
    """Recorded: the answer's ``since`` echoes the request's (issue 10, point 4)."""
    page = replayed.feed("sync-statuses", since="2025-03-24T13:00:00")
    (entry,) = page.statuses
    assert (entry.order_id, entry.state, entry.native_status) == (
        "11410410", OrderState.CREATED, "Created"
    )
    assert entry.provider_time == dt.datetime(2025, 3, 29, 20, 40, 20, 300000, tzinfo=UTC)
    assert entry.raw == {"id": "11410410", "status": "Created", "dateTime": "2025-03-29T21:40:20.3"}
    # just before the newest entry read, not the echoed since
    assert page.cursor == "2025-03-29T21:40:20.299999"
    assert parse_provider_time(page.cursor) == entry.provider_time - dt.timedelta(microseconds=1)


def test_entries_sharing_the_newest_time_are_read_again_not_skipped(replayed: Replayed) -> None:
    page = replayed.feed("sync-statuses-tie", since="2026-02-03T09:00:00")
    assert [s.order_id for s in page.statuses] == ["93512277", "93512278", "93512279"]
    assert page.cursor == "2026-02-03T11:02:10.186999"
    # the same two entries answered again: nothing newer, so the cursor stays where it was
    (tie,) = replayed.cassettes("sync-statuses-tie")
    again = attrs.evolve(tie, query={}, body=tie.body.replace(
        '"since": "2026-02-03T09:00:00"', '"since": "2026-02-03T11:02:10.186999"'))
    assert replayed.feed(again, since=page.cursor).cursor == page.cursor


def test_a_watcher_reads_the_recorded_feed_once_and_keeps_its_cursor() -> None:
    """The recorded answer, answered to any ``since``: the sweep stops at an unchanged cursor
    instead of reading the same page over and over, and the saved cursor is past the entry."""
    tokens, feed = Replayed("async").cassettes("oauth-token", "sync-statuses")
    replay = Replay([tokens, attrs.evolve(feed, query={})])

    async def sweep_twice() -> tuple[list[str | None], int]:
        store = MemoryStore()
        async with AsyncClient({"printapi": RECORDED_SETTINGS},
                               transport=replay.transport()) as client:
            watcher = Watcher(client, Tracker(store=store))
            cursors = []
            for _ in range(2):
                await watcher.sweep()
                cursors.append(store.load_cursor("printapi"))
            return cursors, replay.played.count("sync-statuses")

    cursors, reads = asyncio.run(sweep_twice())
    cursor = "2025-03-29T21:40:20.299999"
    assert cursors == [cursor, cursor]
    # the first read, the read that found nothing newer, then one read in the second sweep
    assert reads == 3
    sent = [r.url.params["since"] for r in replay.requests if r.url.path.endswith("statuses")]
    assert sent == [FEED_START, cursor, cursor]
