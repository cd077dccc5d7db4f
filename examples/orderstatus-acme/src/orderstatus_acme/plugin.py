"""The plugin module named by the ``orderstatus`` entry point: it registers Acme Print."""

from __future__ import annotations

import orderstatus
from orderstatus.hookspecs import Register

from .provider import AcmeProvider
from .sandbox import AcmeSandbox


@orderstatus.hookimpl
def orderstatus_register_providers(register: Register) -> None:
    """Register Acme Print and its sandbox."""
    register(AcmeProvider, sandbox=AcmeSandbox)
