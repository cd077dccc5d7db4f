"""Reporting each attempt of an exchange to the client's hook and to the ``orderstatus.client``
logger (the events and fields are described in :mod:`orderstatus.telemetry`).

The exchange asks for a :class:`Trace` per request, and gets ``None`` when no hook is set and
the logger would drop both kinds of record: then nothing is built, timed or formatted.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from .errors import ConfigurationError, OrderStatusError
from .telemetry import (
    LOGGER,
    EventHook,
    RequestEvent,
    RequestFinished,
    RequestSent,
    RetryScheduled,
)

__all__ = ["Observer", "Trace"]

log = logging.getLogger(LOGGER)
_exchange_ids = itertools.count(1)  # next() on a count is atomic: threads share it safely


class Observer:
    """One client's listeners: its ``on_event`` hook, and the logger."""

    __slots__ = ("_hook_failed", "hook")

    def __init__(self, hook: EventHook | None = None) -> None:
        if hook is not None and not callable(hook):
            raise ConfigurationError(f"on_event must be callable, not {type(hook).__name__}")
        self.hook = hook
        self._hook_failed = False

    def trace(self, provider: str, order_id: str | None, request: httpx.Request,
              url: Callable[[], str | None]) -> Trace | None:
        """How to report the attempts of ``request``; ``None`` when nobody listens."""
        if self.hook is None and not log.isEnabledFor(logging.INFO):
            return None
        return Trace(self, provider, order_id, request.method, url() or "", next(_exchange_ids))

    def emit(self, event: RequestEvent) -> None:
        """Hand ``event`` to the hook; its failure is logged, never raised."""
        assert self.hook is not None
        try:
            self.hook(event)
        except Exception as err:
            if self._hook_failed:
                log.debug("on_event hook failed again (%s)", type(err).__name__)
            else:
                self._hook_failed = True
                log.warning("on_event hook %r failed on %s; the call goes on (later failures "
                            "are logged at debug level)", self.hook, type(event).__name__,
                            exc_info=True)


class Trace:
    """The reports of one request's attempts (one exchange)."""

    __slots__ = ("_about", "_exchange_id", "_observer", "_started")

    def __init__(self, observer: Observer, provider: str, order_id: str | None, method: str,
                 url: str, exchange_id: int) -> None:
        self._observer = observer
        self._about = (provider, order_id, method, url)
        self._exchange_id = exchange_id
        self._started = 0.0

    def sent(self, attempt: int) -> None:
        """Attempt ``attempt`` is about to be sent."""
        if self._observer.hook is not None:
            self._observer.emit(RequestSent(*self._shared(attempt)))
        self._started = time.perf_counter()

    def finished(self, attempt: int, reply: object) -> None:
        """Attempt ``attempt`` ended in ``reply`` (a response, or the error instead)."""
        seconds = time.perf_counter() - self._started
        status = reply.status_code if isinstance(reply, httpx.Response) else None
        error = None if status is not None else type(reply).__name__
        if self._observer.hook is not None:
            self._observer.emit(RequestFinished(*self._shared(attempt), status, error, seconds))
        if log.isEnabledFor(logging.DEBUG):
            provider, _, method, url = self._about
            ms = round(seconds * 1000, 3)  # the message shows the field's value
            log.debug(
                "%s %s %s (attempt %d): %s in %.1f ms", provider, method, url, attempt,
                status if error is None else error, ms,
                extra=self._extra("request", attempt, orderstatus_status=status,
                                  orderstatus_error=error, orderstatus_duration_ms=ms),
            )

    def retrying(self, attempt: int, error: Exception, wait: float) -> None:
        """Attempt ``attempt`` failed with ``error``; the next follows in ``wait`` seconds."""
        reason = error.detail if isinstance(error, OrderStatusError) else str(error)
        if self._observer.hook is not None:
            self._observer.emit(RetryScheduled(*self._shared(attempt), reason, wait))
        if log.isEnabledFor(logging.INFO):
            provider, _, method, url = self._about
            log.info(
                "%s %s %s (attempt %d) failed: %s; retrying in %.2f s", provider, method, url,
                attempt, reason, wait,
                extra=self._extra("retry", attempt, orderstatus_reason=reason,
                                  orderstatus_wait_s=wait),
            )

    def _extra(self, event: str, attempt: int, **fields: Any) -> dict[str, Any]:
        """A record's ``extra``: the fields of :data:`~orderstatus.telemetry.FIELDS`."""
        provider, order_id, method, url = self._about
        return {
            "orderstatus_event": event, "orderstatus_provider": provider,
            "orderstatus_order_id": order_id, "orderstatus_method": method,
            "orderstatus_url": url, "orderstatus_attempt": attempt,
            "orderstatus_exchange_id": self._exchange_id, **fields,
        }

    def _shared(self, attempt: int) -> tuple[str, str | None, str, str, int, int]:
        """The fields every event of this request has, for attempt ``attempt``."""
        return (*self._about, attempt, self._exchange_id)
