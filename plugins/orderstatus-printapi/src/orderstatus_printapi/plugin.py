"""The ``orderstatus`` entry point: registers the Print API provider and its sandbox."""

from __future__ import annotations

import orderstatus
from orderstatus.hookspecs import Register

from .provider import PrintApiProvider

__all__ = ["orderstatus_register_providers"]


@orderstatus.hookimpl
def orderstatus_register_providers(register: Register) -> None:
    """Register ``printapi``; its sandbox is imported only when one is asked for."""
    register(PrintApiProvider, sandbox="orderstatus_printapi.sandbox:PrintApiSandbox")
