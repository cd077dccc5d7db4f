"""The ``sync/statuses`` change feed, read through the client."""

from __future__ import annotations

import pytest

from orderstatus import OrderState
from orderstatus.errors import ResponseFormatError


def seen(page):
    return [(s.order_id, s.state) for s in page.statuses]


def test_feed_lists_changes_and_continues_from_its_cursor(api, sandbox):
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
    assert page.cursor == page.statuses[-1].raw["dateTime"]

    sandbox.advance(60)
    sandbox.set_status(second, "Shipped")
    later = api.feed(page.cursor)
    assert seen(later) == [(second, OrderState.SHIPPED)]
    assert later.statuses[0].native_status == "Shipped"

    empty = api.feed(later.cursor)
    assert (empty.statuses, empty.cursor) == ((), later.cursor)


def test_feed_pages_through_every_change_once(api, sandbox):
    sandbox.feed_page_size = 2
    ids = [sandbox.create_order() for _ in range(5)]
    collected, cursor = [], None
    for _ in range(5):
        page = api.feed(cursor)
        if not page.statuses:
            break
        collected += [s.order_id for s in page.statuses]
        cursor = page.cursor
    assert collected == ids


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
