"""Stores named by URL: what ``open_store`` and the command's ``--store`` accept."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from orderstatus.errors import ConfigurationError
from orderstatus.models import Secret

if TYPE_CHECKING:
    from .base import Store

__all__ = ["open_store", "store_location"]

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_KEYWORDS = re.compile(r"\s*[A-Za-z_]+\s*=")
"""The start of a libpq ``key=value`` connection string, which is no file name."""
_FORMS = "sqlite:///PATH, postgresql://…, memory: or a file path"


def _scheme(url: Secret) -> str | None:
    """The URL's scheme, lowercased; ``None`` for a plain path (a drive letter included)."""
    found = _SCHEME.match(url.reveal())
    if found is None or len(found.group(1)) == 1:  # C:\orders.sqlite3 is a path
        return None
    return found.group(1).lower()


def open_store(url: str | os.PathLike[str] | Secret) -> Store:
    """The store ``url`` names.

    ``memory:``
        a :class:`~orderstatus.MemoryStore` (this process only, gone at exit);
    ``sqlite:///orders.sqlite3``, ``sqlite:////var/lib/orders.sqlite3``
        a :class:`~orderstatus.SQLiteStore` in that file (three slashes: a relative path,
        four: an absolute one); a plain file path means the same;
    ``postgresql://user:password@host:5432/dbname`` (or ``postgres://``)
        a :class:`~orderstatus.PostgresStore` (the ``postgres`` extra); any libpq URL
        parameter is accepted, and libpq's environment variables and password file apply.

    The URL is kept as a :class:`~orderstatus.Secret` from the start, so a password in it
    appears in no error, repr or traceback.

    Raises:
        ConfigurationError: the URL has another scheme, or the store cannot be opened.
    """
    from .memory import MemoryStore
    from .postgres import PostgresStore
    from .sqlite import SQLiteStore

    if isinstance(url, os.PathLike):
        return SQLiteStore(url)
    secret = Secret(url)
    del url
    scheme = _scheme(secret)
    if scheme is None:
        if _KEYWORDS.match(secret.reveal()):
            raise ConfigurationError(
                "a store url names a postgresql database as postgresql://user@host/dbname, "
                "not as key=value settings (for a file of that name, write sqlite:///NAME)"
            )
        return SQLiteStore(secret.reveal())
    if scheme in ("postgresql", "postgres"):
        return PostgresStore(secret)
    if scheme == "memory":
        if secret.reveal().lower() not in ("memory:", "memory://"):
            raise ConfigurationError("a memory store url is just memory:")
        return MemoryStore()
    if scheme == "sqlite":
        return SQLiteStore(_sqlite_path(secret))
    raise ConfigurationError(f"unknown store url scheme {scheme!r}: use {_FORMS}")


def _sqlite_path(url: Secret) -> Path:
    rest = url.reveal()[len("sqlite:"):]
    if not rest.startswith("///") or len(rest) == 3:
        raise ConfigurationError(
            "a sqlite store url is sqlite:///relative/path or sqlite:////absolute/path"
        )
    return Path(rest[3:])


def store_location(store: Store) -> str:
    """Where ``store`` keeps its data, to show people: a file path, ``memory:``, or a
    ``postgresql://`` URL without its password."""
    from .memory import MemoryStore
    from .sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return str(store.path)
    if isinstance(store, MemoryStore):
        return "memory:"
    location = getattr(store, "location", None)
    return location if isinstance(location, str) else repr(store)
