"""No configured credential, raw or URL-encoded, in any error, repr, traceback or log record.

Runs for every installed provider with a sandbox, sync and async, in-process and over
loopback HTTP, with DEBUG logging on for every logger (httpx and httpcore included).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from orderstatus import (
    Client,
    ConfigurationError,
    OrderState,
    OrderStatusError,
    default_registry,
)
from orderstatus.testing.asgi import serve
from orderstatus.testing.sandbox import Sandbox
from tests.chains import texts_of
from tests.conftest import Api
from tests.providers import LOCAL, SANDBOXED, new_sandbox

WRONG = "Wr0ng+cred/&=%2Fvalue"


def forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}


def credentials(provider: str, settings: dict[str, Any]) -> set[str]:
    """Every form of every credential the provider declares in ``settings``."""
    with Client({provider: settings}) as client:
        secrets = client.provider(provider).secrets()
    assert secrets, f"{provider} declares no credential to protect"
    return {form for secret in secrets for form in forms(secret)}


def wrong(provider: str, settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` with every credential replaced by a wrong one."""
    cls = default_registry().provider(provider).settings_class
    import attrs

    from orderstatus import Secret

    secret_fields = {f.name for f in attrs.fields(cls) if f.type in (Secret, "Secret")}
    return {k: (WRONG if k in secret_fields else v) for k, v in settings.items()}


def scenarios(api: Api, sandbox: Sandbox, provider: str) -> Iterator[Callable[[], object]]:
    """Calls that fail (or succeed) in every way the client knows."""
    capabilities = default_registry().provider(provider).capabilities
    order_id = sandbox.create_order()
    secret = next(iter(credentials(provider, sandbox.settings(LOCAL))))
    faults: list[dict[str, Any]] = [
        {"kind": "status", "status": 500, "times": 10},
        {"kind": "status", "status": 404},
        {"kind": "rate_limit", "retry_after": 999},
        {"kind": "malformed", "times": 10}, {"kind": "not_json", "times": 10},
        {"kind": "html", "times": 10}, {"kind": "reset", "times": 10},
        {"kind": "timeout", "delay": 0.01, "times": 10},
    ]
    for fault in faults:
        def faulty(fault: dict[str, Any] = fault) -> object:
            with sandbox.faults.during(**fault):
                return api.fetch(provider, order_id)
        yield faulty
    yield lambda: api.fetch(provider, "no-such-order")
    yield lambda: api.fetch(provider, secret)
    yield lambda: api.fetch(provider, "../" + secret)
    yield lambda: api.fetch_many([(provider, "missing-1"), (provider, order_id),
                                  (provider, "a/b"), ("nobody", "x")])
    yield lambda: api.update(provider, order_id, "flying")
    yield lambda: api.update(provider, order_id, OrderState.DELIVERED)
    for body, query in ((secret.encode(), {"orderid": secret}), (b"orderId=" + secret.encode(),
                        "orderid=" + quote(secret)), (b'{"order": "%s"}' % secret.encode(), "")):
        for content_type in ("application/json", "application/x-www-form-urlencoded"):
            yield lambda body=body, query=query, content_type=content_type: api.handle_webhook(
                provider, body=body, headers={"content-type": content_type,
                                              "x-token": secret}, query=query)
    if capabilities.feed:
        def feed_outage() -> object:
            with sandbox.faults.during("status", status=503, times=10):
                return api.feed(provider)
        yield feed_outage
    if capabilities.update:
        yield lambda: lost_update(api, sandbox, provider)


def lost_update(api: Api, sandbox: Sandbox, provider: str) -> object:
    """An update whose answer is lost, with every settling fetch failing too."""
    fresh = sandbox.create_order()
    with sandbox.faults.during("reset", method="POST"), \
            sandbox.faults.during("status", status=500, times=10, method="GET"):
        return api.update(provider, fresh, OrderState.CANCELLED)


