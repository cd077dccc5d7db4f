"""Exit codes, the command's own error, and how library errors map to exit codes."""

from __future__ import annotations

import contextlib
import signal
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from orderstatus.errors import OrderStatusError

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PROVIDER",
    "EXIT_USAGE",
    "CommandError",
    "exit_code_for",
    "stop_on_sigterm",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_PROVIDER = 4
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A failure the command reports as one line, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def exit_code_for(error: OrderStatusError) -> int:
    """The documented exit code for a library error."""
    from orderstatus import errors as e

    if isinstance(error, (e.ConfigurationError, e.AuthenticationError)):
        return EXIT_CONFIG
    if isinstance(error, e.InvalidOrderIdError):
        return EXIT_USAGE
    if isinstance(error, (e.OrderNotFoundError, e.UpdateRejectedError)):
        return EXIT_FAILED
    if isinstance(error, (e.ProviderError, e.OutcomeUnknownError)):
        return EXIT_PROVIDER
    return EXIT_FAILED


def stop_on_sigterm() -> None:
    """Make SIGTERM stop a long-running command like Ctrl-C does."""

    def interrupt(signum: int, frame: object) -> NoReturn:
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not in the main thread
        signal.signal(signal.SIGTERM, interrupt)
