"""Building a provider's settings from a mapping or from environment variables."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .errors import ConfigurationError
from .models import Secret

if TYPE_CHECKING:
    import cattrs

__all__ = ["env_names", "secret_values", "settings_from_env", "settings_from_mapping"]


@functools.cache
def _converter() -> cattrs.Converter:
    """The converter for user settings: unknown keys refused (built on first use)."""
    import cattrs

    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(Secret, lambda value, _: Secret(value))
    return converter


def settings_from_mapping(provider: str, cls: type[Any], values: Any) -> Any:
    """Structure ``values`` (a mapping, or already a ``cls``) into ``cls``.

    Unknown keys are refused; no value is ever echoed in an error.
    """
    if isinstance(values, cls):
        return values
    if not isinstance(values, Mapping):
        raise ConfigurationError(
            f"settings must be a mapping, not {type(values).__name__}", provider=provider
        )
    import cattrs

    try:
        return _converter().structure(dict(values), cls)
    except cattrs.BaseValidationError as err:
        problems = "; ".join(
            cattrs.transform_error(err, path="settings", format_exception=_describe)
        )
        raise ConfigurationError(f"invalid settings: {problems}", provider=provider) from None
    except (TypeError, ValueError) as err:
        raise ConfigurationError(
            f"invalid settings: {type(err).__name__}", provider=provider
        ) from None


def _describe(error: BaseException, expected: Any) -> str:
    """One problem, naming the field's expected type but never the value given."""
    if isinstance(error, KeyError):
        return "required field missing"
    extra = getattr(error, "extra_fields", None)
    if extra is not None:
        return f"extra fields found ({', '.join(sorted(extra))})"
    choices = getattr(expected, "__args__", None) if expected is not None else None
    if choices and all(isinstance(c, str) for c in choices):
        return f"invalid value, expected one of {', '.join(choices)}"
    name = getattr(expected, "__name__", None) or "another value"
    return f"invalid value, expected {name}"


def env_names(provider: str, cls: type[Any]) -> dict[str, str]:
    """Field -> environment variable: ``client_id`` -> ``ORDERSTATUS_PRINTAPI_CLIENT_ID``."""
    prefix = f"ORDERSTATUS_{provider.upper()}_"
    return {f.name: prefix + f.name.upper() for f in attrs.fields(cls)}


def settings_from_env(provider: str, cls: type[Any], environ: Mapping[str, str]) -> Any | None:
    """Settings from ``environ``, or ``None`` when none of the provider's variables is set."""
    values = {
        field: environ[var] for field, var in env_names(provider, cls).items() if environ.get(var)
    }
    if not values:
        return None
    return settings_from_mapping(provider, cls, values)


def secret_values(settings: Any) -> tuple[str, ...]:
    """Every non-empty :class:`~orderstatus.Secret` value of an attrs settings object."""
    values = (getattr(settings, f.name) for f in attrs.fields(type(settings)))
    return tuple(v.reveal() for v in values if isinstance(v, Secret) and v.reveal())
