"""orderstatus-printapi: the Print API (printapi.nl) provider for orderstatus, and its sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .auth import ClientCredentialsAuth
from .provider import PrintApiProvider
from .settings import BASE_URLS, PrintApiSettings
from .statuses import NATIVE_STATUSES, PAYMENT_STATUSES, item_status, native_key
from .timestamps import format_provider_time, parse_provider_time

if TYPE_CHECKING:  # the sandbox is test code: imported on first use only
    from .sandbox import PrintApiSandbox

__version__ = "0.1.0"

__all__ = [
    "BASE_URLS",
    "NATIVE_STATUSES",
    "PAYMENT_STATUSES",
    "ClientCredentialsAuth",
    "PrintApiProvider",
    "PrintApiSandbox",
    "PrintApiSettings",
    "__version__",
    "format_provider_time",
    "item_status",
    "native_key",
    "parse_provider_time",
]


def __getattr__(name: str) -> object:
    if name == "PrintApiSandbox":
        from .sandbox import PrintApiSandbox

        return PrintApiSandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
