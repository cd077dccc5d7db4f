"""Building a provider's settings from a mapping or from environment variables.

Settings values (and the environment) travel :class:`Sealed` until they are structured into a
settings class, whose credentials are :class:`~orderstatus.Secret`: each public entry seals
what it is given first thing, so no frame a :class:`ConfigurationError` passes through holds a
readable credential in a local variable (error trackers record them), and the error is raised
from outside the ``except`` that caught the converter's error, so nothing chains to it.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .errors import ConfigurationError
from .models import Secret

if TYPE_CHECKING:
    import cattrs

    from .plugins import Registry

__all__ = [
    "CORE_VARIABLES",
    "Sealed",
    "env_names",
    "parse_bool",
    "secret_values",
    "settings_from_env",
    "settings_from_environ",
    "settings_from_mapping",
]

CORE_VARIABLES = frozenset({
    "ORDERSTATUS_DEBUG",  # the command: tracebacks for unexpected errors
    "ORDERSTATUS_DISABLE_PLUGINS",  # plugins.DISABLE_ENV: plugins not to load
    "ORDERSTATUS_STORE",  # the command: the tracker's store
})
"""Variables orderstatus itself reads: never a provider's setting, whatever its name."""

class Sealed:
    """A mapping of settings (or of environment variables) that shows nothing of itself.

    Not a :class:`~collections.abc.Mapping`, so that neither ``repr`` nor a tracker walking
    a frame's locals reads into it; :meth:`open` is called only in expressions.
    """

    __slots__ = ("_values",)

    def __init__(self, values: object) -> None:
        self._values: object = values.open() if isinstance(values, Sealed) else values

    def open(self) -> Any:
        """What was sealed."""
        return self._values

    def part(self, key: str) -> Sealed:
        """The value under ``key``, sealed."""
        return Sealed(self._values[key])  # type: ignore[index]

    def __repr__(self) -> str:
        return "<sealed>"


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def parse_bool(value: object) -> bool:
    """A boolean setting: a bool, ``0``/``1``, or ``true``/``false``, ``yes``/``no``,
    ``on``/``off``, ``1``/``0`` as text (any case, surrounding blanks ignored).

    Raises:
        ValueError: anything else (``"flase"`` is a mistake, not ``True``).
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
    raise ValueError("not a boolean")


@functools.cache
def _converter() -> cattrs.Converter:
    """The converter for user settings: unknown keys refused (built on first use)."""
    import cattrs

    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(Secret, lambda value, _: Secret(value))
    converter.register_structure_hook(bool, lambda value, _: parse_bool(value))
    return converter


def settings_from_mapping(provider: str, cls: type[Any], values: Any) -> Any:
    """Structure ``values`` (a mapping, or already a ``cls``; maybe :class:`Sealed`) into
    ``cls``.

    Unknown keys are refused; no value is ever echoed in an error.
    """
    values = Sealed(values)
    return _structure(provider, cls, values, {})


def _structure(provider: str, cls: type[Any], values: Sealed, names: Mapping[str, str]) -> Any:
    """:func:`settings_from_mapping`, its errors naming field ``f`` as ``names[f]`` if given."""
    if isinstance(values.open(), cls):
        return values.open()
    if not isinstance(values.open(), Mapping):
        raise ConfigurationError(
            f"settings must be a mapping, not {type(values.open()).__name__}", provider=provider
        )
    import cattrs

    try:
        return _converter().structure(dict(values.open()), cls)
    except cattrs.BaseValidationError as err:
        problems = "; ".join(
            _located(line, names)
            for line in cattrs.transform_error(err, path="settings", format_exception=_describe)
        )
        error = ConfigurationError(f"invalid settings: {problems}", provider=provider)
    except (TypeError, ValueError) as err:
        error = ConfigurationError(f"invalid settings: {type(err).__name__}", provider=provider)
    raise error  # here, not in the except: the converter's error (and its frames) stay out


def _located(problem: str, names: Mapping[str, str]) -> str:
    """``… @ settings.field``, the field called ``names[field]`` (its variable) when named."""
    text, sep, field = problem.rpartition(" @ settings.")
    return f"{text} @ {names[field]}" if sep and field in names else problem


def _describe(error: BaseException, expected: Any) -> str:
    """One problem, naming the field's expected type but never the value given."""
    if isinstance(error, KeyError):
        return "required field missing"
    extra = getattr(error, "extra_fields", None)
    if extra is not None:
        return f"extra fields found ({', '.join(sorted(extra))})"
    if expected is bool:
        return "invalid value, expected true or false (or 1/0, yes/no, on/off)"
    choices = getattr(expected, "__args__", None) if expected is not None else None
    if choices and all(isinstance(c, str) for c in choices):
        return f"invalid value, expected one of {', '.join(choices)}"
    name = getattr(expected, "__name__", None) or "another value"
    return f"invalid value, expected {name}"


