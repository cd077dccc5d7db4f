"""Settings, base URLs and ``Retry-After`` values of any shape: typed refusals only."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from orderstatus import Client, ConfigurationError
from orderstatus.retry import parse_retry_after

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
