"""Every installed provider that ships a sandbox, for the suites that run against them all
(faults, hostile input, secrets)."""

from __future__ import annotations

from orderstatus import default_registry
from orderstatus.testing.sandbox import Sandbox

SANDBOXED = tuple(
    name for name in default_registry().names if default_registry().registration(name).sandbox
)
"""Names of the installed providers with a sandbox (fakeshop, printapi, gooten, …)."""
LOCAL = "http://127.0.0.1/"
"""Base URL given to in-process sandboxes (loopback, so plain http is allowed)."""


def new_sandbox(name: str) -> Sandbox:
    """A fresh sandbox of provider ``name``."""
    factory = default_registry().registration(name).sandbox
    assert factory is not None, f"{name} ships no sandbox"
    sandbox: Sandbox = factory()
    return sandbox
