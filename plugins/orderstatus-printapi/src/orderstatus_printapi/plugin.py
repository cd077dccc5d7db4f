"""The ``orderstatus`` entry point: registers the Print API provider and its sandbox."""

from __future__ import annotations

import orderstatus
from orderstatus.hookspecs import Register

from .provider import PrintApiProvider
from .sandbox import PrintApiSandbox

__all__ = ["orderstatus_register_providers"]


@orderstatus.hookimpl
def orderstatus_register_providers(register: Register) -> None:
    """Register ``printapi`` with its sandbox."""
    register(PrintApiProvider, sandbox=PrintApiSandbox)
