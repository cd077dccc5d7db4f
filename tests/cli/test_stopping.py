"""``cli.stopping`` in this process: the first signal stops, the ones after are ignored."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator

import pytest

from orderstatus.cli.stopping import Stop, run


@pytest.fixture(autouse=True)
def restore_signals() -> Iterator[None]:
    """Give the test process its own handlers back, whatever a test left."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_the_first_signal_interrupts_and_the_next_ones_are_ignored() -> None:
    with Stop(signal.SIGINT, signal.SIGTERM) as stop:
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGTERM)
        assert stop.received == signal.SIGTERM
        signal.raise_signal(signal.SIGINT)  # stopping already: nothing happens
        signal.raise_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # and until the process exits


def test_handlers_are_given_back_when_no_signal_came() -> None:
    before = signal.getsignal(signal.SIGINT)
    with Stop(signal.SIGINT) as stop:
        stop.take(signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN)
    assert signal.getsignal(signal.SIGINT) is before
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_signal_ignored_from_the_start_stays_ignored() -> None:
    """As a shell script's background commands have SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with Stop(signal.SIGINT):
        signal.raise_signal(signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_in_an_event_loop_the_signal_cancels_the_work_in_flight() -> None:
    unwound: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, signal.raise_signal, signal.SIGINT)
        try:
            await asyncio.sleep(60)  # a request that never gets its answer
        except asyncio.CancelledError:
            unwound.append("cancelled")
            await asyncio.sleep(0)  # clean-up may still await
            signal.raise_signal(signal.SIGINT)  # a second Ctrl-C while cleaning up
            unwound.append("cleaned up")
            raise

    with Stop(signal.SIGINT), pytest.raises(KeyboardInterrupt):
        run(main)
    assert unwound == ["cancelled", "cleaned up"]


def test_run_without_a_stop_is_asyncio_run() -> None:
    async def main() -> int:
        return 7

    assert run(main) == 7


@pytest.mark.parametrize("moment", ["new_event_loop", "shutdown_default_executor"])
def test_a_signal_while_the_loop_is_set_up_or_torn_down_stops_without_a_traceback(
    moment: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The loop is never interrupted half built (it would fail again when collected)."""
    started: list[str] = []
    if moment == "new_event_loop":
        real_new = asyncio.events.new_event_loop

        def new_loop() -> asyncio.AbstractEventLoop:
            signal.raise_signal(signal.SIGINT)
            return real_new()

        monkeypatch.setattr(asyncio.events, "new_event_loop", new_loop)
    else:
        real_shutdown = asyncio.BaseEventLoop.shutdown_default_executor

        async def shutdown(loop: asyncio.BaseEventLoop, *args: object) -> None:
            signal.raise_signal(signal.SIGINT)
            await real_shutdown(loop, *args)

        monkeypatch.setattr(asyncio.BaseEventLoop, "shutdown_default_executor", shutdown)

    async def main() -> None:
        started.append("main")

    with Stop(signal.SIGINT) as stop, pytest.raises(KeyboardInterrupt):
        run(main)
    assert stop.received == signal.SIGINT
    assert started == ([] if moment == "new_event_loop" else ["main"])
