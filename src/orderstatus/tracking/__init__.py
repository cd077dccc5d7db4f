"""The tracker: turns observations (fetches, webhooks, feeds) into changes, exactly once.

Observations arrive duplicated, late, out of order and sometimes partial; :func:`reconcile`
decides what one of them means given the order's last applied observation (:mod:`.rules`),
and :class:`Tracker` applies that decision atomically in a :class:`~orderstatus.stores.Store`,
keeps the change in the store's change log for :class:`Consumer`\\ s, schedules the order's
next check (:class:`CheckPolicy`) and announces the change in process.
"""

from __future__ import annotations

from .consumers import Consumer
from .history import HistoryEntry, OrderRecord, Outcome
from .rules import Decision, changed_kinds, complete, is_older, reconcile
from .schedule import DEFAULT_LONGEST, CheckPolicy
from .tracker import Tracker

__all__ = [
    "DEFAULT_LONGEST",
    "CheckPolicy",
    "Consumer",
    "Decision",
    "HistoryEntry",
    "OrderRecord",
    "Outcome",
    "Tracker",
    "changed_kinds",
    "complete",
    "is_older",
    "reconcile",
]
