"""orderstatus provider plugin for Acme Print (an invented provider: the tutorial's example)."""

from __future__ import annotations

from .provider import AcmeProvider, AcmeSettings
from .sandbox import AcmeSandbox

__all__ = ["AcmeProvider", "AcmeSandbox", "AcmeSettings"]
