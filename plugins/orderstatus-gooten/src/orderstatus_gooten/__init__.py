"""Gooten for orderstatus: the provider, its settings and its sandbox.

Installing the distribution is enough: the ``orderstatus`` entry point registers the
``gooten`` provider, so ``orderstatus.Client({"gooten": {...}})`` finds it.
"""

from __future__ import annotations

from .provider import GootenProvider, GootenSettings
from .sandbox import GootenSandbox
from .statuses import NATIVE_STATUSES, PAYMENT_STATUSES, UNMAPPED, UPDATE_RULES, native_key

__version__ = "0.1.0"

__all__ = [
    "NATIVE_STATUSES",
    "PAYMENT_STATUSES",
    "UNMAPPED",
    "UPDATE_RULES",
    "GootenProvider",
    "GootenSandbox",
    "GootenSettings",
    "__version__",
    "native_key",
]