def env_names(provider: str, cls: type[Any]) -> dict[str, str]:
    """Field -> environment variable: ``client_id`` -> ``ORDERSTATUS_PRINTAPI_CLIENT_ID``."""
    prefix = _prefix(provider)
    return {f.name: prefix + f.name.upper() for f in attrs.fields(cls)}


def _prefix(provider: str) -> str:
    return f"ORDERSTATUS_{provider.upper()}_"


def settings_from_env(provider: str, cls: type[Any], environ: Mapping[str, str] | Sealed
                      ) -> Any | None:
    """Settings from ``environ``, or ``None`` when none of the provider's variables is set.

    Errors name the variables (``ORDERSTATUS_PRINTAPI_CLIENT_ID``), never their values.
    """
    environ = Sealed(environ)
    names = env_names(provider, cls)
    values = Sealed({field: environ.open()[var] for field, var in names.items()
                     if environ.open().get(var)})
    if not values.open():
        return None
    return _structure(provider, cls, values, names)


def settings_from_environ(registry: Registry, environ: Mapping[str, str] | Sealed | None = None
                          ) -> dict[str, Any]:
    """Settings of every provider in ``registry`` with ``ORDERSTATUS_<PROVIDER>_*`` set.

    A set variable that begins like an installed provider's (``ORDERSTATUS_GOOTEN_``) but is
    none of its settings (``ORDERSTATUS_GOOTEN_BASEURL``) is refused with a
    :class:`ConfigurationError` naming the nearest valid one: a misspelt ``BASE_URL`` must not
    send sandbox credentials to production. Where provider names nest (``foo``, ``foo_bar``),
    a variable belongs to the longest; variables of blocked or broken plugins, and
    :data:`CORE_VARIABLES`, are left alone. ``environ`` defaults to :data:`os.environ`.
    """
    import os

    environ = Sealed(os.environ if environ is None else environ)
    names = {
        name: env_names(name, registry.provider(name).settings_class) for name in registry.names
    }
    _refuse_unknown(environ, names, {*registry.blocked, *(f.plugin for f in registry.failures)})
    found = {}
    for name in registry.names:
        settings = settings_from_env(name, registry.provider(name).settings_class, environ)
        if settings is not None:
            found[name] = settings
    return found


def _refuse_unknown(
    environ: Sealed, names: Mapping[str, Mapping[str, str]], elsewhere: set[str]
) -> None:
    """Raise for set variables that look like a provider's in ``names`` but are not."""
    valid = {var for variables in names.values() for var in variables.values()}
    owners = sorted({*names, *elsewhere}, key=len, reverse=True)  # the longest prefix first
    unknown = []
    for var in sorted(environ.open()):
        upper = var.upper()
        if not environ.open()[var] or var in valid or upper in CORE_VARIABLES:
            continue
        owner = next((p for p in owners if upper.startswith(_prefix(p))), None)
        if owner is None or owner not in names:
            continue  # not a provider's, or one that is not loaded
        candidates = [v for p, variables in names.items() if upper.startswith(_prefix(p))
                      for v in variables.values()]
        nearest = difflib.get_close_matches(upper, candidates, n=1, cutoff=0)[0]
        unknown.append((owner, f"unknown variable {var} (did you mean {nearest}?)"))
    if unknown:
        raise ConfigurationError(
            "; ".join(text for _, text in unknown),
            provider=unknown[0][0] if len({o for o, _ in unknown}) == 1 else None,
        )


def secret_values(settings: Any) -> tuple[str, ...]:
    """Every non-empty :class:`~orderstatus.Secret` value of an attrs settings object."""
    values = (getattr(settings, f.name) for f in attrs.fields(type(settings)))
    return tuple(v.reveal() for v in values if isinstance(v, Secret) and v.reveal())
