"""Serve a fakeshop sandbox holding N orders on loopback, in its own process.

``python -m benchmarks._server N`` prints the sandbox's base URL and the first order id, then
serves until its standard input closes. A separate process keeps the server off the
benchmark's interpreter lock, so the client side is what gets measured.
"""

from __future__ import annotations

import sys

import httpx
from orderstatus_fakeshop import FakeshopSandbox

from orderstatus.testing.asgi import asgi_app, serve


def main() -> None:
    sandbox = FakeshopSandbox()
    for _ in range(int(sys.argv[1])):
        sandbox.create_order(items=2)
    sandbox.requests = _Discard()

    async def handle(request: httpx.Request) -> httpx.Response:
        return sandbox.handle(request)  # no fault is injected, so nothing here blocks

    with serve(asgi_app(handle)) as url:
        print(url + "v1/", flush=True)
        sys.stdin.read()


class _Discard(list[tuple[str, str]]):
    """A request log that keeps nothing (a long benchmark would fill memory)."""

    def append(self, item: tuple[str, str]) -> None:
        return


if __name__ == "__main__":
    main()
