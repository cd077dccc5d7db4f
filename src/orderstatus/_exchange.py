"""The HTTP exchange: one provider request, tried until it is answered or out of budget.

Written once as a generator of effects: it yields :class:`SendRequest` and :class:`Sleep`,
receives their results, and returns the answer read by the provider, or raises the error the
answer (or the lack of one) stands for. The sync and async clients only carry the effects out.
No I/O happens here.

Every error of an exchange is created complete, once: the exchange opens an error context
(:mod:`orderstatus._context`) around the code that creates errors -- the provider's auth flow
while a request is sent (the client opens :attr:`SendRequest.context`), the provider's
``classify_error`` and parse steps, and the status-code mapping below -- so each error knows
its provider, order, URL, status code and request id, its texts already cleaned of every
credential.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Generic, NamedTuple, TypeAlias, TypeVar

import attrs
import httpx

from ._context import ErrorContext, error_context
from ._observer import Observer, Trace
from ._redaction import Redactor
from .errors import (
    AuthenticationError,
    OrderNotFoundError,
    OrderStatusError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    ResponseFormatError,
)
from .models import utcnow
from .provider import Provider
from .retry import RETRYABLE_STATUS, RetryPolicy, parse_retry_after

__all__ = [
    "Answer",
    "Budget",
    "Effect",
    "Exchange",
    "Op",
    "Reply",
    "SendRequest",
    "SentButLost",
    "Sleep",
    "error_boundary",
]

R = TypeVar("R")
log = logging.getLogger("orderstatus.client")
_SECRET_PARAM = ("key", "secret", "token", "password", "signature")
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id", "cf-ray")

# Errors raised before a request could reach the server: safe to retry any request.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class Budget:
    """What is left of one call's total time (:attr:`RetryPolicy.total`), shared by every
    exchange of the call (an update's fetches and its update request alike).

    Waits count as they are asked for, even when sleeping is faked, so a test's budget is
    deterministic.
    """

    __slots__ = ("started", "total", "waited")

    def __init__(self, total: float) -> None:
        self.total = total
        self.started = time.monotonic()
        self.waited = 0.0

    def elapsed(self) -> float:
        """Seconds spent so far: on the clock, or in waits asked for, whichever is more."""
        return max(time.monotonic() - self.started, self.waited)

    def left(self) -> float:
        """Seconds left; never below 0.1, so that a last exchange can still be tried."""
        return max(self.total - self.elapsed(), 0.1)

    @property
    def spent(self) -> bool:
        """Whether the call's total time is over."""
        return self.elapsed() >= self.total


@attrs.frozen
class SendRequest:
    """Send ``request`` through ``provider``'s HTTP client; reply: the response or the error.

    The client sends inside :attr:`context`, so an error the provider's auth flow raises is
    built complete.
    """

    provider: str
    request: httpx.Request
    budget: float
    """Seconds left of the call's total budget: the attempt, its body read included, must be
    over by then."""
    context: ErrorContext
    trace: Trace | None = None
    """Who hears of the attempt, and of any request an auth flow sends for it."""


@attrs.frozen
class Sleep:
    """Wait ``seconds``; reply: ``None``."""

    seconds: float


Effect: TypeAlias = "SendRequest | Sleep"
Reply: TypeAlias = "httpx.Response | Exception | None"
Op = Generator[Effect, Reply, R]
"""An operation: yields effects, receives their replies, returns its result."""


class Answer(Generic[R]):
    """What a provider read from a successful answer, and when its request was sent."""

    __slots__ = ("sent_at", "value")

    def __init__(self, value: R, sent_at: dt.datetime) -> None:
        self.value = value
        self.sent_at = sent_at
        """When the attempt that got this answer was sent (an observation's ``observed_at``)."""


class error_boundary(error_context):
    """Where errors leave orderstatus: those created in the block are built in the context,
    and an :class:`OrderStatusError` leaving it is detached from the exceptions chained to it
    (they were never cleaned: a JSON error keeps the whole body it could not decode)."""

    __slots__ = ()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        super().__exit__(kind, error, traceback)
        if isinstance(error, OrderStatusError):
            error.detach()


class SentButLost(Exception):
    """An unsafe request may have reached the provider, but its answer was lost."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(str(error))
        self.error = error


class _Failure(NamedTuple):
    """One failed attempt: the error it ends in, and whether another attempt may help."""

    error: Exception
    retry: bool
    retry_after: float | None = None


@attrs.define
class Exchange:
    """Sends provider requests with retries within a total budget, and maps failures to errors."""

    retry: RetryPolicy
    redact: Redactor
    clock: Callable[[], dt.datetime] = utcnow
    """When a request is sent (an observation's ``observed_at``)."""
    observer: Observer = attrs.field(factory=Observer)
    """Who hears of each attempt and retry (:mod:`orderstatus.telemetry`)."""
    context: ErrorContext = attrs.field(init=False)
    """The context of a whole call: errors only need cleaning."""

    def __attrs_post_init__(self) -> None:
        self.context = ErrorContext(clean=self.redact)

    def clean_url(self, url: httpx.URL) -> str:
        """The URL with secrets and secret-looking query values masked."""
        params = url.params.multi_items()
        if any(_secret_param(k) for k, _ in params):  # rebuilding a URL is slow: only if needed
            url = url.copy_with(params=[(k, "***" if _secret_param(k) else v) for k, v in params])
        return self.redact(str(url))

    def budget(self) -> Budget:
        """A fresh budget for one call."""
        return Budget(self.retry.total)

    def run(
        self, provider: Provider, request: httpx.Request, *, order_id: str | None, safe: bool,
        read: Callable[[httpx.Response], R], budget: Budget | None = None,
    ) -> Op[Answer[R]]:
        """Send with retries; return what ``read`` makes of the 2xx answer, or raise.

        A safe request is tried again on connection errors, timeouts, 429 and 5xx, and when
        ``read`` finds the body undecodable (a retryable :class:`ResponseFormatError`); an
        unsafe one only when it never left, or on 429 (else :class:`SentButLost` when its
        answer was lost). No attempt outlasts the call's ``budget`` (a fresh one if none is
        given): the client ends each attempt, body included, by then.
        """
        sending = ErrorContext(
            provider=provider.name, order_id=order_id,
            url=functools.partial(self.clean_url, request.url), clean=self.redact,
        )
        budget = self.budget() if budget is None else budget
        trace = self.observer.trace(provider.name, order_id, request, sending.request_url,
                                    self.clean_url)
        attempt = 0
        while True:
            attempt += 1
            sent_at = self.clock()
            if trace is not None:
                trace.sent(attempt)
            reply = yield SendRequest(provider.name, request, budget.left(), sending, trace)
            if trace is not None:
                trace.finished(attempt, reply)
            if isinstance(reply, OrderStatusError):  # raised by the auth flow, or a body refused
                raise reply
            if isinstance(reply, httpx.Response):
                outcome = self._answer(provider, reply, sending, safe, read)
                if not isinstance(outcome, _Failure):
                    return Answer(outcome, sent_at)
            else:
                assert isinstance(reply, Exception)
                outcome = self._no_answer(reply, sending, safe, budget)
            wait = None
            if outcome.retry:
                wait = self.retry.delay(attempt, outcome.retry_after, budget.elapsed())
            if wait is None:
                raise outcome.error
            if trace is not None:
                trace.retrying(attempt, outcome.error, wait)
            budget.waited += wait
            yield Sleep(wait)

    def _answer(
        self, provider: Provider, response: httpx.Response, sending: ErrorContext, safe: bool,
        read: Callable[[httpx.Response], R],
    ) -> R | _Failure:
        """Read an answer, in its own error context: ``read``'s result, or the failure."""
        answered = ErrorContext(
            sending.provider, sending.order_id, sending.url, response.status_code,
            functools.partial(_request_id, response), sending.clean,
        )
        with error_context(answered):
            if response.is_success:
                try:
                    return read(response)
                except ResponseFormatError as err:
                    return _Failure(err, retry=safe and err.retryable)
                except OrderStatusError:
                    raise
                except Exception as err:  # a provider's parser must not let a foreign error out
                    raise ResponseFormatError(
                        f"answer could not be parsed ({type(err).__name__})"
                    ) from None
            try:
                special = provider.classify_error(sending.order_id, response)
            except OrderStatusError:
                raise
            except Exception as err:  # a hostile error body must not let a foreign error out
                log.warning("%s: classify_error raised %s; the status code decides",
                            provider.name, type(err).__name__)
                special = None
            error = _status_error(response) if special is None else special
        status = response.status_code
        retry_after = getattr(error, "retry_after", None)
        if retry_after is None:  # a 503 may say when to come back, too
            retry_after = parse_retry_after(response.headers.get("retry-after"))
        retry = (
            status in RETRYABLE_STATUS
            and (safe or status == 429)
            and getattr(error, "retryable", True)  # a provider may know better
        )
        return _Failure(error, retry, retry_after)

    def _no_answer(
        self, error: Exception, sending: ErrorContext, safe: bool, budget: Budget
    ) -> _Failure:
        """The failure of an attempt that got no answer; :class:`SentButLost` for an unsafe
        request that may have arrived."""
        with error_context(sending):
            if isinstance(error, httpx.TimeoutException) and budget.spent:
                failure: ProviderError = ProviderUnavailableError(
                    f"no complete answer within the call's total of {budget.total:g} s "
                    f"({type(error).__name__})"
                )
            else:
                failure = _transport_error(error)
        if not (safe or isinstance(error, _NOT_SENT)):
            raise SentButLost(failure)
        retry = isinstance(error, (httpx.TransportError, httpx.DecodingError))
        return _Failure(failure, retry)


def _secret_param(name: str) -> bool:
    """Whether a query parameter's name says its value is a secret."""
    lowered = name.lower()
    return any(s in lowered for s in _SECRET_PARAM)


def _request_id(response: httpx.Response) -> str | None:
    return next((response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None)


def _status_error(response: httpx.Response) -> ProviderError:
    """The core error for a non-2xx answer no provider rule claimed."""
    status = response.status_code
    reason = f"provider answered {status} {response.reason_phrase.lower()}".rstrip()
    if status in (401, 403):
        return AuthenticationError(f"{reason}: credentials refused")
    if status == 404:
        return OrderNotFoundError(f"{reason}: no such order")
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return RateLimitedError(f"{reason}: rate limited", retry_after=retry_after)
    if status >= 500:
        return ProviderUnavailableError(reason)
    return ProviderError(reason)


def _transport_error(error: Exception) -> ProviderError:
    """The core error for a failure to get any answer."""
    kind = type(error).__name__
    if isinstance(error, httpx.DecodingError):
        return ResponseFormatError(f"answer could not be decoded ({kind})", retryable=True)
    if isinstance(error, httpx.TimeoutException):
        return ProviderUnavailableError(f"no answer in time ({kind})")
    if isinstance(error, httpx.HTTPError):
        return ProviderUnavailableError(f"could not reach the provider ({kind})")
    return ProviderError(f"request failed ({kind})", retryable=False)
