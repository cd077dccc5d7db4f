"""The site, served by a real WSGI server on loopback, pointed at served sandboxes."""

from __future__ import annotations

import os
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
from orderstatus.testing.wsgi import serve


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
    with override_settings(ORDERSTATUS_STORE=str(store)), serve(application) as url:
        try:
            yield url
        finally:
            orders.close()


@pytest.fixture
def recorded(store: Path) -> Iterator[Tracker]:
    """What the site stored, read as another process would."""
    with Tracker(SQLiteStore(store)) as tracker:
        yield tracker
