"""The use cases behind every client call: fetch, update, settle, webhook, feed and send.

Each is written once, as a generator of effects over the HTTP exchange
(:mod:`orderstatus._exchange`); :class:`~orderstatus.Client` and
:class:`~orderstatus.AsyncClient` only carry the effects out. No I/O happens here. Whether an
update may go ahead is :meth:`UpdateRules.decide <orderstatus.UpdateRules.decide>`'s to say.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

import attrs
import httpx

from ._exchange import Budget, Exchange, Op, SentButLost
from .errors import (
    AuthenticationError,
    FeedNotSupportedError,
    InvalidArgumentError,
    InvalidOrderIdError,
    InvalidWebhookError,
    OrderNotFoundError,
    OrderStatusError,
    OutcomeUnknownError,
    ProviderError,
    RateLimitedError,
    TransitionNotAllowedError,
    UnknownProviderError,
    UpdateNotSupportedError,
)
from .lifecycle import OrderState
from .mapping import StatusMapper
from .models import FeedPage, OrderStatus
from .provider import ParsedItem, ParsedOrder, Provider, UpdateRules

__all__ = ["Operations"]

# Update failures that say nothing about the order's state: no settling fetch.
_NOT_SETTLED = (AuthenticationError, OrderNotFoundError, RateLimitedError)
# Methods that change nothing on the server, so any attempt may be repeated.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@attrs.define
class Operations:
    """The logic of every client call, shared by :class:`Client` and :class:`AsyncClient`."""

    providers: Mapping[str, Provider]
    mappers: Mapping[str, StatusMapper]
    exchange: Exchange
    strict: bool = False

    def provider(self, name: str) -> Provider:
        """The configured provider ``name``, or UnknownProviderError."""
        try:
            return self.providers[name]
        except (KeyError, TypeError):
            configured = ", ".join(sorted(self.providers)) or "none"
            raise UnknownProviderError(
                f"provider {name!r} is not configured (configured: {configured})"
            ) from None

    # -- reading ----------------------------------------------------------------------------

    def fetch(self, name: str, order_id: str, strict: bool | None = None,
              budget: Budget | None = None) -> Op[OrderStatus]:
        """Fetch one order; it is observed when the request that got its answer was sent."""
        provider = self.provider(name)
        oid = provider.check_order_id(order_id)
        answer = yield from self.exchange.run(
            provider, provider.build_fetch(oid), order_id=oid, safe=True,
            read=lambda response: provider.parse_fetch(oid, response), budget=budget,
        )
        return self.mappers[name].to_status(
            answer.value, strict=self._strict(strict), observed_at=answer.sent_at
        )

    def webhook(
        self, name: str, body: bytes | str, headers: Mapping[str, str] | None,
        query: Mapping[str, str] | str | None, strict: bool | None = None,
    ) -> Op[OrderStatus]:
        """Take the order id from a notification and fetch the order's real status."""
        order_id = self.webhook_order_id(name, body, headers, query)
        return (yield from self.fetch(name, order_id, strict=strict))

    def webhook_order_id(
        self, name: str, body: bytes | str, headers: Mapping[str, str] | None,
        query: Mapping[str, str] | str | None,
    ) -> str:
        """The checked order id of a notification, or InvalidWebhookError (no request)."""
        _check_type("body", body, (bytes, bytearray, memoryview, str), "bytes or text")
        _check_type("headers", headers, (Mapping, type(None)), "a mapping")
        _check_type("query", query, (Mapping, str, type(None)), "a mapping or a query string")
        provider = self.provider(name)
        if not provider.capabilities.webhook:
            raise InvalidWebhookError(f"{provider.title} sends no webhooks", provider=name)
        raw = body.encode() if isinstance(body, str) else bytes(body)
        try:
            # latin-1, as HTTP carries header bytes; anything it cannot hold is malformed
            order_id = provider.parse_webhook(
                raw, httpx.Headers(headers or {}, encoding="latin-1"),
                httpx.QueryParams(query or ""),
            )
        except OrderStatusError:
            raise
        except Exception as err:  # hostile input must never escape as a foreign error
            raise InvalidWebhookError(
                f"webhook could not be parsed ({type(err).__name__})", provider=name
            ) from None
        try:
            return provider.check_order_id(order_id)
        except InvalidOrderIdError as err:
            raise InvalidWebhookError(
                f"webhook carries an unusable order id: {err.detail}", provider=name
            ) from None

    def feed(self, name: str, since: str | None, strict: bool | None = None) -> Op[FeedPage]:
        """Read one page of a provider's change feed; every entry is observed when the page's
        request was sent."""
        provider = self.provider(name)
        if not provider.capabilities.feed:
            raise FeedNotSupportedError(f"{provider.title} has no change feed", provider=name)
        answer = yield from self.exchange.run(
            provider, provider.build_feed(since), order_id=None, safe=True,
            read=lambda response: provider.parse_feed(since, response),
        )
        orders, cursor = answer.value
        mapper, strict = self.mappers[name], self._strict(strict)
        statuses = tuple(
            mapper.to_status(o, strict=strict, observed_at=answer.sent_at, partial=True)
            for o in orders
        )
        return FeedPage(name, statuses, cursor)

    def send(
        self, name: str, request: httpx.Request, *, order_id: str | None = None
    ) -> Op[httpx.Response]:
        """Send a request built by provider ``name``; return its 2xx answer or raise its error.

        GET, HEAD and OPTIONS are retried like fetches; other methods only when the request
        never left (or on 429), and a lost answer raises OutcomeUnknownError.
        """
        provider = self.provider(name)
        try:
            answer = yield from self.exchange.run(
                provider, request, order_id=order_id, safe=request.method in _SAFE_METHODS,
                read=lambda response: response,
            )
        except SentButLost as lost:
            raise OutcomeUnknownError(
                f"{request.method} was sent but its answer was lost ({lost.error.detail})",
                provider=name, order_id=order_id,
            ) from None
        return answer.value

    # -- updating ---------------------------------------------------------------------------

    def update(
        self, name: str, order_id: str, target: OrderState | str, *,
        current: OrderStatus | None, confirm: bool, strict: bool | None = None,
        dry_run: bool = False,
    ) -> Op[OrderStatus]:
        """Move an order to ``target`` under the provider's rules.

        With ``dry_run`` the rules are checked (after a fetch, unless ``current`` is given) and
        the current status is returned without sending the update. Every request of the call
        (fetches, the update, the settling fetch) shares one total budget.
        """
        _check_type("current", current, (OrderStatus, type(None)), "an OrderStatus")
        budget = self.exchange.budget()
        provider = self.provider(name)
        oid = provider.check_order_id(order_id)
        rules = provider.update_rules_in_force()
        if rules is None:
            raise UpdateNotSupportedError(
                f"{provider.title} has no status update", provider=name, order_id=oid
            )
        goal = _state(target, provider=name, order_id=oid, allowed=rules.targets)
        if rules.decide(goal).native_target is None:
            raise TransitionNotAllowedError(
                f"{provider.title} cannot set orders to {goal}; targets: "
                f"{', '.join(sorted(s.value for s in rules.targets))}",
                provider=name, order_id=oid, target=goal.value,
                allowed=sorted(s.value for s in rules.targets),
            )
        if current is None:
            current = yield from self.fetch(name, oid, strict=False, budget=budget)
        elif (current.provider, current.order_id) != (name, oid):
            raise TransitionNotAllowedError(
                f"the status passed as current is of {current.provider} order "
                f"{current.order_id!r}", provider=name, order_id=oid,
            )
        verdict = rules.decide(goal, current.native_statuses, key=provider.native_key)
        native_target = verdict.native_target
        assert native_target is not None
        if verdict.reached:
            return current
        if verdict.blocking:
            raise TransitionNotAllowedError(
                f"cannot move from {current.state} to {goal} ({native_target}): items in "
                f"{', '.join(verdict.blocking)}; updates need every item in "
                f"{', '.join(sorted(rules.sources))}",
                provider=name, order_id=oid, current=current.state.value, target=goal.value,
                allowed=sorted(rules.sources), blocking=verdict.blocking,
            )
        if dry_run:
            return current
        try:
            answer = yield from self.exchange.run(
                provider, provider.build_update(oid, native_target), order_id=oid, safe=False,
                read=lambda response: provider.parse_update(oid, response), budget=budget,
            )
        except ProviderError as failure:
            if isinstance(failure, _NOT_SETTLED):
                raise
            # refused (a 409 may mean "already there"), or an answer that may hide an applied
            # update: the order decides
            fresh = yield from self.settle(provider, rules, oid, goal, budget)
            if fresh is not None:
                return fresh
            raise failure from None
        except SentButLost as lost:
            fresh = yield from self.settle(provider, rules, oid, goal, budget)
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
            return self.mappers[name].to_status(told, observed_at=answer.sent_at)
        return (yield from self.fetch(name, oid, strict=strict, budget=budget))

    def settle(
        self, provider: Provider, rules: UpdateRules, order_id: str, goal: OrderState,
        budget: Budget | None = None,
    ) -> Op[OrderStatus | None]:
        """A fresh status if it already shows ``goal``; else (or on errors) ``None``."""
        try:
            fresh = yield from self.fetch(provider.name, order_id, strict=False, budget=budget)
        except OrderStatusError:
            return None
        verdict = rules.decide(goal, fresh.native_statuses, key=provider.native_key)
        return fresh if verdict.reached else None

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


