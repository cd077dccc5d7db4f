"""A sync ``fetch_many`` that stops (Ctrl-C in the caller's thread, or its iteration closed)
ends a wait between attempts in progress at once, instead of sleeping it out in its worker.

Each case has a worker waiting out a ``Retry-After`` of :data:`WAIT` seconds when the call is
stopped, and must be over well before (:data:`BOUND`).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator

import pytest
from orderstatus_fakeshop import FakeshopSandbox

from orderstatus import Client, OrderStatus, RequestEvent, RetryPolicy, RetryScheduled

from .providers import LOCAL

WAIT = 30.0
"""The ``Retry-After`` the sandbox asks for: the wait a worker is in when the call stops."""
BOUND = 5.0
"""Seconds the stop may take: generous, so that a loaded machine passes."""


@pytest.fixture
def waiting() -> threading.Event:
    """Set once a worker has scheduled its retry (and is about to wait :data:`WAIT` s)."""
    return threading.Event()


@pytest.fixture
def client(sandbox: FakeshopSandbox, waiting: threading.Event) -> Iterator[Client]:
    def hook(event: RequestEvent) -> None:
        if isinstance(event, RetryScheduled):
            assert event.wait == WAIT
            waiting.set()

    sandbox.faults.inject("rate_limit", retry_after=WAIT, times=1)  # the first request: 429
    with Client({"fakeshop": sandbox.settings(LOCAL + "v1/")}, transport=sandbox.transport(),
                retry=RetryPolicy(total=2 * WAIT), on_event=hook) as client:
        yield client


def assert_workers_end() -> None:
    """Every worker thread ends promptly (joined by the pool's shutdown, or, when Ctrl-C
    landed while the pool was starting one, on its own)."""
    started = time.monotonic()
    for worker in threading.enumerate():
        if worker.name.startswith("orderstatus"):
            worker.join(BOUND)
            assert not worker.is_alive(), f"{worker.name} still runs"
    assert time.monotonic() - started < BOUND


def test_closing_the_iteration_ends_a_retry_wait_in_progress(
    client: Client, sandbox: FakeshopSandbox, waiting: threading.Event
) -> None:
    refs = [("fakeshop", sandbox.create_order()) for _ in range(2)]
    results = client.fetch_many(refs)
    first = next(results)  # the order not rate limited; the other one's worker waits
    assert isinstance(first, OrderStatus)
    assert waiting.wait(30)
    started = time.monotonic()
    results.close()  # a caller's ``break``
    elapsed = time.monotonic() - started
    assert elapsed < BOUND, f"took {elapsed:.2f} s to stop"
    assert_workers_end()  # no worker sleeps on


def test_ctrl_c_ends_a_retry_wait_in_progress(
    client: Client, sandbox: FakeshopSandbox, waiting: threading.Event
) -> None:
    main = threading.main_thread()
    assert threading.current_thread() is main, "signals reach the main thread only"
    interrupted: list[float] = []

    def ctrl_c() -> None:
        if waiting.wait(30):
            interrupted.append(time.monotonic())
            signal.pthread_kill(main.ident or 0, signal.SIGINT)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupter = threading.Thread(target=ctrl_c)
    try:
        interrupter.start()
        with pytest.raises(KeyboardInterrupt):
            list(client.fetch_many([("fakeshop", sandbox.create_order())]))
        stopped = time.monotonic()
    finally:
        interrupter.join()
        signal.signal(signal.SIGINT, previous)
    [sent] = interrupted
    assert stopped - sent < BOUND, f"took {stopped - sent:.2f} s to stop"
    assert_workers_end()
