"""The worker's one task: fetch the order a reference names and record its status."""

from __future__ import annotations

import logging
import random

from celery import Task

from orderstatus import OrderNotFoundError, OrderStatusError

from .app import app
from .orders import client, tracker

log = logging.getLogger(__name__)
MAX_RETRIES = 12
"""Waits of 1 s, 2 s, 4 s … up to 10 min: about an hour and a half of outage in all."""


def reference(provider: str, order_id: str) -> str:
    """What goes on the queue: ``provider:order_id`` (provider names never hold a ``:``)."""
    return f"{provider}:{order_id}"


@app.task(bind=True, max_retries=MAX_RETRIES)
def record_order(self: Task[[str], str], ref: str) -> str:
    """Fetch ``provider:order_id`` and record it; the tracker's outcome, or ``ignored``."""
    provider, _, order_id = ref.partition(":")
    try:
        status = client().fetch(provider, order_id)
    except OrderNotFoundError:  # a forged or stale id: nothing to record
        log.info("%s: no such order, ignored", ref)
        return "ignored"
    except OrderStatusError as err:
        if not err.retryable:  # bad credentials, an unreadable answer: a person must look
            raise
        wait = min(2.0 ** self.request.retries, 600.0)
        raise self.retry(exc=err, countdown=random.uniform(wait / 2, wait)) from None
    return tracker().record(status).outcome.value