def _check_type(name: str, value: object, types: tuple[type, ...], expected: str) -> None:
    if not isinstance(value, types):
        raise InvalidArgumentError(f"{name} must be {expected}, not {type(value).__name__}")


def checked_refs(refs: Iterable[object]) -> Iterable[tuple[str, str]]:
    """``refs`` of a ``fetch_many``, each a ``(provider, order_id)`` pair, or
    :class:`InvalidArgumentError`: for a collection before any of them is fetched, for any
    other iterable (read as it is fetched, maybe endless) as each is taken."""
    if isinstance(refs, (str, bytes)) or not isinstance(refs, Iterable):
        raise InvalidArgumentError(
            f"refs must be an iterable of (provider, order_id) pairs, not {type(refs).__name__}")
    if isinstance(refs, Collection):
        return [_checked_ref(ref) for ref in refs]
    return map(_checked_ref, refs)


def _checked_ref(ref: object) -> tuple[str, str]:
    if isinstance(ref, (tuple, list)) and len(ref) == 2:
        return ref[0], ref[1]  # their types are the fetch's to check: a failure of that order
    raise InvalidArgumentError(
        f"each reference must be a (provider, order_id) pair, not {_shown(ref)}")


def _shown(value: object) -> str:
    """A caller's value in a message: short, and only its shape when it may hold anything."""
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return type(value).__name__
