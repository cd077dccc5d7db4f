"""One exception tree for everything orderstatus raises, and the context errors are built in.

Every message is one lowercase line naming the provider and the order where known. An error is
built complete, once: an error created inside an error context (the client opens one around
every call, and a narrower one around each answer it reads) takes the provider, order id, URL,
status code and request id it was not given from it, with every text already cleaned of the
configured credentials. So a provider raising ``UpdateRejectedError("update refused")`` while
parsing an answer needs to say nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ._context import current, unchanged

__all__ = [
    "AuthenticationError",
    "ConfigurationError",
    "FeedNotSupportedError",
    "InvalidArgumentError",
    "InvalidOrderIdError",
    "InvalidWebhookError",
    "NotSupportedError",
    "OrderNotFoundError",
    "OrderStatusError",
    "OutcomeUnknownError",
    "ProviderError",
    "ProviderUnavailableError",
    "RateLimitedError",
    "ResponseFormatError",
    "TransitionNotAllowedError",
    "UnknownProviderError",
    "UnmappedStatusError",
    "UpdateNotSupportedError",
    "UpdateRejectedError",
    "UsageError",
    "WebhookContentTypeError",
]


class OrderStatusError(Exception):
    """Base of every error orderstatus raises."""

    retryable: bool = False
    """Whether trying the same call again later may succeed."""

    def __init__(
        self, detail: str, *, provider: str | None = None, order_id: str | None = None
    ) -> None:
        context = current()
        self.detail = " ".join(detail.split())
        self.provider = provider or context.provider
        self.order_id = order_id if order_id is not None else context.order_id
        if context.clean is not unchanged:
            self._clean(context.clean)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The one-line message: ``provider order 'id': detail``."""
        where = []
        if self.provider:
            where.append(self.provider)
        if self.order_id is not None:
            where.append(f"order {self.order_id!r}")
        return f"{' '.join(where)}: {self.detail}" if where else self.detail

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    def scrub(self, clean: Callable[[str], str]) -> None:
        """Pass every text this error carries through ``clean`` (used to remove secrets).

        Errors built within a client call are clean already; this is for errors built
        elsewhere. Chained exceptions cannot be cleaned (a JSON error keeps the whole body it
        could not decode), so they are dropped (:meth:`detach`).
        """
        self._clean(clean)
        self.args = (self.message,)
        self.detach()

    def detach(self) -> None:
        """Drop ``__cause__`` and ``__context__``: what they hold was never cleaned."""
        self.__cause__ = self.__context__ = None

    def _clean(self, clean: Callable[[str], str]) -> None:
        for name, value in vars(self).items():
            if isinstance(value, str):
                setattr(self, name, clean(value))
            elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
                setattr(self, name, tuple(clean(v) for v in value))


class ConfigurationError(OrderStatusError):
    """Settings are missing, malformed or unsafe, or a plugin could not be set up."""


class UsageError(OrderStatusError):
    """orderstatus was called the wrong way (a programming mistake); nothing was sent.

    E.g. an :class:`~orderstatus.AsyncClient` used from a second event loop.
    """


class InvalidArgumentError(UsageError, TypeError):
    """A public method got an argument of the wrong type or shape (a reference that is not
    a ``(provider, order_id)`` pair of strings, a webhook body that is not bytes or text);
    raised before any request."""


class UnknownProviderError(ConfigurationError):
    """No installed (or no configured) provider has that name."""


class InvalidOrderIdError(OrderStatusError, ValueError):
    """An order id is empty, too long, or holds characters that could change a URL."""


class InvalidWebhookError(OrderStatusError, ValueError):
    """A webhook notification is malformed: wrong content type, missing or bad order id."""


class WebhookContentTypeError(InvalidWebhookError):
    """A webhook notification has a content type the provider never sends (HTTP 415)."""


class TransitionNotAllowedError(OrderStatusError):
    """The provider's rules forbid this update; no request was sent."""

    def __init__(
        self, detail: str, *, provider: str | None = None, order_id: str | None = None,
        current: str | None = None, target: str | None = None,
        allowed: Iterable[str] = (), blocking: Iterable[str] = (),
    ) -> None:
        self.current = current
        self.target = target
        self.allowed = tuple(allowed)
        """Statuses (or targets) that would have been accepted."""
        self.blocking = tuple(blocking)
        """Item statuses that block the update."""
        super().__init__(detail, provider=provider, order_id=order_id)


class NotSupportedError(OrderStatusError):
    """The provider cannot do this at all; no request was sent."""


class UpdateNotSupportedError(NotSupportedError):
    """The provider has no way to change an order's status; no request was sent."""


class FeedNotSupportedError(NotSupportedError):
    """The provider has no change feed; no request was sent."""


class UnmappedStatusError(OrderStatusError):
    """In strict mode: the provider answered a status with no canonical mapping."""

    def __init__(
        self, detail: str, *, provider: str | None = None, order_id: str | None = None,
        native_status: str | None = None,
    ) -> None:
        self.native_status = native_status
        super().__init__(detail, provider=provider, order_id=order_id)


class OutcomeUnknownError(OrderStatusError):
    """An update was sent but its answer was lost, and a fresh fetch could not settle it."""

    retryable = True


class ProviderError(OrderStatusError):
    """The provider answered with an error, or could not be reached."""

    def __init__(
        self, detail: str, *, provider: str | None = None, order_id: str | None = None,
        status_code: int | None = None, request_id: str | None = None,
        url: str | None = None, retryable: bool | None = None,
    ) -> None:
        context = current()
        self.status_code = status_code if status_code is not None else context.status_code
        """HTTP status of the provider's answer, ``None`` when there was none."""
        self.request_id = (
            request_id if request_id is not None else context.provider_request_id()
        )
        """The provider's request id header, for support tickets."""
        self.url = url if url is not None else context.request_url()
        """The request's URL with every credential removed."""
        if retryable is not None:
            self.retryable = retryable
        super().__init__(detail, provider=provider, order_id=order_id)


class AuthenticationError(ProviderError):
    """The provider refused the credentials."""


class OrderNotFoundError(ProviderError):
    """The provider does not know this order id."""


class RateLimitedError(ProviderError):
    """The provider kept answering 429 until the retry budget ran out."""

    retryable = True

    def __init__(self, detail: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        """Seconds the provider asked to wait, or ``None`` when it did not say."""
        super().__init__(detail, **kwargs)


class ProviderUnavailableError(ProviderError):
    """Server errors, timeouts or connection failures outlasted the retry budget."""

    retryable = True


class UpdateRejectedError(ProviderError):
    """The provider refused an update that its documented rules allowed."""

    def __init__(
        self, detail: str, *, messages: Iterable[str] = (), reference: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.messages = tuple(messages)
        """The provider's own error messages."""
        self.reference = reference
        """The provider's error reference code, for support tickets."""
        super().__init__(detail, **kwargs)


class ResponseFormatError(ProviderError):
    """The provider's answer could not be parsed into a status."""
