"""The plugin module named by the ``orderstatus`` entry point: it registers Acme Print."""

from __future__ import annotations

import orderstatus
from orderstatus.hookspecs import Register

from .provider import AcmeProvider


@orderstatus.hookimpl
def orderstatus_register_providers(register: Register) -> None:
    """Register Acme Print; its sandbox (test code) is imported only when one is asked for."""
    register(AcmeProvider, sandbox="orderstatus_acme.sandbox:AcmeSandbox")
