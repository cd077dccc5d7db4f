"""Every exception an error carries with it, for the suites that search errors for secrets."""

from __future__ import annotations

import traceback
from collections.abc import Iterator

__all__ = ["chained", "texts_of"]


def chained(error: BaseException) -> Iterator[BaseException]:
    """``error`` and every exception chained to it, once each: ``__cause__`` and
    ``__context__``, even those a traceback would not print (an error tracker keeps them)."""
    todo: list[BaseException | None] = [error]
    seen: set[int] = set()
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, current.__context__]


def texts_of(error: BaseException) -> list[str]:
    """Everything an error shows: message, repr, attributes and its formatted traceback, and
    the same for every exception chained to it (``__cause__`` and ``__context__``, even when
    a traceback would not print them)."""
    texts: list[str] = []
    for current in chained(error):
        texts += [str(current), repr(current), repr(vars(current)),
                  "".join(traceback.format_exception(current, chain=False))]
    return texts
