"""Credentials never appear in errors, reprs, URLs or log records."""

from __future__ import annotations

import logging
import socket
from urllib.parse import quote, quote_plus

import pytest
from orderstatus_fakeshop import API_KEY, FakeshopSandbox

from orderstatus import OrderState, OrderStatusError, Secret

from .conftest import Api

FORMS = {API_KEY, quote(API_KEY, safe=""), quote_plus(API_KEY), quote(API_KEY)}


def _assert_clean(text: str) -> None:
    for form in FORMS:
        assert form not in text, f"credential form {form!r} leaked into {text!r}"


def _leaky_calls(api: Api, sandbox: FakeshopSandbox) -> list[OrderStatusError]:
    order = sandbox.create_order()
    errors: list[OrderStatusError] = []
    scenarios = [
        lambda: sandbox.faults.inject("status", status=500, times=10),
        lambda: sandbox.faults.inject("status", status=404),
        lambda: sandbox.faults.inject("rate_limit", retry_after=999),
        lambda: sandbox.faults.inject("malformed", times=10),
        lambda: sandbox.faults.inject("reset", times=10),
        lambda: sandbox.faults.inject("timeout", delay=0.01, method="POST"),
    ]
    for arrange in scenarios:
        sandbox.faults.clear()
        arrange()
        for call in (lambda: api.fetch("fakeshop", order),
                     lambda: api.update("fakeshop", order, OrderState.CANCELLED)):
            try:
                call()
            except OrderStatusError as err:
                errors.append(err)
    return errors


def test_no_error_carries_the_key(api: Api, sandbox: FakeshopSandbox,
                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors = _leaky_calls(api, sandbox)
    assert len(errors) >= 6
    for error in errors:
        _assert_clean(str(error))
        _assert_clean(repr(error))
        _assert_clean(repr(vars(error)))
        assert error.__cause__ is None or API_KEY not in str(error.__cause__)
    urls = [e.url for e in errors if getattr(e, "url", None)]
    # the key is added only as a request is sent (QueryAuth): no url an error carries has it
    assert urls and all("key=" not in u and "/orders/" in u for u in urls)
    for record in caplog.records:
        _assert_clean(record.getMessage())
    assert any("HTTP Request" in r.getMessage() for r in caplog.records)


def test_unreachable_host_error_is_clean(kind: str, sandbox: FakeshopSandbox) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = Api(kind, {"fakeshop": sandbox.settings(f"http://127.0.0.1:{port}/v1/")})
    with pytest.raises(OrderStatusError) as caught:
        api.fetch("fakeshop", "F-1")
    api.close()
    _assert_clean(str(caught.value) + repr(vars(caught.value)))


def test_secret_never_prints() -> None:
    secret = Secret("hunter2-password")
    assert str(secret) == "***"
    assert repr(secret) == "Secret('***')"
    assert f"{secret}" == "***"
    assert secret.reveal() == "hunter2-password"
    assert Secret(secret) == secret
    with pytest.raises(TypeError):
        Secret(42)  # type: ignore[arg-type]
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_child_loggers_are_scrubbed_too(sandbox: FakeshopSandbox,
                                        caplog: pytest.LogCaptureFixture) -> None:
    # a logger's filters never see its children's records: each one must be guarded itself
    plugin_log = logging.getLogger("orderstatus.fakeshop.review")
    from orderstatus import Client

    Client({"fakeshop": sandbox.settings("http://127.0.0.1/v1/")}).close()
    caplog.set_level(logging.DEBUG)
    for name in ("orderstatus.webhooks", "orderstatus.tracking", "orderstatus.watch"):
        logging.getLogger(name).warning("order %r failed: key=%s", "F-1", API_KEY)
    plugin_log.debug("token %s", quote(API_KEY, safe=""))
    assert len(caplog.records) == 4
    for record in caplog.records:
        _assert_clean(record.getMessage())
        assert "***" in record.getMessage()


def test_logged_tracebacks_are_scrubbed(sandbox: FakeshopSandbox,
                                        caplog: pytest.LogCaptureFixture) -> None:
    from orderstatus import Client

    Client({"fakeshop": sandbox.settings("http://127.0.0.1/v1/")}).close()
    caplog.set_level(logging.DEBUG)
    try:
        raise RuntimeError(f"request to https://x/?key={quote(API_KEY, safe='')} failed")
    except RuntimeError:
        logging.getLogger("orderstatus.webhooks").exception("receiver failed")
    assert "RuntimeError" in caplog.text
    _assert_clean(caplog.text)
