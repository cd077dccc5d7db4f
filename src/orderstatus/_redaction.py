"""Keep credentials out of every error, repr, URL and log record."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

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
    """Replaces known secrets, raw and URL-encoded, with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._forms: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Learn more secrets (and every encoded form a URL or form body may show)."""
        forms = set(self._forms)
        for secret in secrets:
            if len(secret) < _MIN_SECRET_LENGTH:
                continue
            forms.update({secret, quote(secret, safe=""), quote_plus(secret), quote(secret)})
        with self._lock:
            self._forms = tuple(sorted(forms, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text


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
