"""The context errors are built in: what an error is told about where it happened.

:mod:`orderstatus.errors` reads it when an error is created; the client sets it (see
:mod:`orderstatus._exchange`). Context variables keep it to the current thread or task.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from types import TracebackType
from typing import NamedTuple

__all__ = ["ErrorContext", "current", "error_context", "unchanged"]


def unchanged(text: str) -> str:
    """Leave ``text`` as it is: the ``clean`` of a context that knows no credentials."""
    return text


class ErrorContext(NamedTuple):
    """What every :class:`~orderstatus.OrderStatusError` created within :func:`error_context`
    takes when it is not given it explicitly.

    ``url`` and ``request_id`` may be given as functions, called only when an error needs them:
    most requests never fail, and working them out for every answer would cost every call.
    (A named tuple: one is made for every answer.)
    """

    provider: str | None = None
    order_id: str | None = None
    url: str | Callable[[], str | None] | None = None
    """The request's URL with credentials removed."""
    status_code: int | None = None
    request_id: str | Callable[[], str | None] | None = None
    """The provider's request id header."""
    clean: Callable[[str], str] = unchanged
    """Applied to every text an error carries (removes the configured credentials)."""

    def request_url(self) -> str | None:
        """The request's URL, credentials removed."""
        return self.url() if callable(self.url) else self.url

    def provider_request_id(self) -> str | None:
        """The provider's request id, if its answer carried one."""
        return self.request_id() if callable(self.request_id) else self.request_id


_NOWHERE = ErrorContext()
_CURRENT: contextvars.ContextVar[ErrorContext] = contextvars.ContextVar(
    "orderstatus_error_context", default=_NOWHERE  # frozen: sharing it is safe
)


def current() -> ErrorContext:
    """The context errors created here and now are built in (an empty one outside any)."""
    return _CURRENT.get()


class error_context:
    """Build every error created in the ``with`` block in ``context``.

    Never hold one open across a ``yield``: the code that resumes the generator would run in it.
    Named like a function, as ``contextlib.suppress`` is: a class only because every request
    enters a few, and a generator-based context manager costs several times more.
    """

    __slots__ = ("_context", "_token")

    def __init__(self, context: ErrorContext) -> None:
        self._context = context

    def __enter__(self) -> ErrorContext:
        self._token = _CURRENT.set(self._context)
        return self._context

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        _CURRENT.reset(self._token)
