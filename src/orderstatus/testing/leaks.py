"""Finding credentials where they must never be: in errors, their messages, URLs and causes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from urllib.parse import quote, quote_plus, unquote

import httpx

__all__ = ["credential_forms", "credential_leaks"]

_MIN_LENGTH = 4


def credential_forms(secret: str) -> dict[str, str]:
    """Every spelling of ``secret`` that a URL, form body or message may show: name -> text.

    Besides the encodings clients produce, the ones a careless or hostile server echoes:
    lower-case hex, every other character encoded, encoded twice, JSON-escaped.
    """
    query = str(httpx.QueryParams({"k": secret}))[2:]
    encoded = quote(secret, safe="")
    forms = {
        "raw": secret,
        "url-encoded": encoded,
        "url-encoded (path)": quote(secret),
        "form-encoded": quote_plus(secret),
        "query-encoded": query,
        "url-encoded (lower-case hex)": re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), encoded),
        "partly url-encoded": "".join(
            quote(c, safe="") if n % 2 else c for n, c in enumerate(secret)),
        "url-encoded twice": quote(encoded, safe=""),
        "json-escaped": "".join(c if c.isalnum() else json.dumps(c)[1:-1] for c in secret),
        "upper-case": secret.upper(),
    }
    return {name: form for name, form in forms.items() if len(form) >= _MIN_LENGTH}


def _decoded(text: str) -> str:
    """``text`` with percent-encoding undone (repeatedly) and JSON escapes read, case-folded:
    where any spelling of a secret shows as the secret itself."""
    for _ in range(4):
        plain = unquote(re.sub(r"\\u[0-9a-fA-F]{4}|\\/", _unescape, text))
        if plain == text:
            break
        text = plain
    return text.casefold()


def _unescape(match: re.Match[str]) -> str:
    return str(json.loads(f'"{match[0]}"'))


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
    """Where ``error`` shows any of ``secrets`` (in any spelling, any letter case), as
    readable descriptions.

    Looks at ``str``, ``repr``, every text attribute (``url``, ``messages``, …) and the
    errors a traceback would print with it. An empty list means no leak. The descriptions
    never contain the secret itself.
    """
    secrets = [s for s in secrets if len(s) >= _MIN_LENGTH]
    forms = [(name, form) for secret in secrets for name, form in credential_forms(secret).items()]
    forms += [("decoded", _decoded(secret)) for secret in secrets]
    found: list[str] = []
    for label, current in _chain(error):
        for where, text in _texts(current):
            folded, plain = text.casefold(), _decoded(text)
            for name, form in forms:
                if (plain if name == "decoded" else folded).find(form.casefold()) >= 0:
                    kind = type(current).__name__
                    place = f"{label}{kind} {where}"
                    entry = f"{name} credential in the {place}"
                    if entry not in found:
                        found.append(entry)
    return found
