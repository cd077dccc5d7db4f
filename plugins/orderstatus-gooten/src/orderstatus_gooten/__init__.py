"""Gooten for orderstatus: the provider, its settings and its sandbox.

Installing the distribution is enough: the ``orderstatus`` entry point registers the
``gooten`` provider, so ``orderstatus.Client({"gooten": {...}})`` finds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .provider import GootenProvider, GootenSettings
from .statuses import NATIVE_STATUSES, PAYMENT_STATUSES, UNMAPPED, UPDATE_RULES, native_key

if TYPE_CHECKING:  # the sandbox is test code: imported on first use only
    from .sandbox import GootenSandbox

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


def __getattr__(name: str) -> object:
    if name == "GootenSandbox":
        from .sandbox import GootenSandbox

        return GootenSandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
