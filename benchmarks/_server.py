"""Serve a provider's sandbox holding N orders on loopback, in its own process.

``python -m benchmarks._server PROVIDER N`` prints one JSON line (the client settings for the
served sandbox and the orders' ids), then serves until its standard input closes. A separate
process keeps the server off the benchmark's interpreter lock and its CPU clock, so the client
side is what gets measured. :func:`served` runs it from a benchmark.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from ._common import ROOT


@contextlib.contextmanager
def served(provider: str, orders: int, *, runner: Sequence[str] = ("-m", "benchmarks._server")
           ) -> Iterator[dict[str, Any]]:
    """``{"settings": …, "ids": […]}`` of a sandbox served by a child process: ``python
    RUNNER… PROVIDER N`` (by default this module's, or a benchmark's own server)."""
    child = subprocess.Popen(
        [sys.executable, *runner, provider, str(orders)], cwd=ROOT,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line:
            raise RuntimeError("the benchmark server did not start")
        yield json.loads(line)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


def main() -> None:
    import httpx

    from orderstatus.testing.asgi import asgi_app, serve

    from ._common import sandbox

    box = sandbox(sys.argv[1], int(sys.argv[2]))

    async def handle(request: httpx.Request) -> httpx.Response:
        return box.handle(request)  # no fault is injected, so nothing here blocks

    with serve(asgi_app(handle)) as url:
        print(json.dumps({"settings": box.settings(url), "ids": box.ids}), flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
