"""Everything the clients do, written once as generators of effects.

An operation yields :class:`Send` and :class:`Sleep` effects and receives their results; the
sync and async clients only differ in how they carry effects out. No I/O happens here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping
from typing import Any, TypeAlias, TypeVar

import attrs
import httpx

from .errors import (
    AuthenticationError,
    FeedNotSupportedError,
    InvalidOrderIdError,
    InvalidWebhookError,
    OrderNotFoundError,
    OrderStatusError,
    OutcomeUnknownError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    ResponseFormatError,
    TransitionNotAllowedError,
    UnknownProviderError,
    UpdateNotSupportedError,
)
from .lifecycle import OrderState
from .mapping import StatusMapper
from .models import FeedPage, OrderStatus
from .provider import ParsedItem, ParsedOrder, Provider
from .redaction import Redactor
from .retry import RETRYABLE_STATUS, RetryPolicy, parse_retry_after

__all__ = ["Operations", "Send", "Sleep"]

R = TypeVar("R")
_SECRET_PARAM = ("key", "secret", "token", "password", "signature")
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id", "cf-ray")


@attrs.frozen
class Send:
    """Send ``request`` through ``provider``'s HTTP client; reply: a response or the error."""

    provider: str
    request: httpx.Request
    budget: float | None = None
    """Seconds left of the call's total budget: no timeout of this attempt may exceed it."""


@attrs.frozen
class Sleep:
    """Wait ``seconds``; reply: ``None``."""

    seconds: float


Effect: TypeAlias = "Send | Sleep"
Reply: TypeAlias = "httpx.Response | Exception | None"
Op = Generator[Effect, Reply, R]

# Errors raised before a request could reach the server: safe to retry any request.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


# Update failures that say nothing about the order's state: no settling fetch.
_NOT_SETTLED = (AuthenticationError, OrderNotFoundError, RateLimitedError)