def run_all(api: Api, sandbox: Sandbox, provider: str) -> list[str]:
    """Run every scenario; return every text they produced (errors and results)."""
    shown: list[str] = [repr(api.client), repr(api.client.provider(provider)),
                        repr(api.client.provider(provider).settings),
                        repr(api.client.provider(provider).auth())]
    errors = 0
    for scenario in scenarios(api, sandbox, provider):
        try:
            result = scenario()
        except OrderStatusError as err:
            errors += 1
            shown += texts_of(err)
        else:
            shown.append(repr(result))
            for item in result if isinstance(result, list) else []:
                error = getattr(item, "error", None)
                if error is not None:
                    shown += texts_of(error)
    assert errors >= 10, "the scenarios should fail in many ways"
    return shown


def assert_clean(texts: list[str], secrets: set[str]) -> None:
    """No form of any secret in any text, in any letter case (urls lowercase hosts)."""
    for text in texts:
        for form in secrets:
            assert form.casefold() not in text.casefold(), (
                f"credential form {form!r} leaked into: {text[:300]!r}")


def log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return [formatter.format(record) for record in caplog.records]


@pytest.fixture(params=SANDBOXED)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["in-process", "http"])
def where(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "orderstatus", "uvicorn"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_no_credential_anywhere(
    provider: str, kind: str, where: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    sandbox = new_sandbox(provider)
    secrets = credentials(provider, sandbox.settings(LOCAL))
    if where == "in-process":
        api = Api(kind, {provider: sandbox.settings(LOCAL)}, transport=sandbox.transport())
        texts = run_all(api, sandbox, provider)
        api.close()
    else:
        with serve(sandbox.asgi()) as url:
            api = Api(kind, {provider: sandbox.settings(url)}, timeout=2.0)
            texts = run_all(api, sandbox, provider)
            api.close()
    logs = log_texts(debug_logs)
    assert any("HTTP Request" in line for line in logs), "httpx logging was on"
    assert_clean(texts + logs, secrets)


def test_wrong_credentials_are_not_echoed(
    provider: str, kind: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    sandbox = new_sandbox(provider)
    settings = wrong(provider, sandbox.settings(LOCAL))
    secrets = credentials(provider, settings) | credentials(provider, sandbox.settings(LOCAL))
    api = Api(kind, {provider: settings}, transport=sandbox.transport())
    order_id = sandbox.create_order()
    texts: list[str] = []
    for call in (lambda: api.fetch(provider, order_id),
                 lambda: api.update(provider, order_id, OrderState.CANCELLED)):
        try:
            texts.append(repr(call()))
        except OrderStatusError as err:
            texts += texts_of(err)
    api.close()
    assert any("Error(" in text for text in texts), "wrong credentials are refused somewhere"
    assert_clean(texts + log_texts(debug_logs), secrets)


ALNUM = "S3cretAlnumValue9"
"""A credential that fits anywhere in a url (host, port, path), so a url echo would show it."""


@pytest.mark.parametrize("base_url", [
    "http://127.0.0.1:{secret}/", "http://{secret}.example/", "https://user:{secret}@x.example/",
    "ftp://127.0.0.1/{secret}", "{secret}", "https://[{secret}]/", "http://127.0.0.1/\x00{secret}",
])
def test_bad_settings_do_not_echo_credentials(provider: str, base_url: str) -> None:
    settings = new_sandbox(provider).settings(LOCAL)
    for value in (ALNUM, next(iter(credentials(provider, settings)))):
        mine = {k: (value if v in credentials(provider, settings) else v)
                for k, v in settings.items()}
        secrets = credentials(provider, mine)
        cases = [
            {**mine, "base_url": base_url.format(secret=value)},
            {**mine, "unknown_option": value},
            {**mine, **{k: 12345 for k, v in mine.items() if v == value}},
        ]
        for bad in cases:
            try:
                Client({provider: bad}).close()  # a provider may accept an odd but safe url
            except ConfigurationError as err:
                assert_clean(texts_of(err), secrets)
            else:
                assert bad is cases[0], "unknown keys and wrong types are refused"
