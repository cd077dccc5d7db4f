"""``-v``, before or after the command: each request and each retry on stderr, no credential."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from urllib.parse import quote_plus

import pytest
from orderstatus_fakeshop import API_KEY, FakeshopSandbox

from .conftest import Invoke, run
from .test_fetch import _Terminal


@pytest.mark.parametrize("where", ["after", "before"])
def test_fetch_v_shows_each_request_and_retry(
    env: dict[str, str], sandbox: FakeshopSandbox, served: str, where: str
) -> None:
    order = sandbox.create_order()
    sandbox.faults.inject("rate_limit", retry_after=0, times=1)  # retried at once
    args = ("fetch", "-v", f"fakeshop:{order}") if where == "after" else (
        "-v", "fetch", f"fakeshop:{order}")
    done = run(*args, env=env)
    assert done.returncode == 0, done.stderr
    url = re.escape(f"{served}v1/orders/{order}")
    lines = done.stderr.splitlines()
    assert len(lines) == 3, done.stderr
    assert re.fullmatch(
        rf"orderstatus: DEBUG: fakeshop GET {url} \(attempt 1\): 429 in \d+\.\d ms", lines[0])
    assert re.fullmatch(
        rf"orderstatus: INFO: fakeshop GET {url} \(attempt 1\) failed: provider answered 429 "
        r"too many requests: rate limited; retrying in 0\.00 s", lines[1])
    assert re.fullmatch(
        rf"orderstatus: DEBUG: fakeshop GET {url} \(attempt 2\): 200 in \d+\.\d ms", lines[2])
    assert API_KEY not in done.stderr and quote_plus(API_KEY) not in done.stderr


def test_fetch_without_v_logs_nothing(env: dict[str, str], sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    sandbox.faults.inject("rate_limit", retry_after=0, times=1)
    done = run("fetch", f"fakeshop:{order}", env=env)
    assert done.returncode == 0
    assert done.stderr == ""


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """``main`` run in this process sets the loggers up: put them back afterwards."""
    library, root = logging.getLogger("orderstatus"), logging.getLogger()
    level, handlers, root_level = library.level, list(root.handlers), root.level
    yield
    library.setLevel(level)
    root.handlers[:] = handlers
    root.setLevel(root_level)


@pytest.mark.usefixtures("restored_logging")
def test_no_progress_bar_with_v(
    invoke: Invoke, sandbox: FakeshopSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = sandbox.create_order()
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    done = invoke("fetch", "-v", *[f"fakeshop:{order}"] * 21)
    assert done.returncode == 0
    assert "21/21" not in terminal.getvalue()  # without -v it is shown (test_fetch.py)
