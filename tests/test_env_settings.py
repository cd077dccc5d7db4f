"""Settings from environment variables: strict booleans, and misspelt variables refused.

``"false"`` must never read as ``True``, and ``ORDERSTATUS_GOOTEN_BASEURL`` must never be
silently ignored (the client would send sandbox credentials to production).
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from orderstatus_fakeshop import FakeshopProvider, FakeshopSettings

from orderstatus import Client, ConfigurationError, Registry, hookimpl
from orderstatus.settings import parse_bool, settings_from_environ

SECRET = "s3cret-Value-42"


@attrs.frozen
class FlagSettings(FakeshopSettings):
    verify: bool = True
    """A boolean setting, as a third-party provider may have."""
    live: bool | None = None


def _provider(provider_name: str, settings: type[Any] = FakeshopSettings) -> type[Any]:
    return type(f"P_{provider_name}", (FakeshopProvider,), {
        "name": provider_name, "title": provider_name, "settings_class": settings,
    })


def registry(*names: str, settings: type[Any] = FakeshopSettings) -> Registry:
    """A registry of fakeshop-like providers called ``names``."""

    class Plugin:
        @hookimpl
        def orderstatus_register_providers(self, register: Any) -> None:
            for name in names:
                register(_provider(name, settings))

    found = Registry()
    found.add_plugin(Plugin(), "test")
    assert found.names == tuple(sorted(names))
    return found


def from_env(environ: dict[str, str], *names: str, settings: type[Any] = FakeshopSettings
             ) -> Client:
    return Client.from_env(environ, registry=registry(*names, settings=settings))


@pytest.mark.parametrize(("text", "value"), [
    *[(t, True) for t in ("true", "True", "TRUE", "1", "yes", "Yes", "on", "ON", " true ")],
    *[(t, False) for t in ("false", "False", "FALSE", "0", "no", "NO", "off", "Off", "false\n")],
])
def test_boolean_variables_are_read_strictly(text: str, value: bool) -> None:
    client = from_env({"ORDERSTATUS_FLAGSHOP_API_KEY": "k", "ORDERSTATUS_FLAGSHOP_VERIFY": text,
                       "ORDERSTATUS_FLAGSHOP_LIVE": text}, "flagshop", settings=FlagSettings)
    settings = client.provider("flagshop").settings
    assert (settings.verify, settings.live) == (value, value)


@pytest.mark.parametrize("text", ["flase", "2", "-1", "y", "n", "t", "enabled", "true1", "nope",
                                  SECRET])
def test_anything_else_names_the_variable_never_the_value(text: str) -> None:
    environ = {"ORDERSTATUS_FLAGSHOP_API_KEY": SECRET, "ORDERSTATUS_FLAGSHOP_VERIFY": text}
    with pytest.raises(ConfigurationError) as caught:
        from_env(environ, "flagshop", settings=FlagSettings)
    message = str(caught.value)
    assert message == ("flagshop: invalid settings: invalid value, expected true or false "
                       "(or 1/0, yes/no, on/off) @ ORDERSTATUS_FLAGSHOP_VERIFY")
    assert SECRET not in message


def test_settings_mappings_read_booleans_strictly_too() -> None:
    reg = registry("flagshop", settings=FlagSettings)
    for given, value in ((False, False), ("off", False), (1, True), ("yes", True)):
        client = Client({"flagshop": {"api_key": "k", "verify": given}}, registry=reg)
        assert client.provider("flagshop").settings.verify is value
    for wrong in ("maybe", 2, 0.5, [], None):
        with pytest.raises(ConfigurationError, match=r"expected true or false .* settings\.verify"):
            Client({"flagshop": {"api_key": "k", "verify": wrong}}, registry=reg)


def test_parse_bool_is_the_one_rule() -> None:
    assert [parse_bool(v) for v in (True, 0, "On", " no ")] == [True, False, True, False]
    for wrong in ("", "tru", 3, None, b"true"):
        with pytest.raises(ValueError, match="not a boolean"):
            parse_bool(wrong)


def test_a_missing_variable_is_named() -> None:
    with pytest.raises(ConfigurationError) as caught:
        from_env({"ORDERSTATUS_FAKESHOP_BASE_URL": "http://127.0.0.1:1/"}, "fakeshop")
    assert str(caught.value) == (
        "fakeshop: invalid settings: required field missing @ ORDERSTATUS_FAKESHOP_API_KEY")


@pytest.mark.parametrize(("typo", "meant"), [
    ("ORDERSTATUS_FAKESHOP_BASEURL", "ORDERSTATUS_FAKESHOP_BASE_URL"),
    ("ORDERSTATUS_FAKESHOP_BASE_URI", "ORDERSTATUS_FAKESHOP_BASE_URL"),
    ("ORDERSTATUS_FAKESHOP_APIKEY", "ORDERSTATUS_FAKESHOP_API_KEY"),
    ("ORDERSTATUS_FAKESHOP_API_KEY_", "ORDERSTATUS_FAKESHOP_API_KEY"),
    ("ORDERSTATUS_FAKESHOP_base_url", "ORDERSTATUS_FAKESHOP_BASE_URL"),
    ("orderstatus_fakeshop_api_key", "ORDERSTATUS_FAKESHOP_API_KEY"),
    ("ORDERSTATUS_FAKESHOP_X", "ORDERSTATUS_FAKESHOP_API_KEY"),
])
def test_a_misspelt_variable_is_refused_naming_the_nearest(typo: str, meant: str) -> None:
    environ = {"ORDERSTATUS_FAKESHOP_API_KEY": "k", typo: SECRET}
    with pytest.raises(ConfigurationError) as caught:
        from_env(environ, "fakeshop")
    assert str(caught.value) == f"fakeshop: unknown variable {typo} (did you mean {meant}?)"


def test_every_misspelt_variable_is_named_at_once() -> None:
    environ = {"ORDERSTATUS_FAKESHOP_APIKEY": "k", "ORDERSTATUS_GOOD_BASEURL": "x"}
    with pytest.raises(ConfigurationError) as caught:
        from_env(environ, "fakeshop", "good")
    assert str(caught.value) == (
        "unknown variable ORDERSTATUS_FAKESHOP_APIKEY (did you mean ORDERSTATUS_FAKESHOP_API_KEY?)"
        "; unknown variable ORDERSTATUS_GOOD_BASEURL (did you mean ORDERSTATUS_GOOD_BASE_URL?)")


def test_empty_variables_count_as_unset_typos_included() -> None:
    assert from_env({"ORDERSTATUS_FAKESHOP_BASEURL": ""}, "fakeshop").providers == ()


def test_nested_provider_names_take_the_longest_prefix() -> None:
    """``ORDERSTATUS_FOO_BAR_API_KEY`` is ``foo_bar``'s ``api_key``, not ``foo``'s
    ``bar_api_key``; a typo is matched against both providers' settings."""
    client = from_env({"ORDERSTATUS_FOO_API_KEY": "a", "ORDERSTATUS_FOO_BAR_API_KEY": "b"},
                      "foo", "foo_bar")
    assert client.providers == ("foo", "foo_bar")
    assert client.provider("foo_bar").settings.api_key.reveal() == "b"
    with pytest.raises(ConfigurationError, match=(
            r"^foo_bar: unknown variable ORDERSTATUS_FOO_BAR_APIKEY "
            r"\(did you mean ORDERSTATUS_FOO_BAR_API_KEY\?\)$")):
        from_env({"ORDERSTATUS_FOO_BAR_APIKEY": "b"}, "foo", "foo_bar")
    with pytest.raises(ConfigurationError, match=r"did you mean ORDERSTATUS_FOO_BASE_URL\?"):
        from_env({"ORDERSTATUS_FOO_BASEURL": "b"}, "foo", "foo_bar")


