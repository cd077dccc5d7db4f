"""Finding credentials where they must never be: in errors, their messages, URLs and causes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import quote, quote_plus

import httpx

__all__ = ["credential_forms", "credential_leaks"]

_MIN_LENGTH = 4


def credential_forms(secret: str) -> dict[str, str]:
    """Every spelling of ``secret`` that a URL, form body or message may show: name -> text."""
    query = str(httpx.QueryParams({"k": secret}))[2:]
    forms = {
        "raw": secret,
        "url-encoded": quote(secret, safe=""),
        "url-encoded (path)": quote(secret),
        "form-encoded": quote_plus(secret),
        "query-encoded": query,
    }
    return {name: form for name, form in forms.items() if len(form) >= _MIN_LENGTH}


def _texts(error: BaseException) -> Iterator[tuple[str, str]]:
    yield "str", str(error)
    yield "repr", repr(error)
    for name, value in sorted(vars(error).items()):
        if isinstance(value, str):
            yield f".{name}", value
        elif isinstance(value, (tuple, list)):
            yield from ((f".{name}", v) for v in value if isinstance(v, str))
    yield from ((".args", a) for a in error.args if isinstance(a, str))


def _chain(error: BaseException) -> Iterator[tuple[str, BaseException]]:
    """The error and every error a traceback of it would print."""
    seen: set[int] = set()
    label, current = "", error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield label, current
        if current.__cause__ is not None:
            label, current = f"{label}cause ", current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            label, current = f"{label}context ", current.__context__
        else:
            break


def credential_leaks(error: BaseException, secrets: Iterable[str]) -> list[str]:
    """Where ``error`` shows any of ``secrets`` (raw or encoded), as readable descriptions.

    Looks at ``str``, ``repr``, every text attribute (``url``, ``messages``, …) and the
    errors a traceback would print with it. An empty list means no leak. The descriptions
    never contain the secret itself.
    """
    forms = [(name, form) for secret in secrets for name, form in credential_forms(secret).items()]
    found: list[str] = []
    for label, current in _chain(error):
        for where, text in _texts(current):
            for name, form in forms:
                if form in text:
                    kind = type(current).__name__
                    place = f"{label}{kind} {where}"
                    entry = f"{name} credential in the {place}"
                    if entry not in found:
                        found.append(entry)
    return found
