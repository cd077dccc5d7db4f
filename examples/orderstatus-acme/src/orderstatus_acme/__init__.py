"""orderstatus provider plugin for Acme Print (an invented provider: the tutorial's example)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .provider import AcmeProvider, AcmeSettings

if TYPE_CHECKING:  # the sandbox is test code: imported on first use only
    from .sandbox import AcmeSandbox

__all__ = ["AcmeProvider", "AcmeSandbox", "AcmeSettings"]


def __getattr__(name: str) -> object:
    if name == "AcmeSandbox":
        from .sandbox import AcmeSandbox

        return AcmeSandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
