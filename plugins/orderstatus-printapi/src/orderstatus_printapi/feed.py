"""Print API's change feed, ``GET sync/statuses?since=…``: where each read starts.

The answer's own ``since`` echoes the request's (recorded: TokTok-dev/printapi-sdk,
``tests/Fixtures/Saloon/sync/…``, commit 871a7a6), so it cannot be the next cursor. The next
cursor is built from the entries themselves: just before the newest ``dateTime`` read.

Print API does not say whether ``since`` is inclusive, nor whether a page can be cut short,
so the cursor errs on reading again rather than skipping: entries that share the newest
timestamp come back once more on the next read (the tracker drops them as duplicates), and an
entry that shares it but was not in this page is read then too. When nothing newer arrived,
the next cursor equals the one asked with, which is where a reader stops.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .timestamps import format_provider_time, parse_provider_time

__all__ = ["FEED_START", "next_cursor"]

FEED_START = "2000-01-01T00:00:00"
"""``since`` of a first read: before any Print API order, in the recorded request's form."""
_TICK = dt.timedelta(microseconds=1)


def next_cursor(since: str | None, read: Iterable[dt.datetime]) -> str | None:
    """The ``since`` to read on from, after a page asked ``since`` held entries dated ``read``.

    One microsecond before the newest entry, in Print API's own form; ``since`` itself (as
    given) when the page was empty or held nothing past it, so the cursor never moves back.
    """
    newest = max(read, default=None)
    if newest is None:
        return since
    cursor = newest - _TICK
    if since is not None:
        try:
            asked = parse_provider_time(since)
        except ValueError:
            asked = None
        if asked is not None and cursor <= asked:
            return since
    return format_provider_time(cursor)
