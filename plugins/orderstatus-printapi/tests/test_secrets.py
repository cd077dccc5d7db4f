"""No credential or access token in any error, repr, URL or log line."""

from __future__ import annotations

import logging
from urllib.parse import quote, quote_plus

import pytest

from orderstatus.errors import OrderStatusError

WRONG = "Wr0ng+secret/&=value"


def forms(secret):
    return {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}


def failures(api, sandbox):
    """Run calls that fail in different ways; return the errors."""
    order_id = sandbox.create_order()
    form = {"content-type": "application/x-www-form-urlencoded"}

    def outage():
        sandbox.faults.inject("status", status=500, times=4, path="/orders/")
        api.fetch(order_id)

    def refused():
        sandbox.refuse_tokens = True
        try:
            api.fetch(order_id)
        finally:
            sandbox.refuse_tokens = False

    calls = [
        lambda: api.fetch("99999999"),
        lambda: api.update(order_id, "cancelled"),
        lambda: api.handle_webhook(b"orderId=1&s=" + sandbox.client_secret.encode(), form),
        outage,
        refused,
    ]
    errors = []
    for call in calls:
        with pytest.raises(OrderStatusError) as caught:
            call()
        errors.append(caught.value)
    return errors


def test_credentials_never_leak(connect, sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    api = connect()
    api.fetch(sandbox.create_order())
    errors = failures(api, sandbox)
    wrong = connect(client_secret=WRONG)
    with pytest.raises(OrderStatusError) as caught:
        wrong.fetch(sandbox.create_order())
    errors.append(caught.value)

    assert "HTTP Request" in caplog.text  # httpx's own logging was captured
    provider = api.client.provider("printapi")
    shown = [caplog.text, repr(api.client), repr(provider), repr(provider.settings),
             repr(provider.auth())]
    for error in errors:
        shown += [str(error), repr(error), error.args[0], str(getattr(error, "url", ""))]
    text = "\n".join(shown)
    for secret in (sandbox.client_secret, WRONG, *sandbox.tokens):
        for form in forms(secret):
            assert form not in text, f"{form!r} leaked"
