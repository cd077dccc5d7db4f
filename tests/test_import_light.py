"""``import orderstatus`` loads only what every program needs."""

from __future__ import annotations

import subprocess
import sys

DEFERRED = ("asyncio", "concurrent.futures", "cattrs", "importlib.metadata",
            "sqlite3", "hypothesis", "uvicorn", "pytest", "psycopg", "psycopg_pool")


def printed(code: str) -> list[str]:
    """The lines ``code`` prints in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split("\n")


def test_import_leaves_heavy_modules_unloaded() -> None:
    code = (
        "import sys, orderstatus\n"
        f"print(','.join(m for m in {DEFERRED!r} if m in sys.modules))"
    )
    assert printed(code)[0] == ""


def test_a_first_client_loads_no_test_code() -> None:
    """Plugins register their sandboxes by import path: production never imports test code."""
    code = (
        "import sys, orderstatus\n"
        "orderstatus.Client()\n"
        "test_code = [m for m in sys.modules if m == 'orderstatus.testing'\n"
        "             or m.startswith('orderstatus.testing.') or m.split('.')[-1] == 'sandbox'\n"
        "             or m in ('hypothesis', 'pytest')]\n"
        "print(' '.join(orderstatus.default_registry().names))\n"
        "print(' '.join(sorted(test_code)))\n"
    )
    providers, loaded = printed(code)[:2]
    assert {"fakeshop", "gooten", "printapi"} <= set(providers.split())  # plugins did load
    assert loaded == ""


def test_a_tracker_in_memory_loads_no_other_store() -> None:
    """A ``Tracker()`` (a property test's first example makes one) imports only the memory
    store: neither sqlite3 nor the PostgreSQL store is compiled and imported on its way."""
    code = (
        "import sys, orderstatus\n"
        "orderstatus.Tracker()\n"
        "print(','.join(m for m in ('sqlite3', 'psycopg', 'orderstatus.stores.sqlite',\n"
        "                           'orderstatus.stores.postgres') if m in sys.modules))\n"
        "from orderstatus.stores import SQLiteStore, PostgresStore, open_store\n"
        "print(SQLiteStore.__module__, PostgresStore.__module__, open_store.__module__)\n"
    )
    loaded, modules = printed(code)[:2]
    assert loaded == ""
    assert modules == ("orderstatus.stores.sqlite orderstatus.stores.postgres"
                       " orderstatus.stores.url")
