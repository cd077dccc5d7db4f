"""The site, served by a real WSGI server on loopback, pointed at served sandboxes."""

from __future__ import annotations

import os
import threading
import wsgiref.simple_server
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Before anything of Django is imported: which settings, and the secret they require.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orders_site.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "only-for-the-tests")

from django.test import override_settings
from orders_site import orders
from orders_site.wsgi import application

from orderstatus import Registry, SQLiteStore, Tracker
from orderstatus.settings import env_names


class _Quiet(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "orders.sqlite3"


@pytest.fixture
def site(
    store: Path, monkeypatch: pytest.MonkeyPatch, orderstatus_registry: Registry,
    orderstatus_served: dict[str, str], orderstatus_sandboxes: dict[str, Any],
) -> Iterator[str]:
    """The site's URL; its client reaches the sandboxes through ``ORDERSTATUS_*`` variables."""
    for name, base_url in orderstatus_served.items():
        settings = orderstatus_sandboxes[name].settings(base_url)
        variables = env_names(name, orderstatus_registry.provider(name).settings_class)
        for field, value in settings.items():
            monkeypatch.setenv(variables[field], str(value))
    server = wsgiref.simple_server.make_server("127.0.0.1", 0, application, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    with override_settings(ORDERSTATUS_STORE=str(store)):
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
            orders.close()


@pytest.fixture
def recorded(store: Path) -> Iterator[Tracker]:
    """What the site stored, read as another process would."""
    with Tracker(SQLiteStore(store)) as tracker:
        yield tracker
