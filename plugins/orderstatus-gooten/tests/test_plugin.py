"""Registration through the entry point, settings, capabilities, and the docs page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from orderstatus_gooten import GootenProvider, GootenSandbox, GootenSettings, plugin

import orderstatus
from orderstatus import (
    Client,
    ConfigurationError,
    OrderState,
    Registry,
    default_registry,
)
from orderstatus.errors import FeedNotSupportedError

DOCS = Path(__file__).resolve().parents[3] / "docs" / "providers" / "gooten.md"


def test_the_entry_point_registers_provider_and_sandbox() -> None:
    registration = default_registry().registration("gooten")
    assert registration.provider is GootenProvider
    assert registration.sandbox is GootenSandbox


def test_the_plugin_module_registers_through_the_hook() -> None:
    registry = Registry()
    registry.add_plugin(plugin, "gooten")
    assert registry.names == ("gooten",)
    assert registry.failures == []


def test_the_plugin_uses_only_public_core_modules() -> None:
    package = Path(plugin.__file__).parent
    for source in package.glob("*.py"):
        for line in source.read_text().splitlines():
            if line.startswith(("from orderstatus", "import orderstatus")):
                module = line.split()[1]
                assert not any(part.startswith("_") for part in module.split(".")), line
                if module.startswith("orderstatus."):
                    assert module in ("orderstatus.provider", "orderstatus.errors",
                                      "orderstatus.lifecycle") or module.startswith(
                        "orderstatus.testing."), line


def test_from_env_reads_the_documented_variables(sandbox: GootenSandbox) -> None:
    environ = {
        "ORDERSTATUS_GOOTEN_RECIPE_ID": sandbox.recipe_id,
        "ORDERSTATUS_GOOTEN_PARTNER_BILLING_KEY": sandbox.partner_billing_key,
        "ORDERSTATUS_GOOTEN_BASE_URL": "http://127.0.0.1:9/api",
    }
    with Client.from_env(environ, transport=sandbox.transport()) as client:
        assert "gooten" in client.providers
        provider = client.provider("gooten")
        assert str(provider.base_url) == "http://127.0.0.1:9/api/"
        oid = sandbox.create_order()
        assert client.fetch("gooten", oid).state is OrderState.CREATED


def test_the_default_base_url_is_gootens() -> None:
    provider = GootenProvider(GootenSettings(recipe_id="r", partner_billing_key="k"))
    assert str(provider.base_url) == "https://api.print.io/api/"
    assert str(provider.build_fetch("7-1").url) == (
        "https://api.print.io/api/v/5/source/api/orders/?id=7-1&recipeid=r")
    assert str(provider.build_update("7-1", "Hold").url).startswith(
        "https://api.print.io/api/orderstatus?recipeid=r&partnerBillingKey=k&id=7-1&")


@pytest.mark.parametrize(
    "values",
    [{"recipe_id": "r"}, {"partner_billing_key": "k"},
     {"recipe_id": "", "partner_billing_key": "k"},
     {"recipe_id": "r", "partner_billing_key": " "},
     {"recipe_id": "r", "partner_billing_key": "k", "base_url": "http://api.print.io/api/"},
     {"recipe_id": "r", "partner_billing_key": "k", "colour": "blue"}],
)
def test_bad_settings_are_configuration_errors(values: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        Client({"gooten": values})


def test_capabilities() -> None:
    caps = GootenProvider.capabilities
    assert (caps.fetch, caps.update, caps.webhook, caps.feed) == (True, True, True, False)


def test_there_is_no_feed(sandbox: GootenSandbox) -> None:
    with Client({"gooten": sandbox.settings("http://127.0.0.1/")},
                transport=sandbox.transport()) as client, pytest.raises(FeedNotSupportedError):
        client.feed("gooten")
    assert sandbox.requests == []


def test_the_docs_page_generates_its_tables_from_the_plugin() -> None:
    page = DOCS.read_text()
    for marker in ("native-statuses", "payment-statuses", "update-rules"):
        assert f"\n<!-- orderstatus:{marker} gooten -->\n" in page
    for variable in ("RECIPE_ID", "PARTNER_BILLING_KEY", "BASE_URL"):
        assert f"ORDERSTATUS_GOOTEN_{variable}" in page
    for unmapped in ("VendorAPIIssue", "Billed Refunded", "ReadyForImageDI"):
        assert unmapped in page


@pytest.mark.parametrize("page", [DOCS, Path(plugin.__file__).parents[2] / "README.md"])
def test_the_sandbox_examples_run_as_written(page: Path) -> None:
    blocks = re.findall(r"^```python\n(.*?)^```$", page.read_text(), re.S | re.M)
    (example,) = [b for b in blocks if "GootenSandbox()" in b]
    namespace: dict[str, Any] = {}
    exec(compile(example, str(page), "exec"), namespace)
    client = namespace["client"]
    assert client.fetch("gooten", namespace["order_id"]).state in (
        OrderState.IN_PRODUCTION, OrderState.CREATED)
    client.close()


def test_the_core_version_is_the_one_required() -> None:
    assert orderstatus.__version__ >= "0.1"
