"""Serving WSGI apps on loopback in tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from orderstatus.testing.wsgi import serve


def test_an_app_is_served_until_the_block_ends() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("201 Created", [("content-type", "text/plain")])
        return [f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}".encode()]

    with serve(app) as url:
        assert url.startswith("http://127.0.0.1:")
        answer = httpx.post(f"{url}webhooks/x")
        assert (answer.status_code, answer.text) == (201, "POST /webhooks/x")
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)


def test_requests_are_answered_concurrently() -> None:
    """A request may wait on another (a webhook view whose fetch reaches the same server)."""
    second_arrived = threading.Event()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/first":
            assert second_arrived.wait(10), "the second request never got in"
        else:
            second_arrived.set()
        start_response("200 OK", [])
        return [b"ok"]

    with serve(app) as url, ThreadPoolExecutor(2) as pool:
        first = pool.submit(httpx.get, f"{url}first", timeout=15)
        assert httpx.get(f"{url}second").status_code == 200
        assert first.result().status_code == 200
