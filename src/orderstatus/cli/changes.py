"""``changes``: read the tracker's change log, from an id or as a named consumer."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from .common import EXIT_OK, CommandError
from .inputs import make_tracker
from .output import change_line, change_record, dumps, say

if TYPE_CHECKING:
    from orderstatus.models import StatusChange
    from orderstatus.tracking import Consumer, Tracker

__all__ = ["PAGE", "cmd_changes"]

PAGE = 500
"""Changes read (and, for a consumer, acknowledged) at a time."""


def _consumer(tracker: Tracker, name: str) -> Consumer:
    try:
        return tracker.consumer(name)
    except (TypeError, ValueError) as err:
        raise CommandError(f"invalid consumer name {name!r}: {err}") from None


def cmd_changes(args: argparse.Namespace) -> int:
    """Print stored changes after ``--after``, or a consumer's unacknowledged ones; with
    ``--follow``, keep printing new ones until stopped (Ctrl-C or SIGTERM: exit 0)."""
    tracker = make_tracker(args)
    try:
        consumer = _consumer(tracker, args.consumer) if args.consumer else None
        position = args.after
        while True:
            batch: list[StatusChange] = (
                consumer.poll(PAGE) if consumer is not None
                else tracker.changes(after=position, limit=PAGE)
            )
            for change in batch:
                say(dumps(change_record(change)) if args.json
                    else f"{change.id} {change_line(change)}")
            if batch:
                position = batch[-1].id
                if consumer is not None:  # printed first: a crash prints again, never skips
                    consumer.ack(position)
            if len(batch) == PAGE:
                continue
            if not args.follow:
                return EXIT_OK
            time.sleep(args.interval)
    finally:
        tracker.close()
