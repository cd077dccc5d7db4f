"""The ``sync/statuses`` change feed, read through the client from the sandbox."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from orderstatus_printapi import format_provider_time, parse_provider_time

from orderstatus import OrderState
from orderstatus.errors import ResponseFormatError


def seen(page):
    return [(s.order_id, s.state) for s in page.statuses]


def test_the_cursor_moves_past_what_was_read(api, sandbox):
    assert api.client.provider("printapi").capabilities.feed
    first, second = sandbox.create_order(), sandbox.create_order()
    sandbox.set_status(first, "Processing")
    page = api.feed()
    assert seen(page) == [
        (first, OrderState.CREATED), (second, OrderState.CREATED),
        (first, OrderState.IN_PRODUCTION),
    ]
    times = [s.provider_time for s in page.statuses]
    assert times == sorted(times)
    newest = page.statuses[-1].provider_time
    assert page.cursor == format_provider_time(newest - dt.timedelta(microseconds=1))

    sandbox.advance(60)
    sandbox.set_status(second, "Shipped")
    later = api.feed(page.cursor)
    # the newest entry of the last read comes again (never skipped), then what is new
    assert seen(later) == [(first, OrderState.IN_PRODUCTION), (second, OrderState.SHIPPED)]
    assert later.statuses[-1].native_status == "Shipped"

    quiet = api.feed(later.cursor)
    assert seen(quiet) == [(second, OrderState.SHIPPED)]
    assert quiet.cursor == later.cursor  # nothing newer: a reader stops here


def test_an_empty_page_keeps_the_cursor_asked_with(api, sandbox):
    assert api.feed().cursor is None
    order_id = sandbox.create_order()
    cursor = api.feed().cursor
    assert cursor is not None
    assert parse_provider_time(cursor) < sandbox.orders[order_id].changed_at
    sandbox.advance(3600)
    moved_on = format_provider_time(sandbox.clock.now())
    page = api.feed(moved_on)
    assert (page.statuses, page.cursor) == ((), moved_on)


def test_paging_reads_every_change_and_stops(api, sandbox):
    sandbox.feed_page_size = 2
    ids = [sandbox.create_order() for _ in range(5)]
    pages, cursor = [], None
    for _ in range(10):
        page = api.feed(cursor)
        pages.append([s.order_id for s in page.statuses])
        if page.cursor == cursor:
            break
        cursor = page.cursor
    assert list(dict.fromkeys(i for p in pages for i in p)) == ids
    # each page starts with the newest entry of the page before: read again, not skipped
    for before, after in itertools.pairwise(pages):
        assert after[0] == before[-1]
    assert pages[-1] == [ids[-1]]


def test_feed_maps_unknown_statuses_to_unknown(api, sandbox):
    order_id = sandbox.create_order()
    sandbox.set_status(order_id, "Archived", undocumented=True)
    last = api.feed().statuses[-1]
    assert (last.state, last.native_status) == (OrderState.UNKNOWN, "Archived")


def test_malformed_feed_is_retried_then_a_format_error(api, sandbox):
    sandbox.create_order()
    sandbox.faults.inject("malformed", path="/sync/")
    assert len(api.feed().statuses) == 1
    sandbox.faults.inject("malformed", path="/sync/", times=10)
    with pytest.raises(ResponseFormatError):
        api.feed()
