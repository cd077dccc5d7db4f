"""The hooks a plugin may implement (pluggy project ``"orderstatus"``).

A plugin is any module or object with functions marked ``@orderstatus.hookimpl``, found through
the ``orderstatus`` entry-point group::

    [project.entry-points.orderstatus]
    acme = "orderstatus_acme.plugin"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    from .lifecycle import ActionReason, OrderState
    from .models import StatusChange
    from .provider import Provider

__all__ = ["Register", "hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker("orderstatus")
hookimpl = pluggy.HookimplMarker("orderstatus")


class Register(Protocol):
    """The callback handed to ``orderstatus_register_providers``."""

    def __call__(
        self, provider: type[Provider], *, sandbox: str | Callable[[], Any] | None = None
    ) -> None:
        """Register ``provider`` and, optionally, where its sandbox comes from.

        ``sandbox`` is an import path ``"package.module:Class"``, imported only when a
        sandbox is asked for (so a production process never imports test code), or any
        callable without arguments that returns a sandbox.
        """


@hookspec
def orderstatus_register_providers(register: Register) -> None:
    """Register the providers this plugin brings.

    Args:
        register: call ``register(ProviderClass, sandbox="package.sandbox:SandboxClass")``
            once per provider; ``sandbox`` is optional: an import path resolved on first use
            (preferred), or a callable without arguments.
    """


@hookspec
def orderstatus_status_changed(change: StatusChange) -> None:
    """Hear about every change a :class:`~orderstatus.Tracker` records, in its process.

    A best-effort notice: a process that dies between storing a change and calling this does
    not call it again. Read the store's change log (a consumer) for what must happen.

    Args:
        change: the change (see ``change.kinds``), after it is stored. Exceptions raised here
            are logged; they do not undo the change, nor keep the other observers from hearing
            it.
    """


@hookspec(firstresult=True)
def orderstatus_map_status(
    provider: str, native_status: str
) -> OrderState | tuple[OrderState, ActionReason | None] | None:
    """Override the mapping of one native status. Stops at first non-None result.

    Args:
        provider: the provider's name, e.g. ``"gooten"``.
        native_status: the status exactly as the provider sent it.

    Returns:
        A canonical state (optionally with a reason), or ``None`` to keep the provider's mapping.
    """
