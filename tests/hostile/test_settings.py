"""Settings, environment variables (misspelt ones too), base URLs and ``Retry-After`` values of
any shape: typed refusals only, never echoing a value."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from orderstatus import Client, ConfigurationError, default_registry
from orderstatus.retry import parse_retry_after
from orderstatus.settings import CORE_VARIABLES, env_names

from .conftest import HOSTILE
from .strategies import header_text, json_values

urls = st.one_of(
    st.text(max_size=40),
    st.sampled_from(("http://example.com/", "ftp://127.0.0.1/", "http://user:pw@127.0.0.1/",
                     "https://", "//127.0.0.1/", "http://[::1]/", "http://127.0.0.1:99999/",
                     "http://localhost.evil.example/", "http://127.0.0.1.nip.io/",
                     "javascript:alert(1)", "https://exa mple.com/", "http://0x7f000001/")),
)


@HOSTILE
@given(values=st.dictionaries(st.text(max_size=12), json_values, max_size=4) | json_values)
def test_any_settings_build_a_client_or_raise_configuration_error(
    provider: str, values: Any
) -> None:
    error = None
    try:
        Client({provider: values}).close()
    except ConfigurationError as err:
        error = err
    assert error is None or "\n" not in str(error)


@HOSTILE
@given(url=urls)
def test_any_base_url_is_accepted_only_if_safe(provider: str, url: str) -> None:
    from tests.providers import new_sandbox

    settings = new_sandbox(provider).settings("http://127.0.0.1/")
    try:
        client = Client({provider: {**settings, "base_url": url}})
    except ConfigurationError:
        return
    base = client.provider(provider).base_url
    client.close()
    assert base.scheme == "https" or base.host in ("127.0.0.1", "::1", "localhost")
    assert not base.userinfo


@HOSTILE
@given(value=header_text | st.none())
def test_any_retry_after_is_seconds_or_none(value: str | None) -> None:
    seconds = parse_retry_after(value)
    assert seconds is None or (seconds >= 0 and math.isfinite(seconds))


def _installed_variables() -> dict[str, dict[str, str]]:
    registry = default_registry()
    return {n: env_names(n, registry.provider(n).settings_class) for n in registry.names}


@st.composite
def typos(draw: st.DrawFn, name: str, prefix: str) -> str:
    """``name`` with one slip of the finger after ``prefix``: a character dropped, doubled,
    swapped, replaced or added, or the case changed."""
    rest = name[len(prefix):]
    at = draw(st.integers(0, len(rest) - 1))
    other = draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789"))
    slips = {
        "drop": rest[:at] + rest[at + 1:],
        "double": rest[:at] + rest[at] + rest[at:],
        "swap": rest[:at] + rest[at + 1:at + 2] + rest[at:at + 1] + rest[at + 2:],
        "replace": rest[:at] + other + rest[at + 1:],
        "add": rest[:at] + other + rest[at:],
        "lower": rest.lower(),
    }
    return prefix + draw(st.sampled_from(sorted(slips.items())))[1]


MARKED = st.text(min_size=1, max_size=20).map(lambda t: "\u2603" + t)
"""Values that cannot occur in any message by chance."""


@HOSTILE
@given(data=st.data(), value=MARKED)
def test_a_misspelt_variable_is_refused_naming_a_real_one(
    provider: str, data: st.DataObject, value: str
) -> None:
    installed = _installed_variables()
    valid = {v for names in installed.values() for v in names.values()}
    meant = data.draw(st.sampled_from(sorted(installed[provider].values())))
    typo = data.draw(typos(meant, f"ORDERSTATUS_{provider.upper()}_"))
    assume(typo not in valid and typo.upper() not in CORE_VARIABLES)
    with pytest.raises(ConfigurationError) as caught:
        Client.from_env({typo: value})
    message = str(caught.value)
    assert "\n" not in message
    assert "\u2603" not in message
    suggested = re.fullmatch(rf"{provider}: unknown variable {re.escape(typo)} "
                             r"\(did you mean (\w+)\?\)", message)
    assert suggested is not None, message
    assert suggested[1] in valid


@HOSTILE
@given(data=st.data())
def test_any_values_from_the_environment_configure_or_are_refused_unseen(
    provider: str, data: st.DataObject
) -> None:
    names = sorted(_installed_variables()[provider].values())
    environ = data.draw(st.dictionaries(st.sampled_from(names), MARKED, min_size=1))
    error = None
    try:
        Client.from_env(environ).close()
    except ConfigurationError as err:
        error = str(err)
    assert error is None or ("\u2603" not in error and "\n" not in error)
