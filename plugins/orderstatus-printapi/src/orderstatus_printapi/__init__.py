"""orderstatus-printapi: the Print API (printapi.nl) provider for orderstatus, and its sandbox."""

from __future__ import annotations

from .auth import ClientCredentialsAuth
from .provider import PrintApiProvider
from .sandbox import PrintApiSandbox
from .settings import BASE_URLS, PrintApiSettings
from .timestamps import format_provider_time, parse_provider_time

__version__ = "0.1.0"

__all__ = [
    "BASE_URLS",
    "ClientCredentialsAuth",
    "PrintApiProvider",
    "PrintApiSandbox",
    "PrintApiSettings",
    "__version__",
    "format_provider_time",
    "parse_provider_time",
]
