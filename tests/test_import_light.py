"""``import orderstatus`` loads only what every program needs."""

from __future__ import annotations

import subprocess
import sys

DEFERRED = ("asyncio", "concurrent.futures", "cattrs", "importlib.metadata",
            "sqlite3", "hypothesis", "uvicorn", "pytest")


def test_import_leaves_heavy_modules_unloaded() -> None:
    code = (
        "import sys, orderstatus\n"
        f"print(','.join(m for m in {DEFERRED!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
