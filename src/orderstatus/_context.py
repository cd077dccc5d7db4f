"""The context errors are built in: what an error is told about where it happened.

:mod:`orderstatus.errors` reads it when an error is created; the client sets it (see
:mod:`orderstatus._exchange`). Context variables keep it to the current thread or task.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

import attrs

__all__ = ["ErrorContext", "current", "error_context", "unchanged"]


def unchanged(text: str) -> str:
    """Leave ``text`` as it is: the ``clean`` of a context that knows no credentials."""
    return text


@attrs.frozen
class ErrorContext:
    """What every :class:`~orderstatus.OrderStatusError` created within :func:`error_context`
    takes when it is not given it explicitly."""

    provider: str | None = None
    order_id: str | None = None
    url: str | None = None
    """The request's URL, credentials already removed."""
    status_code: int | None = None
    request_id: str | None = None
    clean: Callable[[str], str] = unchanged
    """Applied to every text an error carries (removes the configured credentials)."""


_NOWHERE = ErrorContext()
_CURRENT: contextvars.ContextVar[ErrorContext] = contextvars.ContextVar(
    "orderstatus_error_context", default=_NOWHERE  # frozen: sharing it is safe
)


def current() -> ErrorContext:
    """The context errors created here and now are built in (an empty one outside any)."""
    return _CURRENT.get()


@contextlib.contextmanager
def error_context(context: ErrorContext) -> Iterator[ErrorContext]:
    """Build every error created in the ``with`` block in ``context``.

    Never hold one open across a ``yield``: the code that resumes the generator would run in it.
    """
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)
