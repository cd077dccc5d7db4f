"""How a command stops on a signal: promptly, cancelling what is in flight, with one exit code.

Ctrl-C (SIGINT) stops every command; SIGTERM too stops the serving ones (``watch``, ``serve``,
``sandbox``). While a command runs, :class:`Stop` holds those signals. The first one stops it:
a command running an event loop through :func:`run` has its main task cancelled, so requests
in flight are cancelled too; any other is interrupted where it is (:class:`KeyboardInterrupt`).
The signals after it are ignored while the command shuts down, which is bounded, and until
the process has exited, so a second Ctrl-C never turns a clean stop into a traceback or
another exit code.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Coroutine, Iterator
from types import FrameType
from typing import Any, TypeVar

__all__ = ["Stop", "run"]

T = TypeVar("T")

_active: list[Stop] = []


class Stop:
    """Takes ``signals`` for as long as it is entered; records the first one received."""

    def __init__(self, *signals: signal.Signals) -> None:
        self.signals = signals
        """The signals taken on entering (:meth:`take` adds more)."""
        self.received: int | None = None
        """The signal that stopped the command, if one did."""
        self._cancel: Callable[[], object] | None = None
        self._previous: dict[int, Any] = {}

    def stopped(self) -> bool:
        """Whether a signal has stopped the command."""
        return self.received is not None

    def __enter__(self) -> Stop:
        self.take(*self.signals)
        _active.append(self)
        return self

    def take(self, *signals: signal.Signals) -> None:
        """Hold ``signals`` too, from now on; one ignored when the command started (as a
        shell script's background commands ignore SIGINT) stays ignored."""
        for signum in signals:
            with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
                if signum in self._previous or signal.getsignal(signum) is signal.SIG_IGN:
                    continue
                self._previous[signum] = signal.signal(signum, self._handle)

    def __exit__(self, *exc: object) -> None:
        _active.remove(self)
        for signum, handler in self._previous.items():
            # once stopped by a signal, the process is on its way out with the exit code it
            # chose: a late Ctrl-C must not change it (nor print a traceback) on the way
            signal.signal(signum, handler if self.received is None else signal.SIG_IGN)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            return  # stopping already; shutting down is bounded: let it finish
        self.received = signum
        if self._cancel is None:
            raise KeyboardInterrupt
        self._cancel()

    @contextlib.contextmanager
    def _cancelling(self, cancel: Callable[[], object]) -> Iterator[None]:
        """Stop by calling ``cancel`` instead of raising, within the block."""
        self._cancel = cancel
        try:
            yield
        finally:
            self._cancel = None


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())``; the command's stop signal cancels ``main``, which then raises
    :class:`KeyboardInterrupt` once everything it awaited is cancelled.

    A signal never interrupts the event loop's own set-up or tear-down (a loop half built
    by an interrupt fails again when collected, printing a traceback): it is noted, and the
    command stops as soon as the loop runs, or as it returns.
    """
    import asyncio

    stop = _active[-1] if _active else None
    if stop is None:
        return asyncio.run(main())
    cancels: list[Callable[[], object]] = []

    def cancel() -> None:
        for each in cancels:
            with contextlib.suppress(RuntimeError):  # the loop is closing: it stops anyway
                each()

    async def runner() -> T | None:
        task, loop = asyncio.current_task(), asyncio.get_running_loop()
        assert task is not None
        cancels.append(lambda: loop.call_soon_threadsafe(task.cancel))
        if stop.stopped():  # the signal came while the loop was being set up
            return None
        try:
            return await main()
        except asyncio.CancelledError:
            if not stop.stopped():
                raise
            return None

    with stop._cancelling(cancel):
        result = asyncio.run(runner())
    if stop.stopped():
        raise KeyboardInterrupt
    return result  # type: ignore[return-value]  # None only when stopped, raised above
