"""Reporting each attempt of an exchange to the client's hook and to the ``orderstatus.client``
logger (the events and fields are described in :mod:`orderstatus.telemetry`).

The exchange asks for a :class:`Trace` per request, and gets ``None`` when no hook is set and
the logger would drop both kinds of record: then nothing is built, timed or formatted.

A request an auth flow sends while an attempt is sent (Print API's token request) is reported
as a request of its own: the client sends each attempt inside :meth:`Trace.attempt`, and its
HTTP clients' event hooks (:func:`request_hook`, :func:`response_hook`) tell the attempt's
:class:`Aside` of every request httpx sends for it.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import logging
import time
from collections.abc import Callable, Iterator
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

__all__ = ["Aside", "Observer", "Trace", "request_hook", "response_hook", "sending"]

log = logging.getLogger(LOGGER)
_exchange_ids = itertools.count(1)  # next() on a count is atomic: threads share it safely
_SENDING: contextvars.ContextVar[Aside | None] = contextvars.ContextVar(
    "orderstatus_sending", default=None)
"""The attempt this thread or task is sending, while anybody listens."""
_OWN = "orderstatus_exchange_id"
"""The request extension marking an attempt's own request, and the copies an auth flow makes
of it to sign it (they keep its extensions: its timeouts): any other request is sent aside."""


class Observer:
    """One client's listeners: its ``on_event`` hook, and the logger."""

    __slots__ = ("_hook_failed", "hook")

    def __init__(self, hook: EventHook | None = None) -> None:
        if hook is not None and not callable(hook):
            raise ConfigurationError(f"on_event must be callable, not {type(hook).__name__}")
        self.hook = hook
        self._hook_failed = False

    def trace(self, provider: str, order_id: str | None, request: httpx.Request,
              url: Callable[[], str | None], clean: Callable[[httpx.URL], str]
              ) -> Trace | None:
        """How to report the attempts of ``request`` (its URL as ``url()`` shows it, the URL
        of a request sent aside as ``clean`` shows it); ``None`` when nobody listens."""
        if self.hook is None and not log.isEnabledFor(logging.INFO):
            return None
        return Trace(self, provider, order_id, request, url() or "", clean)

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

    __slots__ = ("_about", "_clean", "_exchange_id", "_observer", "_request", "_started")

    def __init__(self, observer: Observer, provider: str, order_id: str | None,
                 request: httpx.Request, url: str, clean: Callable[[httpx.URL], str]) -> None:
        self._observer = observer
        self._request = request
        self._about = (provider, order_id, request.method, url)
        self._clean = clean
        self._exchange_id = next(_exchange_ids)
        self._started = 0.0

    @contextlib.contextmanager
    def attempt(self) -> Iterator[Aside]:
        """Around the sending of one attempt: requests httpx sends that are not this one (an
        auth flow's) are reported through the :class:`Aside` given, which the client tells
        how the attempt ended (:meth:`Aside.end`)."""
        self._request.extensions[_OWN] = self._exchange_id  # kept by a flow signing a copy
        aside = Aside(self)
        token = _SENDING.set(aside)
        try:
            yield aside
        finally:
            _SENDING.reset(token)

    def aside(self, request: httpx.Request) -> Trace:
        """The trace of ``request``, sent aside for this one's attempt (its own exchange)."""
        provider, order_id, _, _ = self._about
        return Trace(self._observer, provider, order_id, request, self._clean(request.url),
                     self._clean)

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


class Aside:
    """The requests an auth flow sends while one attempt is sent (a token request): each is
    reported as the first attempt of an exchange of its own, from its sending to the next
    request of the attempt (its body read by then) or to the attempt's end."""

    __slots__ = ("_answer", "_of", "_trace")

    def __init__(self, of: Trace) -> None:
        self._of = of
        self._trace: Trace | None = None
        self._answer: httpx.Response | None = None

    def sending(self, request: httpx.Request) -> None:
        """httpx is about to send ``request`` for this attempt."""
        self._finish(None)
        if request.extensions.get(_OWN) != self._of._exchange_id:
            self._trace = self._of.aside(request)
            self._trace.sent(1)

    def answered(self, response: httpx.Response) -> None:
        """httpx received ``response`` (its headers) for this attempt."""
        if self._trace is not None and response.request is self._trace._request:
            self._answer = response

    def end(self, reply: object) -> None:
        """The attempt ended in ``reply`` (a response, or the error instead)."""
        self._finish(reply)

    def _finish(self, reply: object) -> None:
        """End the request sent aside: in its answer, unless none came or the attempt ended
        in a transfer error (``reply``) while its body was read."""
        if self._trace is not None:
            cut_off = self._answer is None or isinstance(reply, httpx.HTTPError)
            self._trace.finished(1, reply if cut_off else self._answer)
        self._trace = self._answer = None


def sending(trace: Trace | None) -> contextlib.AbstractContextManager[Aside | None]:
    """Around the sending of an attempt of ``trace``'s request (nothing if nobody listens)."""
    return contextlib.nullcontext() if trace is None else trace.attempt()


def request_hook(request: httpx.Request) -> None:
    """An httpx ``request`` event hook: tells the attempt being sent of each request."""
    aside = _SENDING.get()
    if aside is not None:
        aside.sending(request)


def response_hook(response: httpx.Response) -> None:
    """An httpx ``response`` event hook: tells the attempt being sent of each answer."""
    aside = _SENDING.get()
    if aside is not None:
        aside.answered(response)
