"""Plain http only on loopback, and no way to turn TLS verification off, for every provider."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import attrs
import pytest

from orderstatus import AsyncClient, Client, ConfigurationError, default_registry
from tests.providers import LOCAL, SANDBOXED, new_sandbox

INSECURE_KEYS = ("verify", "verify_ssl", "ssl_verify", "tls_verify", "insecure", "ssl",
                 "cert", "ca_bundle", "trust_env", "http2", "proxy", "transport")


@pytest.fixture(params=SANDBOXED)
def settings(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return str(request.param), new_sandbox(str(request.param)).settings(LOCAL)


@pytest.mark.parametrize("url", [
    "http://example.com/", "http://api.example.com:8080/v1/", "http://10.0.0.1/",
    "http://192.168.1.10/", "http://[2001:db8::1]/", "http://localhost.evil.example/",
    "http://127.0.0.1.nip.io/", "http://0x7f000001/", "HTTP://EXAMPLE.COM/",
])
def test_plain_http_to_a_remote_host_is_refused(
    settings: tuple[str, dict[str, Any]], url: str
) -> None:
    provider, values = settings
    with pytest.raises(ConfigurationError, match="plain http is refused"):
        Client({provider: {**values, "base_url": url}})


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://127.8.9.10:8000/x/", "http://[::1]:9/", "http://localhost/",
    "https://api.example.com/",
])
def test_loopback_http_and_https_are_accepted(
    settings: tuple[str, dict[str, Any]], url: str
) -> None:
    provider, values = settings
    with Client({provider: {**values, "base_url": url}}) as client:
        assert client.provider(provider).base_url.host


@pytest.mark.parametrize("key", INSECURE_KEYS)
@pytest.mark.parametrize("value", [False, "false", 0, "0"])
def test_no_setting_turns_verification_off(
    settings: tuple[str, dict[str, Any]], key: str, value: Any
) -> None:
    provider, values = settings
    with pytest.raises(ConfigurationError, match=r"extra fields|invalid settings"):
        Client({provider: {**values, key: value}})


def test_no_settings_field_looks_like_a_tls_switch() -> None:
    for name in SANDBOXED:
        fields = {f.name for f in attrs.fields(default_registry().provider(name).settings_class)}
        assert not fields & set(INSECURE_KEYS), name


@pytest.mark.parametrize("option", ["verify", "cert", "trust_env", "http2", "proxy", "mounts"])
def test_the_clients_take_no_tls_options(settings: tuple[str, dict[str, Any]],
                                         option: str) -> None:
    provider, values = settings
    with pytest.raises(TypeError):
        Client({provider: values}, **{option: False})
    with pytest.raises(TypeError):
        AsyncClient({provider: values}, **{option: False})


def test_the_real_transport_verifies_certificates_and_hostnames(
    settings: tuple[str, dict[str, Any]]
) -> None:
    provider, values = settings
    remote = {**values, "base_url": "https://api.example.com/"}
    with Client({provider: remote}) as client:
        context = client._client_for(provider)._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname

    async def async_context() -> ssl.SSLContext:
        async with AsyncClient({provider: remote}) as client:
            http = client._client_for(provider)
            return http._transport._pool._ssl_context  # type: ignore[attr-defined,no-any-return]

    context = asyncio.run(async_context())
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
