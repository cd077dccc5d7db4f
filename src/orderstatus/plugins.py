"""Finding plugins, isolating broken ones, and the registry of providers they bring.

:class:`Registry` is a small facade over a :class:`pluggy.PluginManager` (project
``"orderstatus"``), in the order tox's plugin manager uses: names blocked by
``ORDERSTATUS_DISABLE_PLUGINS`` (``set_blocked``), then the ``orderstatus`` entry points, each
checked against the hook specifications (``check_pending``) as it is registered. A plugin that
fails to import, misspells a hook or fails to register is reported in :attr:`Registry.failures`
and the others still load.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from . import hookspecs
from .errors import ConfigurationError, UnknownProviderError
from .lifecycle import ActionReason, OrderState
from .models import StatusChange
from .provider import NativeStatus, Provider

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

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
_IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_OBSERVER_HOOK = "orderstatus_status_changed"


@attrs.frozen
class PluginFailure:
    """A plugin that could not be loaded or could not register, and why."""

    plugin: str
    reason: str
    distribution: str | None = None
    """The installed distribution that brought the plugin (``None``: added in code)."""
    version: str | None = None
    """That distribution's version."""


@attrs.frozen
class Registration:
    """One registered provider, and where its sandbox comes from."""

    provider: type[Provider]
    plugin: str
    sandbox_ref: str | Callable[[], Any] | None = None
    """As registered: an import path ``"package.module:Class"``, a callable, or ``None``."""
    distribution: str | None = None
    """The installed distribution that brought the plugin (``None``: added in code)."""
    version: str | None = None
    """That distribution's version."""

    @property
    def has_sandbox(self) -> bool:
        """Whether a sandbox is registered (without importing it)."""
        return self.sandbox_ref is not None

    @property
    def sandbox(self) -> Callable[[], Any] | None:
        """The sandbox factory (usually the sandbox class), imported on first use.

        Raises :class:`ConfigurationError` when the registered import path does not resolve.
        """
        ref = self.sandbox_ref
        if not isinstance(ref, str):
            return ref
        module, _, name = ref.partition(":")
        try:
            found: Any = importlib.import_module(module)
            for part in name.split("."):
                found = getattr(found, part)
        except Exception as err:  # a broken sandbox module must say which plugin brought it
            raise ConfigurationError(
                f"the sandbox {ref!r} of plugin {self.plugin!r} cannot be loaded: "
                f"{type(err).__name__}: {err}", provider=self.provider.name,
            ) from err
        if not callable(found):
            raise ConfigurationError(
                f"the sandbox {ref!r} of plugin {self.plugin!r} is not callable",
                provider=self.provider.name,
            )
        return found  # type: ignore[no-any-return]


