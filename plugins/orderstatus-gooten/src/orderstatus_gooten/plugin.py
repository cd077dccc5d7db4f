"""The ``orderstatus`` entry point: registers the Gooten provider and its sandbox."""

from __future__ import annotations

from collections.abc import Callable

import orderstatus

from .provider import GootenProvider

__all__ = ["orderstatus_register_providers"]


@orderstatus.hookimpl
def orderstatus_register_providers(register: Callable[..., None]) -> None:
    """Register :class:`GootenProvider`; its sandbox is imported only when one is asked for."""
    register(GootenProvider, sandbox="orderstatus_gooten.sandbox:GootenSandbox")
