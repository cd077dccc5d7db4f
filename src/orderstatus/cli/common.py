"""Exit codes, the command's own error, and how library errors map to exit codes.

One home for each decision: :func:`exit_code_for` gives one error's code (the ``exit_code``
of a failed order in ``fetch --json``), :func:`exit_code_for_all` the code of a command that
had several failures (``fetch``, ``watch --once``), from theirs; the parser's epilog is
:data:`EXIT_CODES`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orderstatus.errors import OrderStatusError

__all__ = [
    "EXIT_CODES",
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PROVIDER",
    "EXIT_USAGE",
    "SEVERITY",
    "CommandError",
    "exit_code_for",
    "exit_code_for_all",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_PROVIDER = 4
EXIT_INTERRUPTED = 130

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "ok",
    EXIT_FAILED: "orders failed or update refused",
    EXIT_USAGE: "usage error",
    EXIT_CONFIG: "configuration error",
    EXIT_PROVIDER: "provider error",
    EXIT_INTERRUPTED: "interrupted",
}
"""Every exit code of the command, with a few words on what it means."""

SEVERITY = (EXIT_CONFIG, EXIT_PROVIDER, EXIT_USAGE, EXIT_FAILED)
"""Which failure's code a command with several exits with, most serious first: settings
that stop everything, then a provider to try again later, then input to fix, then orders
that failed on their own."""


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


def exit_code_for_all(errors: Iterable[OrderStatusError]) -> int:
    """The exit code of a command whose work failed with ``errors`` (``0`` for none): the
    most serious of their own codes, in the order of :data:`SEVERITY`."""
    codes = {exit_code_for(error) for error in errors}
    return next((code for code in SEVERITY if code in codes), EXIT_OK)
