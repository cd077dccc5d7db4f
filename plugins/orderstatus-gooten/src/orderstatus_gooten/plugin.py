"""The ``orderstatus`` entry point: registers the Gooten provider and its sandbox."""

from __future__ import annotations

from collections.abc import Callable

import orderstatus

from .provider import GootenProvider
from .sandbox import GootenSandbox

__all__ = ["orderstatus_register_providers"]


@orderstatus.hookimpl
def orderstatus_register_providers(register: Callable[..., None]) -> None:
    """Register :class:`GootenProvider` with :class:`GootenSandbox` as its sandbox."""
    register(GootenProvider, sandbox=GootenSandbox)
