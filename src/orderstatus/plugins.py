"""Finding plugins, isolating broken ones, and the registry of providers they bring."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import pluggy

from . import hookspecs
from .errors import ConfigurationError, UnknownProviderError
from .lifecycle import ActionReason, OrderState
from .models import StatusChange
from .provider import NativeStatus, Provider

__all__ = [
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "PluginFailure",
    "Registration",
    "Registry",
    "default_registry",
]

log = logging.getLogger("orderstatus")

ENTRY_POINT_GROUP = "orderstatus"
DISABLE_ENV = "ORDERSTATUS_DISABLE_PLUGINS"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@attrs.frozen
class PluginFailure:
    """A plugin that could not be loaded or could not register, and why."""

    plugin: str
    reason: str


@attrs.frozen
class Registration:
    """One registered provider."""

    provider: type[Provider]
    plugin: str
    sandbox: Callable[[], Any] | None = None


class Registry:
    """The plugin manager and every provider the plugins registered.

    Build one with :meth:`load` (entry points) or empty and add plugin objects with
    :meth:`add_plugin`; clients use :func:`default_registry` unless given one.
    """

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("orderstatus")
        self.pm.add_hookspecs(hookspecs)
        self._registrations: dict[str, Registration] = {}
        self._conflicts: dict[str, list[str]] = {}
        self.failures: list[PluginFailure] = []
        self.blocked: tuple[str, ...] = ()

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> Registry:
        """Load every plugin of the ``orderstatus`` entry-point group, minus blocked ones."""
        from importlib.metadata import entry_points

        environ = os.environ if environ is None else environ
        registry = cls()
        registry.blocked = tuple(
            sorted(n.strip() for n in environ.get(DISABLE_ENV, "").split(",") if n.strip())
        )
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in registry.blocked:
                continue
            try:
                plugin = ep.load()
            except Exception as err:  # a broken plugin must not break the others
                registry._fail(ep.name, f"import failed: {type(err).__name__}: {err}")
                continue
            registry.add_plugin(plugin, ep.name)
        return registry

    def add_plugin(self, plugin: object, name: str) -> None:
        """Register one plugin object and the providers it brings; failures are recorded."""
        try:
            self.pm.register(plugin, name=name)
        except Exception as err:
            self._fail(name, f"invalid plugin: {type(err).__name__}: {err}")
            return
        for impl in self.pm.hook.orderstatus_register_providers.get_hookimpls():
            if impl.plugin is plugin:
                self._call_register(impl.function, name)

    def _call_register(self, function: Callable[..., Any], plugin: str) -> None:
        added: list[Registration] = []

        def register(provider: type[Provider], *, sandbox: Any = None) -> None:
            _validate_provider(provider)
            if sandbox is not None and not callable(sandbox):
                raise TypeError("sandbox must be callable without arguments")
            added.append(Registration(provider, plugin, sandbox))

        try:
            function(register=register)
        except Exception as err:
            self._fail(plugin, f"registration failed: {type(err).__name__}: {err}")
            self.pm.unregister(name=plugin)
            return
        for registration in added:
            name = registration.provider.name
            if name in self._registrations or name in self._conflicts:
                owners = self._conflicts.setdefault(name, [])
                previous = self._registrations.pop(name, None)
                if previous is not None:
                    owners.append(previous.plugin)
                owners.append(plugin)
                self._fail(plugin, f"provider {name!r} is also registered by {owners[0]!r}")
            else:
                self._registrations[name] = registration

    def _fail(self, plugin: str, reason: str) -> None:
        log.warning("orderstatus plugin %r disabled: %s", plugin, reason)
        self.failures.append(PluginFailure(plugin, " ".join(reason.split())))

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the usable providers, sorted."""
        return tuple(sorted(self._registrations))

    def registration(self, name: str) -> Registration:
        """Return the registration of provider ``name``."""
        if name in self._conflicts:
            raise ConfigurationError(
                f"provider {name!r} is registered by several plugins: "
                f"{', '.join(self._conflicts[name])}; block one with {DISABLE_ENV}"
            )
        try:
            return self._registrations[name]
        except KeyError:
            known = ", ".join(self.names) or "none"
            raise UnknownProviderError(
                f"no provider named {name!r} is installed (installed: {known})"
            ) from None

    def provider(self, name: str) -> type[Provider]:
        """Return the provider class registered as ``name``."""
        return self.registration(name).provider

    def map_override(
        self, provider: str, native_status: str
    ) -> tuple[OrderState, ActionReason | None] | None:
        """Ask ``orderstatus_map_status`` hooks for an override of one native status."""
        result = self.pm.hook.orderstatus_map_status(provider=provider, native_status=native_status)
        if result is None:
            return None
        state, reason = result if isinstance(result, tuple) else (result, None)
        return OrderState(state), (ActionReason(reason) if reason is not None else None)

    @property
    def has_map_overrides(self) -> bool:
        """Whether any plugin implements ``orderstatus_map_status``."""
        return bool(self.pm.hook.orderstatus_map_status.get_hookimpls())

    def notify(self, change: StatusChange) -> None:
        """Tell every ``orderstatus_status_changed`` hook; a failing hook is logged, not raised."""
        for impl in self.pm.hook.orderstatus_status_changed.get_hookimpls():
            try:
                impl.function(change=change)
            except Exception:
                log.exception("orderstatus_status_changed hook of %r failed", impl.plugin_name)


def _validate_provider(provider: type[Provider]) -> None:
    if not (isinstance(provider, type) and issubclass(provider, Provider)):
        raise TypeError(f"{provider!r} is not a subclass of orderstatus.Provider")
    name = getattr(provider, "name", None)
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"provider name {name!r} must be lowercase letters, digits or _")
    if not provider.native_statuses:
        raise ValueError(f"provider {name!r} declares no native statuses")
    keys: dict[str, str] = {}
    for native, mapped in provider.native_statuses.items():
        if not isinstance(mapped, NativeStatus) or mapped.state is OrderState.UNKNOWN:
            raise ValueError(f"{name}: {native!r} must map to a known NativeStatus")
        key = provider.native_key(native)
        if key in keys and provider.native_statuses[keys[key]] != mapped:
            raise ValueError(f"{name}: {native!r} and {keys[key]!r} normalise alike but differ")
        keys[key] = native
    rules = provider.update_rules
    if rules is not None:
        unknown = [s for s in rules.sources if provider.native_key(s) not in keys]
        if unknown:
            raise ValueError(f"{name}: update sources {unknown} are not native statuses")


_default: Registry | None = None
_default_lock = threading.Lock()


def default_registry(*, reload: bool = False) -> Registry:
    """The registry of installed plugins, loaded once per process."""
    global _default
    with _default_lock:
        if _default is None or reload:
            _default = Registry.load()
        return _default
