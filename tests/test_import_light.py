"""``import orderstatus`` loads only what every program needs."""

from __future__ import annotations

import subprocess
import sys

DEFERRED = ("asyncio", "concurrent.futures", "cattrs", "importlib.metadata",
            "sqlite3", "hypothesis", "uvicorn", "pytest", "psycopg", "psycopg_pool")


def test_import_leaves_heavy_modules_unloaded() -> None:
    code = (
        "import sys, orderstatus\n"
        f"print(','.join(m for m in {DEFERRED!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


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
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    providers, loaded = done.stdout.split("\n")[:2]
    assert {"fakeshop", "gooten", "printapi"} <= set(providers.split())  # plugins did load
    assert loaded == ""