class _SentButLost(Exception):
    """An unsafe request may have reached the provider, but its answer was lost."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(str(error))
        self.error = error


@attrs.define
class Operations:
    """The logic of every client call, shared by :class:`Client` and :class:`AsyncClient`."""

    providers: Mapping[str, Provider]
    mappers: Mapping[str, StatusMapper]
    retry: RetryPolicy
    redact: Redactor
    strict: bool = False

    # -- the building blocks ----------------------------------------------------------------

    def provider(self, name: str) -> Provider:
        """The configured provider ``name``, or UnknownProviderError."""
        try:
            return self.providers[name]
        except (KeyError, TypeError):
            configured = ", ".join(sorted(self.providers)) or "none"
            raise UnknownProviderError(
                f"provider {name!r} is not configured (configured: {configured})"
            ) from None

    def clean_url(self, url: httpx.URL) -> str:
        """The URL with secrets and secret-looking query values masked."""
        params = [
            (k, "***" if any(s in k.lower() for s in _SECRET_PARAM) else v)
            for k, v in url.params.multi_items()
        ]
        cleaned = url.copy_with(params=params) if params else url
        return self.redact(str(cleaned))

    def exchange(
        self, provider: Provider, request: httpx.Request, *, order_id: str | None, safe: bool,
        parse: Callable[[httpx.Response], R] | None = None,
    ) -> Op[Any]:
        """Send with retries; return the 2xx response (or ``parse(response)``) or raise.

        A safe request is tried again on connection errors, timeouts, 429 and 5xx, and when
        ``parse`` finds the body undecodable (a retryable :class:`ResponseFormatError`); an
        unsafe one only when it never left, or on 429. No attempt outlasts the total budget.
        """
        started = time.monotonic()
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            elapsed = max(time.monotonic() - started, waited)
            reply = yield Send(provider.name, request, max(self.retry.total - elapsed, 0.1))
            retry_after: float | None = None
            error: Exception
            if isinstance(reply, httpx.Response) and reply.is_success:
                if parse is None:
                    return reply
                try:
                    return self.parse(provider, order_id, parse, reply)
                except ResponseFormatError as err:
                    error, may_retry = err, safe and err.retryable
            elif isinstance(reply, httpx.Response):
                error = self.error_for(provider, order_id, request, reply)
                retry_after = getattr(error, "retry_after", None)
                if retry_after is None:  # a 503 may say when to come back, too
                    retry_after = parse_retry_after(reply.headers.get("retry-after"))
                may_retry = (
                    reply.status_code in RETRYABLE_STATUS
                    and (safe or reply.status_code == 429)
                    and getattr(error, "retryable", True)  # a provider may know better
                )
            elif isinstance(reply, OrderStatusError):  # raised by the provider's auth flow
                raise self.complete(reply, {"provider": provider.name, "order_id": order_id})
            else:
                assert isinstance(reply, Exception)
                error = self.transport_error(provider, order_id, request, reply)
                not_sent = isinstance(reply, _NOT_SENT)
                if not (safe or not_sent):
                    raise _SentButLost(error)
                may_retry = isinstance(reply, (httpx.TransportError, httpx.DecodingError))
            # waits count even when sleeping is faked, so the total budget is deterministic
            elapsed = max(time.monotonic() - started, waited)
            wait = self.retry.delay(attempt, retry_after, elapsed) if may_retry else None
            if wait is None:
                raise error
            waited += wait
            yield Sleep(wait)

    def error_for(
        self, provider: Provider, order_id: str | None, request: httpx.Request,
        response: httpx.Response,
    ) -> Exception:
        """The core error for a non-2xx answer."""
        status = response.status_code
        common: dict[str, Any] = {
            "provider": provider.name, "order_id": order_id, "status_code": status,
            "request_id": next(
                (response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None
            ),
            "url": self.clean_url(request.url),
        }
        special = provider.classify_error(order_id, response)
        if special is not None:
            return self.complete(special, common)
        reason = f"provider answered {status} {response.reason_phrase.lower()}".rstrip()
        if status in (401, 403):
            return AuthenticationError(f"{reason}: credentials refused", **common)
        if status == 404:
            return OrderNotFoundError(f"{reason}: no such order", **common)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return RateLimitedError(f"{reason}: rate limited", retry_after=retry_after, **common)
        if status >= 500:
            return ProviderUnavailableError(reason, **common)
        return ProviderError(reason, **common)

    def transport_error(
        self, provider: Provider, order_id: str | None, request: httpx.Request, error: Exception
    ) -> ProviderError:
        """The core error for a failure to get any answer."""
        common: dict[str, Any] = {
            "provider": provider.name, "order_id": order_id, "url": self.clean_url(request.url),
        }
        kind = type(error).__name__
        if isinstance(error, httpx.DecodingError):
            return ResponseFormatError(
                f"answer could not be decoded ({kind})", retryable=True, **common
            )
        if isinstance(error, httpx.TimeoutException):
            return ProviderUnavailableError(f"no answer in time ({kind})", **common)
        if isinstance(error, httpx.HTTPError):
            return ProviderUnavailableError(f"could not reach the provider ({kind})", **common)
        return ProviderError(f"request failed ({kind})", retryable=False, **common)

    def complete(self, error: Exception, common: Mapping[str, Any]) -> Exception:
        """Fill in provider, order and HTTP details a provider's error left out."""
        if isinstance(error, OrderStatusError):
            for name, value in common.items():
                if getattr(error, name, None) is None and hasattr(error, name):
                    setattr(error, name, value)
            error.provider = error.provider or common.get("provider")
            if error.order_id is None:
                error.order_id = common.get("order_id")
            error.args = (error.message,)
        return error

    def parse(self, provider: Provider, order_id: str | None, step: Any, *args: Any) -> Any:
        """Run a provider's parse step; anything but a core error becomes ResponseFormatError."""
        try:
            return step(*args)
        except OrderStatusError as err:
            self.complete(err, {"provider": provider.name, "order_id": order_id})
            raise
        except Exception as err:
            raise ResponseFormatError(
                f"answer could not be parsed ({type(err).__name__})",
                provider=provider.name, order_id=order_id,
            ) from None

    # -- operations -------------------------------------------------------------------------

    def fetch(self, name: str, order_id: str, strict: bool | None = None) -> Op[OrderStatus]:
        """Fetch one order."""
        provider = self.provider(name)
        oid = provider.check_order_id(order_id)
        request = provider.build_fetch(oid)
        parsed: ParsedOrder = yield from self.exchange(
            provider, request, order_id=oid, safe=True,
            parse=lambda response: provider.parse_fetch(oid, response),
        )
        return self.mappers[name].to_status(parsed, strict=self._strict(strict))

    def update(
        self, name: str, order_id: str, target: OrderState | str, *,
        current: OrderStatus | None, confirm: bool, strict: bool | None = None,
        dry_run: bool = False,
    ) -> Op[OrderStatus]:
        """Move an order to ``target`` under the provider's rules.

        With ``dry_run`` the rules are checked (after a fetch, unless ``current`` is given) and
        the current status is returned without sending the update.
        """
        provider = self.provider(name)
        oid = provider.check_order_id(order_id)
        rules = provider.update_rules
        if rules is None or not provider.capabilities.update:
            raise UpdateNotSupportedError(
                f"{provider.title} has no status update", provider=name, order_id=oid
            )
        goal = _state(target, provider=name, order_id=oid, allowed=rules.targets)
        native_target = rules.targets.get(goal)
        if native_target is None:
            raise TransitionNotAllowedError(
                f"{provider.title} cannot set orders to {goal}; targets: "
                f"{', '.join(sorted(s.value for s in rules.targets))}",
                provider=name, order_id=oid, target=goal.value,
                allowed=sorted(s.value for s in rules.targets),
            )
        if current is None:
            current = yield from self.fetch(name, oid, strict=False)
        elif (current.provider, current.order_id) != (name, oid):
            raise TransitionNotAllowedError(
                f"the status passed as current is of {current.provider} order "
                f"{current.order_id!r}", provider=name, order_id=oid,
            )
        if self.reached(provider, current, native_target):
            return current
        key = provider.native_key
        sources = {key(s) for s in rules.sources}
        blocking = sorted({n for n in current.native_statuses if key(n) not in sources})
        if blocking:
            raise TransitionNotAllowedError(
                f"cannot move from {current.state} to {goal} ({native_target}): items in "
                f"{', '.join(blocking)}; updates need every item in "
                f"{', '.join(sorted(rules.sources))}",
                provider=name, order_id=oid, current=current.state.value, target=goal.value,
                allowed=sorted(rules.sources), blocking=blocking,
            )
        if dry_run:
            return current
        request = provider.build_update(oid, native_target)
        try:
            response = yield from self.exchange(provider, request, order_id=oid, safe=False)
            self.parse(provider, oid, provider.parse_update, oid, response)
        except ProviderError as failure:
            if isinstance(failure, _NOT_SETTLED):
                raise
            # refused (a 409 may mean "already there"), or an answer that may hide an applied
            # update: the order decides
            fresh = yield from self.settle(name, oid, native_target)
            if fresh is not None:
                return fresh
            raise failure from None
        except _SentButLost as lost:
            fresh = yield from self.settle(name, oid, native_target)
            if fresh is not None:
                return fresh
            raise OutcomeUnknownError(
                f"update to {goal} was sent but its answer was lost ({lost.error.detail}) "
                "and a fresh fetch did not show it applied",
                provider=name, order_id=oid,
            ) from None
        if not confirm:
            told = ParsedOrder(
                oid, items=tuple(ParsedItem(i.item_id, native_target) for i in current.items),
                native_status=None if current.items else native_target,
            )
            return self.mappers[name].to_status(told)
        return (yield from self.fetch(name, oid, strict=strict))

    def settle(self, name: str, order_id: str, native_target: str) -> Op[OrderStatus | None]:
        """A fresh status if it already shows ``native_target``; else (or on errors) ``None``."""
        try:
            fresh = yield from self.fetch(name, order_id, strict=False)
        except OrderStatusError:
            return None
        return fresh if self.reached(self.provider(name), fresh, native_target) else None

    def reached(self, provider: Provider, status: OrderStatus, native_target: str) -> bool:
        """Whether every item of ``status`` already shows ``native_target``."""
        key = provider.native_key
        return all(key(n) == key(native_target) for n in status.native_statuses)

    def webhook(
        self, name: str, body: bytes | str, headers: Mapping[str, str] | None,
        query: Mapping[str, str] | str | None, strict: bool | None = None,
    ) -> Op[OrderStatus]:
        """Take the order id from a notification and fetch the order's real status."""
        provider = self.provider(name)
        raw = body.encode() if isinstance(body, str) else bytes(body)
        order_id = self.parse_webhook(provider, raw, headers, query)
        return (yield from self.fetch(name, order_id, strict=strict))

    def parse_webhook(
        self, provider: Provider, body: bytes, headers: Mapping[str, str] | None,
        query: Mapping[str, str] | str | None,
    ) -> str:
        """The checked order id of a notification, or InvalidWebhookError."""
        if not provider.capabilities.webhook:
            raise InvalidWebhookError(f"{provider.title} sends no webhooks", provider=provider.name)
        try:
            # latin-1, as HTTP carries header bytes; anything it cannot hold is malformed
            order_id = provider.parse_webhook(
                body, httpx.Headers(headers or {}, encoding="latin-1"),
                httpx.QueryParams(query or ""),
            )
        except OrderStatusError:
            raise
        except Exception as err:  # hostile input must never escape as a foreign error
            raise InvalidWebhookError(
                f"webhook could not be parsed ({type(err).__name__})", provider=provider.name
            ) from None
        try:
            return provider.check_order_id(order_id)
        except InvalidOrderIdError as err:
            raise InvalidWebhookError(
                f"webhook carries an unusable order id: {err.detail}", provider=provider.name
            ) from None

    def feed(self, name: str, since: str | None, strict: bool | None = None) -> Op[FeedPage]:
        """Read one page of a provider's change feed."""
        provider = self.provider(name)
        if not provider.capabilities.feed:
            raise FeedNotSupportedError(f"{provider.title} has no change feed", provider=name)
        request = provider.build_feed(since)
        orders, cursor = yield from self.exchange(
            provider, request, order_id=None, safe=True,
            parse=lambda response: provider.parse_feed(since, response),
        )
        mapper = self.mappers[name]
        statuses = tuple(mapper.to_status(o, strict=self._strict(strict), partial=True)
                         for o in orders)
        return FeedPage(name, statuses, cursor)

    def _strict(self, strict: bool | None) -> bool:
        return self.strict if strict is None else strict


def _state(
    target: OrderState | str, *, provider: str, order_id: str, allowed: Mapping[OrderState, str]
) -> OrderState:
    try:
        return OrderState(target)
    except ValueError:
        raise TransitionNotAllowedError(
            f"{target!r} is not an order state", provider=provider, order_id=order_id,
            target=str(target), allowed=sorted(s.value for s in allowed),
        ) from None
