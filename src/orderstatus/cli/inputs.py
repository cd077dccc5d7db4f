"""What the command reads: provider settings, the store, and order references."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import CommandError

if TYPE_CHECKING:
    from orderstatus.client import AsyncClient, Client, OrderRef
    from orderstatus.models import Secret
    from orderstatus.tracking import Tracker

__all__ = [
    "load_config",
    "make_client",
    "make_tracker",
    "parse_ref",
    "read_refs",
    "require",
    "store_url",
]


# -- configuration ----------------------------------------------------------------------------


def load_config(path: str) -> dict[str, Any]:
    """Provider settings from a JSON or TOML file: ``{provider: {field: value}}``."""
    from orderstatus.errors import ConfigurationError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigurationError(f"cannot read config file {path!r}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"config file {path!r} is not utf-8 text") from None
    try:
        data = _toml_loads(text) if path.endswith(".toml") else json.loads(text)
    except ValueError as err:
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConfigurationError(f"config file {path!r} is not valid: {detail}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ConfigurationError(
            f"config file {path!r} must map provider names to settings tables"
        )
    return data


def _toml_loads(text: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    import importlib

    try:
        tomli = importlib.import_module("tomli")
    except ImportError:
        from orderstatus.errors import ConfigurationError

        raise ConfigurationError(
            "toml config files need python 3.11+ or `pip install tomli`; use json"
        ) from None
    return tomli.loads(text)


def make_client(args: argparse.Namespace, *, asynchronous: bool = False) -> Any:
    """A Client (or AsyncClient) from ``--config`` or the environment."""
    from orderstatus.client import AsyncClient, Client

    cls = AsyncClient if asynchronous else Client
    if getattr(args, "config", None):
        return cls(load_config(args.config))
    return cls.from_env()


def require(client: Client | AsyncClient, providers: Iterable[str] = ()) -> None:
    """Refuse to go on when a needed provider (or any, without names) is not configured."""
    import attrs

    from orderstatus.errors import ConfigurationError
    from orderstatus.settings import env_names

    wanted = sorted(set(providers))
    if not wanted and not client.providers:
        raise ConfigurationError(
            "no provider is configured: set ORDERSTATUS_<PROVIDER>_* variables or pass --config"
        )
    for name in wanted:
        if name in client.providers:
            continue
        cls = client.registry.provider(name)  # UnknownProviderError when not installed
        names = env_names(name, cls.settings_class)
        needed = [names[f.name] for f in attrs.fields(cls.settings_class)
                  if f.default is attrs.NOTHING] or list(names.values())
        raise ConfigurationError(
            f"{name} is not configured: set {', '.join(needed)} or pass --config"
        )


def store_url(args: argparse.Namespace) -> str | Path | Secret:
    """``--store``, else ``$ORDERSTATUS_STORE``, else the file in the user's data directory:
    a URL (:func:`~orderstatus.open_store`) or a path, kept as a secret (it may hold a
    password)."""
    from orderstatus.models import Secret
    from orderstatus.stores import default_store_path

    given = getattr(args, "store", None) or Secret(os.environ.get("ORDERSTATUS_STORE", ""))
    return given if given else default_store_path()


def make_tracker(args: argparse.Namespace, **options: Any) -> Tracker:
    """A tracker on the store :func:`store_url` names."""
    from orderstatus.stores import open_store
    from orderstatus.tracking import Tracker

    return Tracker(open_store(store_url(args)), **options)


# -- order references -------------------------------------------------------------------------


def parse_ref(text: str) -> OrderRef:
    """``provider:order_id`` -> ``(provider, order_id)``."""
    provider, sep, order_id = text.strip().partition(":")
    if not sep or not provider or not order_id:
        raise CommandError(f"invalid order reference {text!r}: expected provider:order_id")
    return provider, order_id


_POLL = 0.05
"""Seconds a read of a pipe or terminal waits at most before the interpreter runs again."""


def _read_source(source: str) -> str:
    try:
        if source == "-":
            return _read_stdin()
        with Path(source).open("rb") as file:
            return _read_all(file).decode("utf-8")
    except OSError as err:
        raise CommandError(f"cannot read {source!r}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"cannot read {source!r}: not utf-8 text") from None


def _read_stdin() -> str:
    import io

    try:
        sys.stdin.fileno()
    except (AttributeError, io.UnsupportedOperation):  # a text buffer (tests, embedding)
        return sys.stdin.read()
    return _read_all(sys.stdin.buffer).decode("utf-8")


def _read_all(file: Any) -> bytes:
    """Everything ``file`` holds, read so that Ctrl-C stops the wait for a pipe at once.

    Python runs a signal's handler between bytecodes. A signal landing after the last check
    and before a blocking ``read(2)`` of a pipe, a FIFO or a terminal is not acted on until the
    read returns, which may be never (a writer holding the pipe open). So such a source is
    waited on in slices of :data:`_POLL` seconds (``select``), each returning to the
    interpreter; a regular file (or a platform without ``select`` on files) is read at once.
    """
    import os
    import select
    import stat

    fd = file.fileno()
    if stat.S_ISREG(os.fstat(fd).st_mode):
        return bytes(file.read())
    chunks: list[bytes] = []
    while True:
        try:
            ready, _, _ = select.select([fd], [], [], _POLL)
        except (OSError, ValueError):  # e.g. Windows: select takes sockets only
            return bytes(file.read())
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def read_refs(source: str) -> list[OrderRef]:
    """References from a file (``-``: stdin): CSV with provider,order_id columns, or lines."""
    import csv

    lines = [
        line for line in _read_source(source).splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        return []
    if "," not in lines[0]:
        return [parse_ref(line) for line in lines]
    reader = csv.DictReader(lines)
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or ()}
    if "provider" not in fields or "order_id" not in fields:
        raise CommandError(f"{source}: a csv file needs provider and order_id columns")
    refs = []
    for number, row in enumerate(reader, start=2):
        provider = (row.get(fields["provider"]) or "").strip()
        order_id = (row.get(fields["order_id"]) or "").strip()
        if not provider or not order_id:
            raise CommandError(f"{source}: line {number} lacks a provider or an order id")
        refs.append((provider, order_id))
    return refs
