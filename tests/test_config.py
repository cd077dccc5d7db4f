"""Building clients: settings, environment variables, base URLs, context managers."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from orderstatus_fakeshop import API_KEY, FakeshopSandbox

import orderstatus
from orderstatus import AsyncClient, Client, ConfigurationError, Secret, UnknownProviderError


def test_settings_are_structured_and_secrets_wrapped() -> None:
    client = Client({"fakeshop": {"api_key": "abcd1234"}})
    provider = client.provider("fakeshop")
    assert isinstance(provider.settings.api_key, Secret)
    assert "abcd1234" not in repr(provider.settings)
    assert str(provider.base_url) == "https://api.fakeshop.invalid/v1/"
    assert client.providers == ("fakeshop",)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"api_key": "k", "colour": "red"}, "colour"),
        ({}, "api_key"),
        ("not a mapping", "must be a mapping"),
        ({"api_key": "k", "base_url": "http://example.com/"}, "plain http is refused"),
        ({"api_key": "k", "base_url": "ftp://127.0.0.1/"}, "http\\(s\\) url"),
        ({"api_key": "k", "base_url": "https://user:pw@example.com/"}, "credentials"),
    ],
)
def test_bad_settings_raise_configuration_error(settings: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        Client({"fakeshop": settings})
    assert "pw@" not in str(caught.value)


def test_plain_http_is_accepted_on_loopback_only() -> None:
    for url in ("http://127.0.0.1:8000/", "http://localhost/", "http://[::1]:9/"):
        Client({"fakeshop": {"api_key": "k", "base_url": url}}).close()


def test_base_url_gets_a_trailing_slash() -> None:
    client = Client({"fakeshop": {"api_key": "k", "base_url": "https://proxy.example/v1"}})
    assert str(client.provider("fakeshop").base_url) == "https://proxy.example/v1/"


def test_unknown_provider_in_settings() -> None:
    with pytest.raises(UnknownProviderError, match="no provider named 'shopify'"):
        Client({"shopify": {}})


def test_from_env_configures_providers_with_variables() -> None:
    client = Client.from_env({"ORDERSTATUS_FAKESHOP_API_KEY": "from-env-key",
                              "ORDERSTATUS_FAKESHOP_BASE_URL": "http://127.0.0.1:1/v1/"})
    assert client.providers == ("fakeshop",)
    assert client.provider("fakeshop").settings.api_key.reveal() == "from-env-key"
    assert Client.from_env({}).providers == ()


def test_from_env_with_a_missing_variable_names_it() -> None:
    with pytest.raises(ConfigurationError, match="missing @ ORDERSTATUS_FAKESHOP_API_KEY"):
        Client.from_env({"ORDERSTATUS_FAKESHOP_BASE_URL": "http://127.0.0.1:1/v1/"})


def test_clients_are_context_managers(sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    settings = {"fakeshop": sandbox.settings("http://127.0.0.1/v1/")}
    with Client(settings, transport=sandbox.transport()) as client:
        assert client.fetch("fakeshop", order).order_id == order

    async def main() -> str:
        async with AsyncClient(settings, transport=sandbox.transport()) as client:
            return (await client.fetch("fakeshop", order)).order_id

    assert asyncio.run(main()) == order


def test_transport_per_provider(sandbox: FakeshopSandbox) -> None:
    order = sandbox.create_order()
    with Client({"fakeshop": sandbox.settings("http://127.0.0.1/v1/")},
                transport={"fakeshop": sandbox.transport()}) as client:
        assert client.fetch("fakeshop", order).order_id == order


def test_requests_carry_the_user_agent_and_encoded_ids() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "é-1", "items": []})

    with Client({"fakeshop": {"api_key": API_KEY}}, transport=httpx.MockTransport(handler)) as c:
        c.fetch("fakeshop", "é-1")
    assert seen[0].headers["user-agent"].startswith(f"orderstatus/{orderstatus.__version__} ")
    assert seen[0].url.raw_path.startswith(b"/v1/orders/%C3%A9-1?")


def test_limits_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="at least 1"):
        Client({"fakeshop": {"api_key": "k"}}, limits={"fakeshop": 0})


def test_repr_names_providers_only() -> None:
    client = Client({"fakeshop": {"api_key": "super-secret-value"}})
    assert repr(client) == "<Client providers=['fakeshop']>"
    assert "super-secret-value" not in repr(client.provider("fakeshop"))


def test_settings_errors_never_echo_the_value() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Client({"printapi": {"client_id": "id", "client_secret": "s3cret-value",
                             "environment": "s3cret-env"}})
    assert "s3cret" not in str(caught.value)
    assert "expected one of test, live @ settings.environment" in str(caught.value)
    with pytest.raises(ConfigurationError, match=r"expected Secret @ settings\.api_key"):
        Client({"fakeshop": {"api_key": 12345678}})
