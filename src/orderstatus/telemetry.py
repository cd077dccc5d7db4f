"""What the clients tell about their requests: events for a hook, and log records.

Every attempt of every provider request is reported twice, at no cost when nobody listens (a
request an auth flow sends for an attempt, such as Print API's token request, as a request of
its own, with the order id of the call that needed it):

- to the ``on_event=`` hook of :class:`~orderstatus.Client` and
  :class:`~orderstatus.AsyncClient`, as a :class:`RequestSent`, then a :class:`RequestFinished`,
  and a :class:`RetryScheduled` when another attempt follows; the hook is called in the thread
  (or task) making the call, so the caller's context (a current span) applies;
- to the logger ``orderstatus.client`` (:data:`LOGGER`): one ``DEBUG`` record per finished
  attempt, one ``INFO`` record per retry, each carrying the ``extra`` fields of :data:`FIELDS`.

Nothing reported holds a credential: URLs are the scrubbed ones errors carry, headers and bodies
are never reported, and retry reasons are the cleaned error messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import attrs

__all__ = [
    "FIELDS",
    "LOGGER",
    "EventHook",
    "RequestEvent",
    "RequestFinished",
    "RequestSent",
    "RetryScheduled",
]

LOGGER = "orderstatus.client"
"""The logger of every request (``DEBUG``) and retry (``INFO``) record."""

FIELDS = {
    "orderstatus_event": "``request`` (a finished attempt) or ``retry``",
    "orderstatus_provider": "provider name",
    "orderstatus_order_id": "order id, or ``None`` (a feed page, a request without one)",
    "orderstatus_method": "HTTP method",
    "orderstatus_url": "the URL with every credential masked",
    "orderstatus_attempt": "attempt number, 1 for the first",
    "orderstatus_exchange_id": "the same for every attempt of one request",
    "orderstatus_status": "HTTP status code, or ``None`` when no answer came",
    "orderstatus_error": "what went wrong instead of an answer (``ReadTimeout``), or ``None``",
    "orderstatus_duration_ms": "milliseconds the attempt took, its body read included",
    "orderstatus_reason": "retry records: why, the failed attempt's cleaned error message",
    "orderstatus_wait_s": "retry records: seconds until the next attempt",
}
"""The ``extra`` fields of the log records (attributes of each ``logging.LogRecord``): name ->
meaning. Request records carry all but the last two; retry records all but status, error and
duration."""


@attrs.frozen
class RequestEvent:
    """What every event tells: which attempt of which request."""

    provider: str
    order_id: str | None
    """``None`` for a request about no one order (a feed page)."""
    method: str
    url: str
    """The URL with every credential masked."""
    attempt: int
    """1 for the first attempt, 2 for the first retry, ..."""
    exchange_id: int
    """The same for every attempt of one request; unique within the process."""


@attrs.frozen
class RequestSent(RequestEvent):
    """An attempt is about to be sent."""


@attrs.frozen
class RequestFinished(RequestEvent):
    """An attempt ended: answered (``status``) or not (``error``)."""

    status: int | None
    """The HTTP status code, or ``None`` when no answer came."""
    error: str | None
    """Why no usable answer came (``"ConnectError"``, ``"ReadTimeout"``, the name of the
    error a refused body raised), or ``None``."""
    duration: float
    """Seconds from sending to the end of the answer's body (or of the failure)."""


@attrs.frozen
class RetryScheduled(RequestEvent):
    """An attempt failed and another follows after ``wait`` seconds."""

    reason: str
    """The failed attempt's error message, cleaned of every credential."""
    wait: float
    """Seconds until the next attempt."""


EventHook: TypeAlias = Callable[[RequestEvent], object]
"""What ``on_event=`` takes: called with every event, its result ignored. It should return
quickly; an exception it raises is logged once (then at ``DEBUG``) and never fails the call."""