class Registry:
    """The plugin manager and every provider the plugins registered.

    Build one with :meth:`load` (entry points) or empty and add plugin objects with
    :meth:`add_plugin`; clients use :func:`default_registry` unless given one. :attr:`pm` is
    the :class:`pluggy.PluginManager` itself: hook wrappers and
    ``pm.add_hookcall_monitoring`` see every hook call.
    """

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("orderstatus")
        self.pm.add_hookspecs(hookspecs)
        self._registrations: dict[str, Registration] = {}
        self._conflicts: dict[str, list[str]] = {}
        self._origins: dict[str, tuple[str | None, str | None]] = {}
        self.failures: list[PluginFailure] = []
        self.blocked: tuple[str, ...] = ()

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> Registry:
        """Load every plugin of the ``orderstatus`` entry-point group, minus blocked ones."""
        from importlib.metadata import entry_points

        environ = os.environ if environ is None else environ
        registry = cls()
        registry.block(n.strip() for n in environ.get(DISABLE_ENV, "").split(",") if n.strip())
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if registry.pm.is_blocked(ep.name):
                continue
            registry._origins[ep.name] = _origin(ep)
            try:
                plugin = ep.load()
            except Exception as err:  # a broken plugin must not break the others
                registry._fail(ep.name, f"import failed: {type(err).__name__}: {err}")
                continue
            registry.add_plugin(plugin, ep.name)
        return registry

    def block(self, names: Iterable[str]) -> None:
        """Never register plugins of these names (``ORDERSTATUS_DISABLE_PLUGINS``)."""
        names = list(names)
        for name in names:
            self.pm.set_blocked(name)
        self.blocked = tuple(sorted({*self.blocked, *names}))

    def add_plugin(self, plugin: object, name: str) -> None:
        """Register one plugin object and the providers it brings; failures are recorded.

        A blocked name is ignored; a hook the specifications do not know (a misspelling such
        as ``orderstatus_register_provider``) fails the plugin.
        """
        try:
            if self.pm.register(plugin, name=name) is None:
                return  # blocked
        except Exception as err:
            self._fail(name, f"invalid plugin: {type(err).__name__}: {err}")
            return
        if not self._check_pending(plugin):
            return
        for impl in self.pm.hook.orderstatus_status_changed.get_hookimpls():
            if impl.plugin is plugin and not (impl.wrapper or impl.hookwrapper):
                # pluggy stops a call at the first failing implementation: one observer's
                # failure must not silence the others, so each is isolated where it is called
                impl.function = _isolated(impl.function, name)  # type: ignore[misc]
        for impl in self.pm.hook.orderstatus_register_providers.get_hookimpls():
            if impl.plugin is plugin:
                self._call_register(impl.function, name)

    def _check_pending(self, plugin: object) -> bool:
        """``pm.check_pending()``: fail and unregister every plugin implementing a hook no
        specification knows; whether ``plugin`` passed."""
        while True:
            try:
                self.pm.check_pending()
                return True
            except pluggy.PluginValidationError as err:
                culprit = err.plugin
                name = self.pm.get_name(culprit) or repr(culprit)
                unknown = sorted(c.name for c in self.pm.get_hookcallers(culprit) or ()
                                 if not c.has_spec())
                self.pm.unregister(culprit)
                self._fail(name, f"unknown hook {', '.join(map(repr, unknown))}; the hooks "
                                 f"are {', '.join(_HOOKS)}")
                if culprit is plugin:
                    return False

    def _call_register(self, function: Callable[..., Any], plugin: str) -> None:
        added: list[Registration] = []
        distribution, version = self._origins.get(plugin, (None, None))

        def register(provider: type[Provider], *, sandbox: Any = None) -> None:
            _validate_provider(provider)
            _validate_sandbox(sandbox)
            added.append(Registration(provider, plugin, sandbox, distribution, version))

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
        distribution, version = self._origins.get(plugin, (None, None))
        self.failures.append(PluginFailure(plugin, " ".join(reason.split()), distribution, version))

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
        """Call the ``orderstatus_status_changed`` hook; nothing an observer raises escapes.

        A failing observer is logged and the others still hear the change; so is a failing
        hook wrapper, and the caller (the tracker) carries on.
        """
        try:
            self.pm.hook.orderstatus_status_changed(change=change)
        except Exception:
            log.exception("an orderstatus_status_changed hook wrapper failed")


_HOOKS = sorted(n for n in vars(hookspecs) if n.startswith("orderstatus_"))


def _isolated(function: Callable[..., Any], plugin: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def observe(*args: Any) -> None:
        try:
            function(*args)
        except Exception:
            log.exception("%s hook of %r failed", _OBSERVER_HOOK, plugin)

    return observe


def _origin(ep: EntryPoint) -> tuple[str | None, str | None]:
    """The distribution (name, version) an entry point comes from."""
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version


def _validate_sandbox(sandbox: object) -> None:
    if sandbox is None or callable(sandbox):
        return
    if isinstance(sandbox, str) and _IMPORT_PATH.match(sandbox):
        return
    raise TypeError(
        "sandbox must be an import path 'package.module:Class' or a callable without arguments"
    )


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