def test_variables_of_orderstatus_itself_are_never_a_providers() -> None:
    """Even with providers named like them (``disable``, ``store``, ``debug``)."""
    environ = {"ORDERSTATUS_DISABLE_PLUGINS": "x", "ORDERSTATUS_STORE": "/tmp/s.sqlite3",
               "ORDERSTATUS_DEBUG": "1", "ORDERSTATUS_UNRELATED": "x",
               "ORDERSTATUS_NOTINSTALLED_BASEURL": "x"}
    assert from_env(environ, "disable", "store", "debug").providers == ()


def test_variables_of_a_blocked_plugin_are_left_alone() -> None:
    """A blocked ``fakeshop_eu`` (named like an installed ``fakeshop`` plus a suffix)."""
    blocked = registry("fakeshop")
    blocked.blocked = ("fakeshop_eu",)
    environ = {"ORDERSTATUS_FAKESHOP_EU_API_KEY": "k", "ORDERSTATUS_FAKESHOP_API_KEY": "k"}
    assert Client.from_env(environ, registry=blocked).providers == ("fakeshop",)
    with pytest.raises(ConfigurationError, match="unknown variable ORDERSTATUS_FAKESHOP_EU_API"):
        from_env(environ, "fakeshop")


def test_settings_from_environ_reads_only_set_providers() -> None:
    reg = registry("fakeshop", "good")
    found = settings_from_environ(reg, {"ORDERSTATUS_GOOD_API_KEY": "k"})
    assert list(found) == ["good"]
    assert found["good"].api_key.reveal() == "k"
