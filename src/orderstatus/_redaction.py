"""Keep credentials out of every error, repr, URL and log record."""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import unquote_plus

__all__ = ["Redactor", "guard_loggers"]

MASK = "***"
_MIN_SECRET_LENGTH = 4
_GUARDED_LOGGERS = (
    "httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2",
    "httpcore.proxy", "httpcore.socks", "orderstatus", "orderstatus.tracking",
    "orderstatus.watch", "orderstatus.webhooks",
)
_GUARDED_ROOTS = frozenset({"httpx", "httpcore", "orderstatus"})
"""A logger's filters only see its own records, not its children's: every existing logger
under these names is guarded too (plugins' ``orderstatus.<name>`` loggers among them)."""


class Redactor:
    """Replaces known secrets with ``***`` in any spelling a URL, form or JSON text gives them.

    Each character of a secret may appear as itself (in any letter case), percent-encoded
    (hex digits in either case, encoded again any number of times: ``%252F``), a blank as
    ``+``, or JSON-escaped (``\\u002f``, ``\\/``): so a secret echoed raw, encoded, partly
    decoded or double-encoded is masked all the same.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Learn more secrets."""
        known = self._secrets | {s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}
        if known == self._secrets:
            return
        spellings = {form for secret in known for form in (secret, unquote_plus(secret))}
        pattern = "|".join(_spelled(s) for s in sorted(spellings, key=len, reverse=True))
        with self._lock:
            self._secrets = frozenset(known)
            self._pattern = re.compile(pattern, re.IGNORECASE)

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None else pattern.sub(MASK, text)


def _spelled(secret: str) -> str:
    """A pattern matching ``secret`` in every spelling :class:`Redactor` knows."""
    return "".join(_char(c) for c in secret)


@functools.lru_cache(maxsize=1024)
def _char(char: str) -> str:
    encoded = "".join(f"%(?:25)*{b:02X}" for b in char.encode("utf-8", "surrogatepass"))
    # the escaped forms come first: alternatives are tried in order, and a secret's last
    # character must take all of "%25", not stop at its "%" (leaving "25" unmasked)
    forms = [encoded]
    if char == " ":
        forms.append(r"\+")
    escaped = json.dumps(char)[1:-1]  # \" \\ \n, or \uXXXX (a surrogate pair beyond the BMP)
    if escaped != char:
        forms.append(re.escape(escaped))
    if ord(char) < 0x10000:
        forms.append(rf"\\u{ord(char):04X}")  # JSON may escape any character
    if char == "/":
        forms.append(r"\\/")
    # re's case-insensitive match compares one character with one: "ß" is "SS" in capitals
    forms.extend(re.escape(c) for c in (char, char.upper(), char.lower(), char.casefold()))
    return "(?:" + "|".join(dict.fromkeys(forms)) + ")"


class _RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redactor(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # handlers print exc_text when it is set: give them the traceback, scrubbed
            record.exc_text = self.redactor(_FORMATTER.formatException(record.exc_info))
        return True


_FORMATTER = logging.Formatter()


_GLOBAL = Redactor()
_FILTER = _RedactingFilter(_GLOBAL)


def guard_loggers(secrets: Iterable[str]) -> None:
    """Scrub ``secrets`` from every record of httpx, httpcore and orderstatus loggers.

    Loggers under those names that are created later are guarded by the next call.
    """
    _GLOBAL.add(secrets)
    known = list(logging.root.manager.loggerDict)
    existing = [n for n in known if n.split(".")[0] in _GUARDED_ROOTS]
    for name in {*_GUARDED_LOGGERS, *existing}:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
