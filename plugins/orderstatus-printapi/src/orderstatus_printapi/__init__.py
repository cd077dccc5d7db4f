"""orderstatus-printapi: the Print API (printapi.nl) provider for orderstatus, and its sandbox."""

from __future__ import annotations

from .auth import ClientCredentialsAuth
from .provider import PrintApiProvider
from .sandbox import PrintApiSandbox
from .settings import BASE_URLS, PrintApiSettings
from .statuses import NATIVE_STATUSES, PAYMENT_STATUSES, item_status, native_key
from .timestamps import format_provider_time, parse_provider_time

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
